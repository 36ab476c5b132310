// Throwaway MariaDB servers in Docker, for machines without server binaries:
// the demo's second way. Driven through the docker command line (no extra
// dependency); the port is published on loopback only.
import { spawnSync } from 'node:child_process';
import { waitForServer } from './wait-for-server.js';
import { serverArgs, type LocalServerOptions } from './local-server.js';

export const DEMO_IMAGE = 'mariadb:lts';

function docker(args: string[]): { ok: boolean; out: string; err: string } {
  const r = spawnSync('docker', args, { encoding: 'utf8' });
  return { ok: r.status === 0, out: (r.stdout ?? '').trim(), err: (r.stderr ?? r.error?.message ?? '').trim() };
}

/** True when a Docker engine answers (the client alone is not enough). */
export function dockerAvailable(): boolean {
  return docker(['info', '--format', '{{.ServerVersion}}']).ok;
}

export class DockerServer {
  readonly host = '127.0.0.1';

  private constructor(
    private readonly id: string,
    readonly port: number,
  ) {}

  static async start(options: LocalServerOptions, image = DEMO_IMAGE): Promise<DockerServer> {
    const args = Object.entries(serverArgs('mariadb', options)).map(([k, v]) => `--${k}=${v}`);
    const run = docker(['run', '-d', '--rm', '-e', 'MARIADB_ALLOW_EMPTY_ROOT_PASSWORD=1', '-p', '127.0.0.1::3306', image, ...args]);
    if (!run.ok) throw new Error(`docker run ${image} failed: ${run.err}`);
    const id = run.out.split('\n').at(-1)!;
    const mapped = docker(['port', id, '3306/tcp']);
    const port = Number(/:(\d+)\s*$/m.exec(mapped.out)?.[1]);
    const server = new DockerServer(id, port);
    if (!mapped.ok || !port) {
      await server.destroy();
      throw new Error(`docker did not publish the port of ${image}: ${mapped.err}`);
    }
    await server.ready();
    return server;
  }

  /** The image initialises the server before it accepts connections: wait for that. */
  private async ready(): Promise<void> {
    try {
      await waitForServer(this.host, this.port, { timeoutMs: 180_000, intervalMs: 500 });
    } catch (error) {
      await this.destroy();
      throw error;
    }
  }

  async destroy(): Promise<void> {
    docker(['rm', '-f', this.id]);
  }
}
