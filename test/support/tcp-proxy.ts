// A loopback TCP proxy the tests put between binlog-sync and a server, to
// cut the network: `blackhole()` keeps every connection open but forwards
// nothing (a silent network cut, which only heartbeats reveal), `reset()`
// drops every connection at once, `restore()` forwards again.
import { createServer, connect, type Server, type Socket } from 'node:net';

export class TcpProxy {
  private readonly sockets = new Set<Socket>();
  private holding = false;
  /** Bytes per millisecond towards the client when throttled; 0 = full speed. */
  private rate = 0;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(targetHost: string, targetPort: number): Promise<TcpProxy> {
    // The connection handler needs the proxy, which needs the listening server: a holder breaks the cycle.
    const holder: { proxy?: TcpProxy } = {};
    const server = createServer((client) => {
      const proxy = holder.proxy!;
      const upstream = connect(targetPort, targetHost);
      for (const s of [client, upstream]) {
        proxy.sockets.add(s);
        s.on('close', () => proxy.sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      client.on('data', (d) => proxy.holding || upstream.write(d));
      upstream.on('data', (d: Buffer) => {
        if (proxy.holding) return;
        if (proxy.rate === 0) return void client.write(d);
        // Dribble it out in small pieces, so the client sees data arrive in bursts.
        upstream.pause();
        let offset = 0;
        const tick = setInterval(() => {
          client.write(d.subarray(offset, offset + proxy.rate));
          offset += proxy.rate;
          if (offset >= d.length) {
            clearInterval(tick);
            upstream.resume();
          }
        }, 1);
      });
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const address = server.address();
    holder.proxy = new TcpProxy(server, typeof address === 'object' && address ? address.port : 0);
    return holder.proxy;
  }

  /** Silently drop everything in both directions; connections stay open. */
  blackhole(): void {
    this.holding = true;
  }

  restore(): void {
    this.holding = false;
    this.rate = 0;
  }

  /** Passes at most `bytesPerMs` towards the client each millisecond. */
  throttle(bytesPerMs: number): void {
    this.rate = bytesPerMs;
  }

  /** Close every connection (like a server restart seen from the client). */
  reset(): void {
    for (const s of this.sockets) s.destroy();
  }

  async close(): Promise<void> {
    this.reset();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
