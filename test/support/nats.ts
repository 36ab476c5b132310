// A NATS server with JetStream for the relay's tests: started from the local
// `nats-server` binary on a free port with a store of its own (as the
// database servers are started, see servers.ts), or the one NATS_URL names
// (the tests then use stream names of their own on it).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, connect as tcpConnect } from 'node:net';
import { tempDir } from './context.js';

export interface TestNats {
  /** `nats://host:port`, without a stream. */
  url: string;
  /** The process id of the server started here (undefined for NATS_URL). */
  readonly pid: number | undefined;
  /** Stops the server started here (nothing for NATS_URL). */
  stop(): Promise<void>;
  /**
   * Stops the server started here with `signal` (SIGTERM: it shuts down in
   * order; SIGKILL: it dies), waits `downMs`, and starts it again on the same
   * port with the same JetStream store. Refused for NATS_URL.
   */
  restart(signal: 'SIGTERM' | 'SIGKILL', downMs?: number): Promise<void>;
}

const BINARIES = ['/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server'];

export const NO_NATS_HELP =
  'the relay tests need a NATS server with JetStream: install nats-server (Debian: apt-get install nats-server) or set NATS_URL=nats://host:port';

export async function startNats(): Promise<TestNats> {
  const binary = BINARIES.find((b) => existsSync(b));
  if (!binary) {
    if (process.env.NATS_URL) {
      return {
        url: process.env.NATS_URL.replace(/\/$/, ''),
        pid: undefined,
        stop: async () => undefined,
        restart: () => Promise.reject(new Error('a NATS server named by NATS_URL is not restarted by the tests')),
      };
    }
    throw new Error(NO_NATS_HELP);
  }
  const store = tempDir('binlog-sync-nats-');
  const port = await freePort();
  let log = '';
  const launch = async (): Promise<ChildProcess> => {
    const started = spawn(binary, ['-js', '-sd', store.path, '-a', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
    started.stderr!.setEncoding('utf8').on('data', (d: string) => (log = (log + d).slice(-4000)));
    await untilListening(port, started, () => log);
    return started;
  };
  const halt = async (signal: 'SIGTERM' | 'SIGKILL'): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
  };
  let child = await launch();
  return {
    url: `nats://127.0.0.1:${port}`,
    get pid() {
      return child.pid;
    },
    stop: async () => {
      await halt('SIGTERM');
      store.cleanup();
    },
    restart: async (signal, downMs = 0) => {
      await halt(signal);
      if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
      child = await launch();
    },
  };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function untilListening(port: number, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nats-server exited (${child.exitCode}): ${log()}`);
    const up = await new Promise<boolean>((resolve) => {
      const socket = tcpConnect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (up) return;
    if (Date.now() > deadline) throw new Error(`nats-server did not listen on ${port} within 15 s: ${log()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
