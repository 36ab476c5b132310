// Who runs a stream: the `start` (or `relay`, `replay`) process that holds a
// state file, as its runner row records it, and the health it publishes there
// every second for `status`. A runner holds the file while its heartbeat is
// fresh and, on this host, its process lives (state-store.ts takes and keeps
// the lease; this module says what a row means).
import { hostname as osHostname } from 'node:os';
import { errorCode } from './state-file.js';

/** What the running `start` knows of its own health, published every second for `status`. */
export interface RunnerHealth {
  /** The binlog stream is alive (an event or heartbeat within the silence window). */
  sourceConnected: boolean;
  /** Lag as the contract defines it; null when unknown (not streaming). */
  lagSeconds: number | null;
  /** Something received from the source is not applied yet. */
  pending?: boolean;
  /** The source's binlog position as far as the stream has seen (heartbeats included). */
  sourceFile: string | null;
  sourcePosition: number | null;
  /**
   * The source position through which everything the stream delivered is
   * applied and durable (the last time nothing was pending); absent until
   * then, and in what runners before it published. `wait` trusts this, never
   * sourceFile/sourcePosition, which may be ahead of what is applied.
   */
  appliedThroughFile?: string;
  appliedThroughPosition?: number;
  /** Source clock minus ours, measured at connect (ms). */
  clockOffsetMs: number | null;
  /** Retries since the last healthy session. */
  reconnects: number;
  /** Grouped, or careful for the next n transactions after a failure. */
  applyMode?: { kind: 'grouped' } | { kind: 'careful'; left: number };
  /**
   * What this run may use (BINLOG statements for row events, LOAD DATA, the
   * decoding thread); lost ones stay off until the next start. (binlogStatements
   * is absent in what a runner before it published.)
   */
  capabilities?: { binlogStatements?: boolean; loadData: boolean; decodeThread: boolean };
  /**
   * Replica tables (`db.table`) whose rows this run applied as SQL statements
   * although it applies row events with BINLOG statements (masked columns,
   * rows events of 8 MiB or more); sorted, at most 100.
   */
  sqlPathTables?: string[];
}

export interface RunnerInfo {
  pid: number;
  hostname: string;
  /** ISO 8601. */
  startedAt: string;
  /** ISO 8601. */
  heartbeatAt: string;
  /** Null until the runner has published it. */
  health: RunnerHealth | null;
}

/**
 * What a runner holds while it owns the state file: its pid and the epoch
 * (fencing token) it acquired. A later owner always has a larger epoch.
 */
export interface RunnerLease {
  pid: number;
  epoch: number;
}

/** How long a runner's heartbeat counts as fresh unless the caller says otherwise. */
export const DEFAULT_STALE_AFTER_MS = 15_000;

/** A runner's row in the state file, as read. */
export interface RunnerRow {
  pid: number;
  hostname: string;
  started_at: string;
  heartbeat_at: string;
  health?: string | null;
}

/**
 * True when `pid` is a live process on this host. `kill(pid, 0)` sends nothing;
 * EPERM means the process exists but belongs to someone else, so it is alive.
 */
export function isProcessAlive(pid: number): boolean {
  // 0 and negative pids address process groups, never a single runner.
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errorCode(error) === 'EPERM';
  }
}

export function runnerFromRow(row: RunnerRow): RunnerInfo {
  let health: RunnerHealth | null = null;
  try {
    health = row.health ? (JSON.parse(row.health) as RunnerHealth) : null;
  } catch {
    health = null; // a torn write is only a missed second of health
  }
  return { pid: row.pid, hostname: row.hostname, startedAt: row.started_at, heartbeatAt: row.heartbeat_at, health };
}

/**
 * Whether a recorded runner still holds the file: its heartbeat is fresh and,
 * when it ran on this host, its pid is alive. A runner on another host (a state
 * file on a shared disk) cannot be probed, so only its heartbeat decides.
 */
export function holdsFile(row: RunnerRow, staleAfterMs: number, now: number): boolean {
  const beat = Date.parse(row.heartbeat_at);
  // A future heartbeat (clock skew) counts as fresh; an unreadable one as stale.
  if (Number.isNaN(beat) || now - beat >= staleAfterMs) return false;
  if (row.hostname !== osHostname()) return true;
  return isProcessAlive(row.pid);
}

export function checkStaleAfter(staleAfterMs: number): void {
  if (!Number.isFinite(staleAfterMs) || staleAfterMs < 0) {
    throw new RangeError(`staleAfterMs must be a non-negative number of milliseconds, got ${staleAfterMs}`);
  }
}
