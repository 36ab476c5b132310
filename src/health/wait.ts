// The freshness barrier: read the source's current position, then wait until
// the replica has applied it. For test suites: `binlog-sync wait` in a shell,
// `waitForReplica()` from JavaScript.
import { parseConnectionUrl, type Endpoint } from '../config/connection-url.js';
import { BinlogPurgedError, BinlogSyncError } from '../errors.js';
import { compareFilePositions, formatPosition, type AppliedPosition, type BinlogPosition } from '../position.js';
import { connectSource, currentSourcePosition, readSourceInfo } from '../source/source-server.js';
import { StateStore, type RunnerInfo } from '../state/state-store.js';
import { gtidCovers } from '../txn/gtid-position.js';

/** `wait` ran out of time (or the replicator is not running). */
export class WaitTimeoutError extends BinlogSyncError {
  readonly code = 'WAIT_TIMEOUT';
}

export interface WaitForReplicaOptions {
  /** The source: a mysql:// URL or an endpoint (unused with `target`). */
  source?: string | Endpoint;
  /** What to wait for, when not the source's current position (`start --from`: the relay stream's last message). */
  target?: () => Promise<BinlogPosition>;
  /** Password when the URL holds none. */
  sourcePassword?: string;
  /** The state file of the running `binlog-sync start` (default ./binlog-sync.sqlite). */
  state?: string;
  /** Give up after this long (default 60 s). */
  timeoutMs?: number;
  /** How often the state file is read (default 25 ms). */
  pollMs?: number;
}

/** Has the replica applied everything up to `target`? */
export function hasApplied(applied: AppliedPosition | null, target: BinlogPosition, runner: RunnerInfo | null): boolean {
  if (applied) {
    const order = compareFilePositions(applied, target);
    if (order !== null && order >= 0) return true;
    if (applied.gtid && target.gtid && gtidCovers(applied.gtid, target.gtid)) return true;
  }
  // Idle after a binlog rotation: no transaction moved the stored position,
  // but the runner applied everything its stream delivered up to past the
  // target. Never what the stream has merely seen (sourceFile): a transaction
  // received may be rolled back and applied again (a retry, a reconnect),
  // and "nothing pending" right after a new stream began says nothing of it.
  const health = runner?.health;
  if (health?.appliedThroughFile !== undefined && health.appliedThroughPosition !== undefined) {
    const through = compareFilePositions({ file: health.appliedThroughFile, position: health.appliedThroughPosition, gtid: null }, target);
    if (through !== null && through >= 0) return true;
  }
  return false;
}

function toEndpoint(source: string | Endpoint, password: string | undefined): Endpoint {
  if (typeof source !== 'string') return source;
  const parsed = parseConnectionUrl(source, 'source');
  return { ...parsed, ...(password !== undefined ? { password } : {}), sslMode: 'PREFERRED' };
}

async function sourceNow(options: WaitForReplicaOptions): Promise<BinlogPosition> {
  if (!options.source) throw new Error('waitForReplica needs the source (or a target)');
  const conn = await connectSource(toEndpoint(options.source, options.sourcePassword));
  try {
    return await currentSourcePosition(conn, await readSourceInfo(conn));
  } finally {
    await conn.end().catch(() => undefined);
  }
}

/** Resolves with the position waited for once the replica has applied it; rejects with WaitTimeoutError. */
export async function waitForReplica(options: WaitForReplicaOptions): Promise<BinlogPosition> {
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  const state = StateStore.open(options.state ?? './binlog-sync.sqlite', { readonly: true });
  try {
    // (Read before the source's position: the source was at or past it then, unless its binlogs were reset.)
    const before = state.getPosition();
    const target = options.target ? await options.target() : await sourceNow(options);
    if (!options.target && before?.file && target.file && before.file !== target.file && (compareFilePositions(before, target) ?? 0) > 0) {
      throw new BinlogPurgedError(
        `the source is at ${formatPosition(target)}, before the replica's position ${formatPosition(before)}: ` +
          "the source's binlogs were reset (RESET MASTER), and what it logs now is not what the replica follows: " +
          'run `binlog-sync snapshot` to start over',
      );
    }
    for (;;) {
      const runner = state.activeRunner();
      if (hasApplied(state.getPosition(), target, runner)) return target;
      if (Date.now() >= deadline) {
        const why = runner ? 'the replica has not applied it yet' : 'binlog-sync start is not running on this state file';
        throw new WaitTimeoutError(`timed out waiting for the replica to apply ${formatPosition(target)}: ${why}`);
      }
      await new Promise((r) => setTimeout(r, Math.min(options.pollMs ?? 25, Math.max(1, deadline - Date.now()))));
    }
  } finally {
    state.close();
  }
}
