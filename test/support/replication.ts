// Running the real `binlog-sync start` against the test servers: set the
// position, start the process, wait until it has applied everything the
// source has written, stop or kill it, and compare databases exactly. Waits
// read what the process records (its state file, `status --json`), never the
// wording of its logs.
import { join } from 'node:path';
import type { Connection } from 'mysql2/promise';
import { expect } from 'vitest';
import { StateStore, type RunnerInfo } from '../../src/state/state-store.js';
import type { StatusReport } from '../../src/health/status.js';
import { compareFilePositions, type BinlogPosition } from '../../src/position.js';
import { adminConnection, runCli, spawnCli, tempDir, testServers, type CliResult } from './context.js';
import type { ServerInfo } from './servers.js';

export interface ReplicationOptions {
  databases: string[];
  /** Extra flags for `start`, e.g. ['--rewrite-db', 'a=b']. */
  args?: string[];
  source?: ServerInfo;
  replica?: ServerInfo;
  env?: Record<string, string>;
  /** `start`'s --log-level (default debug). */
  logLevel?: string;
}

export class Replication {
  readonly statePath: string;
  private child: ReturnType<typeof spawnCli> | undefined;
  private readonly cleanup: () => void;
  private readonly source: ServerInfo;
  private readonly replica: ServerInfo;

  constructor(private readonly options: ReplicationOptions) {
    const dir = tempDir('binlog-sync-repl-');
    this.statePath = join(dir.path, 'state.sqlite');
    this.cleanup = dir.cleanup;
    this.source = options.source ?? testServers().source;
    this.replica = options.replica ?? testServers().replica;
  }

  /** Where to connect and the state file: what `position set` needs. */
  get connectionArgs(): string[] {
    return ['--source', this.source.userUrl, '--replica', this.replica.userUrl, '--state', this.statePath];
  }

  /** Flags every `start` of this replication uses. */
  get commonArgs(): string[] {
    return [
      ...this.connectionArgs,
      '--databases',
      this.options.databases.join(','),
      ...(this.options.args ?? []),
    ];
  }

  async cli(args: string[], extraEnv: Record<string, string> = {}): Promise<CliResult> {
    return runCli(args, { env: { ...this.options.env, ...extraEnv } });
  }

  /** `position set --current`: replicate what the source writes from now on. */
  async setCurrentPosition(): Promise<void> {
    const result = await this.cli(['position', 'set', '--current', ...this.connectionArgs]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  }

  /** Starts `binlog-sync start` in the background. */
  start(): void {
    this.child = spawnCli(['start', ...this.commonArgs, '--log-level', this.options.logLevel ?? 'debug'], { env: { ...this.options.env } });
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get output(): CliResult | undefined {
    return this.child?.output();
  }

  /** Resolves once the running process streams from the source, as its state file says. */
  async streaming(timeoutMs = 30_000): Promise<void> {
    const child = this.child;
    if (!child) throw new Error('not started');
    await untilStreaming(this.statePath, child, timeoutMs);
  }

  /** The running process streams from the source now, as its state file says. */
  isStreaming(): boolean {
    return this.child !== undefined && isStreaming(this.statePath, this.child.pid);
  }

  /** What `binlog-sync status --json` reports from the state file (no --source: the source is not asked). */
  async status(): Promise<StatusReport> {
    const result = await this.cli(['status', '--json', '--state', this.statePath]);
    if (!result.stdout) throw new Error(`status --json printed nothing (exit ${result.code}):\n${result.stderr}`);
    return JSON.parse(result.stdout) as StatusReport;
  }

  /**
   * How many times the running process has started its session again
   * (`status --json` runner.reconnects): after a lost connection, and after a
   * commit group failed and its transactions were applied again one at a time.
   */
  async reconnects(): Promise<number> {
    const report = await this.status();
    if (!report.runner) throw new Error(`binlog-sync start is not running: ${JSON.stringify(report)}`);
    return report.runner.reconnects;
  }

  /** Graceful stop (SIGTERM); resolves with the process result. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<CliResult> {
    const child = this.child;
    if (!child) throw new Error('not started');
    if (child.exitCode === null && child.signalCode === null) {
      const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
      child.kill(signal);
      await closed;
    }
    this.child = undefined;
    return child.output();
  }

  /** SIGKILL: no chance to save anything. */
  async kill(): Promise<void> {
    await this.stop('SIGKILL');
  }

  /** Resolves when the process exits by itself. */
  async exited(timeoutMs = 30_000): Promise<CliResult> {
    const child = this.child;
    if (!child) throw new Error('not started');
    if (child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`binlog-sync start did not exit within ${timeoutMs} ms:\n${child.output().stderr.slice(-3000)}`)),
          timeoutMs,
        );
        child.once('close', () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    this.child = undefined;
    return child.output();
  }

  /** The id of this stream in the replica's binlog_sync.positions. */
  streamId(): string {
    const state = StateStore.open(this.statePath, { readonly: true });
    try {
      return state.streamId;
    } finally {
      state.close();
    }
  }

  /** The position stored in the state file. */
  storedPosition(): BinlogPosition | null {
    const state = StateStore.open(this.statePath, { readonly: true });
    try {
      return state.getPosition();
    } finally {
      state.close();
    }
  }

  /**
   * Waits until the replicator has applied everything the source had written
   * when this was called (the freshness barrier, as `wait` offers); resolves
   * with that source position.
   */
  async caughtUp(timeoutMs = 60_000): Promise<BinlogPosition> {
    const admin = await adminConnection('source', this.source);
    const target = await sourcePosition(admin);
    await admin.end();
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const stored = this.storedPosition();
      const order = stored ? compareFilePositions(stored, target) : null;
      if (order !== null && order >= 0) return target;
      const child = this.child;
      if (child && (child.exitCode !== null || child.signalCode !== null)) {
        throw new Error(`binlog-sync start exited (${child.exitCode ?? child.signalCode}) before catching up:\n${child.output().stderr.slice(-3000)}`);
      }
      if (Date.now() > deadline) {
        throw new Error(`not caught up within ${timeoutMs} ms: at ${JSON.stringify(stored)}, source at ${JSON.stringify(target)}`);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** Stops the process if it runs (SIGTERM) and removes the state folder: for afterAll. */
  async close(): Promise<void> {
    if (this.child) await this.stop().catch(() => undefined);
    this.dispose();
  }

  dispose(): void {
    if (this.child && this.child.exitCode === null) this.child.kill('SIGKILL');
    this.cleanup();
  }
}

/** The runner a state file records as holding it (alive, heartbeat fresh), as `status` reads it. */
export function activeRunner(statePath: string): RunnerInfo | null {
  const state = StateStore.open(statePath, { readonly: true });
  try {
    return state.activeRunner();
  } finally {
    state.close();
  }
}

/**
 * Process `pid` holds the state file and has published that its binlog stream
 * from the source is alive (`status --json`: runner.pid, runner.sourceConnected).
 */
export function isStreaming(statePath: string, pid: number | undefined): boolean {
  const runner = activeRunner(statePath);
  return runner !== null && runner.pid === pid && runner.health?.sourceConnected === true;
}

/**
 * Waits until a spawned `binlog-sync start` (or `relay`) streams, by its
 * state file (which a new one makes itself: read once it can be); fails at
 * once if it exits.
 */
export async function untilStreaming(statePath: string, child: ReturnType<typeof spawnCli>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const streaming = (): boolean => {
    try {
      return isStreaming(statePath, child.pid);
    } catch {
      return false; // (not made yet)
    }
  };
  while (!streaming()) {
    if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
      const how = child.exitCode !== null || child.signalCode !== null ? `exited (${child.exitCode ?? child.signalCode})` : `is not streaming after ${timeoutMs} ms`;
      throw new Error(`binlog-sync start ${how}:\n${child.output().stderr.slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function sourcePosition(admin: Connection): Promise<BinlogPosition> {
  const [rows] = await admin.query('SHOW MASTER STATUS');
  const row = (rows as Array<{ File: string; Position: number | string }>)[0]!;
  return { file: row.File, position: Number(row.Position), gtid: null };
}

/** Sets up a replication of the given databases from the source's current position and starts it. */
export async function startReplication(options: ReplicationOptions): Promise<Replication> {
  const replication = new Replication(options);
  await replication.setCurrentPosition();
  replication.start();
  return replication;
}
