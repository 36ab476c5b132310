// binlog-sync as a user runs it, from the built CLI (bin/binlog-sync.js): for
// each test a fresh state file at the source's current position, `start` in
// the background, `wait` as the freshness barrier, and `status --json` for
// how it ended. Passwords go through the environment, never the arguments.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { StateStore } from '../../src/state/state-store.js';
import type { StatusReport } from '../../src/health/status.js';
import { CLI, REPO_ROOT } from '../support/context.js';
import { APPLIER_PASSWORD, APPLIER_USER, REPL_PASSWORD, REPL_USER, type ManagedServer } from '../support/servers.js';
import type { FilePosition } from './servers.js';

export interface CliOutcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

export class BinlogSyncRun {
  private child: ChildProcess | undefined;
  private log: WriteStream | undefined;

  constructor(
    private readonly source: ManagedServer,
    private readonly replica: ManagedServer,
    readonly statePath: string,
    readonly logPath: string,
    private readonly databases: string[],
  ) {}

  private env(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('BINLOG_SYNC_')) env[k] = v;
    // BINLOG_SYNC_CORPUS_ROW_APPLIER=sql runs the corpus on the SQL row path.
    if (process.env.BINLOG_SYNC_CORPUS_ROW_APPLIER) env.BINLOG_SYNC_ROW_APPLIER = process.env.BINLOG_SYNC_CORPUS_ROW_APPLIER;
    return {
      ...env,
      BINLOG_SYNC_SOURCE: `mysql://${REPL_USER}@${this.source.info.host}:${this.source.info.port}`,
      BINLOG_SYNC_SOURCE_PASSWORD: REPL_PASSWORD,
      BINLOG_SYNC_REPLICA: `mysql://${APPLIER_USER}@${this.replica.info.host}:${this.replica.info.port}`,
      BINLOG_SYNC_REPLICA_PASSWORD: APPLIER_PASSWORD,
      BINLOG_SYNC_STATE: this.statePath,
    };
  }

  async cli(args: string[], timeoutMs = 60_000): Promise<CliOutcome> {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, env: this.env(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    clearTimeout(timer);
    return { code, stdout, stderr };
  }

  /** `position set --current`, then `start` in the background, its log to logPath. */
  async start(): Promise<void> {
    await this.setCurrentPosition();
    this.resume();
  }

  async setCurrentPosition(): Promise<void> {
    const set = await this.cli(['position', 'set', '--current']);
    if (set.code !== 0) throw new Error(`binlog-sync position set --current failed: ${set.stderr.trim().split('\n').pop()}`);
  }

  /** `start` from the stored position, in the background. */
  resume(): void {
    this.log = createWriteStream(this.logPath);
    const child = spawn(process.execPath, [CLI, 'start', '--databases', this.databases.join(','), '--log-level', 'info', '--log-format', 'json'], {
      cwd: REPO_ROOT,
      env: this.env(),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr!.pipe(this.log);
    this.child = child;
  }

  /** The last line `start` wrote when it exited without storing an error (an unexpected error). */
  exitMessage(): string | null {
    if (!this.exited || !this.log) return null;
    try {
      const lines = readFileSync(this.logPath, 'utf8').trim().split('\n');
      return lines[lines.length - 1]?.startsWith('binlog-sync:') ? lines[lines.length - 1]!.replace(/^binlog-sync: /, '') : null;
    } catch {
      return null;
    }
  }

  get exited(): boolean {
    return !this.child || this.child.exitCode !== null || this.child.signalCode !== null;
  }

  /** BINLOG or SQL, as the running process published it (runner.capabilities in `status --json`). */
  rowPath = 'unknown';

  /**
   * Whether everything up to `target` got applied: `binlog-sync wait` says so
   * (it knows about transactions of other databases, which move no stored
   * position), and where the stored position has reached the target's file,
   * it is at or past it too (issue 23 saw `wait` say so early, which would
   * hide a missing row from the oracle). Returns early when the process
   * stopped on an error.
   */
  async caughtUp(target: FilePosition, timeoutMs: number): Promise<boolean> {
    let done = false;
    const waited = this.cli(['wait', '--timeout', String(Math.ceil(timeoutMs / 1000))], timeoutMs + 10_000).finally(() => (done = true));
    while (!done) {
      const { stopped } = this.read();
      if (stopped || this.exited) return false;
      await new Promise((r) => setTimeout(r, 50));
    }
    if ((await waited).code !== 0) return false;
    const deadline = Date.now() + 2_000;
    for (;;) {
      const { position, stopped } = this.read();
      if (stopped) return false;
      const behind = position && position.file === target.file && position.position < target.position;
      if (!behind || Date.now() > deadline) return true;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** The process stored an error (it stops on it). */
  failed(): boolean {
    return this.read().stopped;
  }

  private read(): { position: FilePosition | null; stopped: boolean } {
    const state = StateStore.open(this.statePath, { readonly: true });
    try {
      const caps = state.activeRunner()?.health?.capabilities;
      if (caps?.binlogStatements !== undefined) this.rowPath = caps.binlogStatements ? 'binlog' : 'sql';
      const p = state.getPosition();
      const position = p && p.file && p.position !== null ? { file: p.file, position: p.position } : null;
      return { position, stopped: state.getLastError() !== null };
    } finally {
      state.close();
    }
  }

  async status(): Promise<StatusReport | null> {
    const result = await this.cli(['status', '--json']);
    try {
      return JSON.parse(result.stdout) as StatusReport;
    } catch {
      return null;
    }
  }

  /** SIGTERM, and SIGKILL after 15 s. */
  async stop(): Promise<void> {
    const child = this.child;
    if (child && !this.exited) {
      const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await closed;
      clearTimeout(timer);
    }
    await new Promise<void>((resolve) => (this.log ? this.log.end(() => resolve()) : resolve()));
    this.child = undefined;
  }
}

export function statePathFor(dir: string, n: number): string {
  return join(dir, `state-${n}.sqlite`);
}
