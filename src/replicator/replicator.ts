// The long-running core of `binlog-sync start`. It holds the state file's
// runner lock, keeps liveness and progress up to date, and runs sessions
// (session.ts): when one fails for a reason that may pass (a server restart,
// a network cut, a deadlock), it waits with backoff and starts another from
// the committed position, for as long as it takes. Starts once, stops once,
// through an AbortSignal.
import { hostname } from 'node:os';
import { ApplyMode } from '../apply/apply-mode.js';
import { RunCapabilities } from '../capabilities.js';
import { ApplyError, BinlogSyncError, CarefulRetryError, FencedError, describeError, isRetryable } from '../errors.js';
import { formatPosition, type BinlogPosition } from '../position.js';
import type { StateStore } from '../state/state-store.js';
import type { Logger } from '../log/logger.js';
import { backoffDelay, sleep, type BackoffOptions } from './backoff.js';
import { watchMemory } from './memory-budget.js';
import { runSession, type ReplicatorStats, type RunContext, type SessionOptions } from './session.js';
import type { Endpoint } from '../config/connection-url.js';
import type { NatsOptions } from '../relay/nats-stream.js';
import { StreamHealth } from '../health/stream-health.js';
import { RunnerFence } from './fence.js';
import { RunEvents } from './run-events.js';
import { decodeThreadWanted } from '../source/spare-thread.js';

export type { ReplicatorStats } from './session.js';

export interface ReplicatorOptions extends Omit<SessionOptions, 'source'> {
  /** The source: the binlog's, unless `from` is given (then optional, see stream-session.ts). */
  source?: Endpoint | undefined;
  /** `start --from`: apply from a relay's JetStream stream instead of the source's binlog. */
  from?: NatsOptions;
  /** How often progress is logged (default 10 s). */
  progressIntervalMs?: number;
  backoff?: BackoffOptions;
  /** Called once a second with the running totals (transactions and rows applied, position). */
  onProgress?: (stats: Readonly<ReplicatorStats>) => void;
  /** Where the run tells what happens (streaming, committed, mode, reconnect, stopped): see run-events.ts. */
  events?: RunEvents;
}

const LIVENESS_MS = 1000;
/** A session that lasted this long was healthy: the next failure starts the backoff afresh. */
const HEALTHY_SESSION_MS = 30_000;

/**
 * Runs until the signal aborts (resolves) or an error it cannot get past
 * (rejects; the error is recorded in the state with where it happened).
 * Failures before the first session streamed (a wrong host, password or
 * setting) are not retried: they are the user's to fix.
 */
export async function runReplicator(options: ReplicatorOptions): Promise<ReplicatorStats> {
  const { state, logger } = options;
  const fence = new RunnerFence(state, state.acquireRunner({ pid: process.pid, hostname: hostname() }));
  // Stops on the caller's signal, or at once when another runner takes over.
  const signal = AbortSignal.any([options.signal, fence.signal]);
  const stats: ReplicatorStats = { transactions: 0, rows: 0, position: state.getPosition() };
  const health = options.health ?? new StreamHealth();
  const run = createRunContext(fence, logger, stats, options.events);
  // Published with the runner's health for `status`.
  health.describeRun(run.mode, run.capabilities);
  // Told when careful mode begins (or begins again) and when it ends, not at every transaction between.
  let left = 0;
  run.mode.onChange((mode) => {
    const next = mode.kind === 'careful' ? mode.left : 0;
    if (next > left) logger.info({ mode }, `applying the next ${next} transactions one at a time`);
    else if (next === 0) logger.info({ mode }, 'applying in groups again');
    left = next;
    run.events.emit('mode', mode);
  });
  const session: ReplicatorOptions = { ...options, health, signal };
  const timers = [
    setInterval(() => {
      fence.heartbeat(health.snapshot());
      options.onProgress?.(stats);
    }, LIVENESS_MS),
    progressReporter(options, stats),
    watchMemory(),
  ];
  const begin = stats.position;
  let failure: string | null = null;
  state.addHistory({ event: 'start', file: begin?.file ?? null, position: begin?.position ?? null, gtid: begin?.gtid ?? null, detail: `pid ${process.pid}` });
  try {
    let attempt = 0;
    for (;;) {
      const started = Date.now();
      try {
        // (The stream's session, and the NATS client with it, loaded only for --from: a run from the source starts without them.)
        await (options.from ? (await import('./stream-session.js')).runStreamSession({ ...session, from: options.from }, run) : runSession(withSource(session), run));
        fence.check();
        return stats;
      } catch (error) {
        // The replica refused our epoch: another process owns the stream, whatever the state file says yet.
        if (error instanceof FencedError) fence.trip(error);
        fence.check();
        if (signal.aborted) return stats;
        options.metrics?.error(error instanceof BinlogSyncError ? error.code : 'INTERNAL');
        if (!run.streamed || !isRetryable(error)) throw error;
        if (Date.now() - started > HEALTHY_SESSION_MS || error instanceof CarefulRetryError) attempt = 0;
        attempt += 1;
        health.reconnects += 1;
        options.metrics?.reconnected();
        const delay = backoffDelay(attempt, Math.random(), options.backoff);
        // A regrouping says why: the error of the statement that failed.
        const cause = error instanceof CarefulRetryError && error.cause !== undefined ? { cause: describeError(error.cause) } : {};
        logger.warn({ attempt, delayMs: delay, error: describeError(error), ...cause }, `${describeError(error)}; retrying in ${(delay / 1000).toFixed(1)} s`);
        run.events.emit('reconnect', { attempt, delayMs: delay, error: describeError(error) });
        if (!(await sleep(delay, signal))) {
          fence.check();
          return stats;
        }
      }
    }
  } catch (error) {
    // A runner that lost the file records nothing in it: the file is the new runner's.
    if (error instanceof Error && !(error instanceof FencedError)) recordFailure(state, error, stats.position);
    failure = describeError(error);
    throw error;
  } finally {
    for (const t of timers) clearInterval(t);
    if (fence.lost) {
      // Nothing more is written to the file: its history, position and lock are the new runner's.
      logger.error({ epoch: fence.lease.epoch }, fence.error.message);
    } else {
      const at = state.getPosition();
      state.addHistory({ event: 'stop', file: at?.file ?? null, position: at?.position ?? null, gtid: at?.gtid ?? null, detail: null });
      state.releaseRunner(fence.lease);
      logger.info({ ...(at ?? {}) }, `stopped at ${at ? formatPosition(at) : '(no position)'}`);
    }
    run.events.emit('stopped', { position: stats.position, error: failure });
  }
}

function withSource(options: ReplicatorOptions): SessionOptions {
  if (!options.source) throw new Error('internal: a run without --from needs a source');
  return { ...options, source: options.source };
}

/** A run's context, as it starts (see run-context.ts): `replay` runs one too. */
export function createRunContext(fence: RunnerFence, logger: Logger, stats: ReplicatorStats, events?: RunEvents): RunContext {
  return {
    fence,
    mode: new ApplyMode(),
    capabilities: new RunCapabilities(logger, {
      decodeThread: decodeThreadWanted(),
      // BINLOG_SYNC_ROW_APPLIER=sql: row events as SQL statements, even where the replica could apply them itself.
      binlogStatements: process.env.BINLOG_SYNC_ROW_APPLIER !== 'sql',
    }),
    stats,
    streamed: false,
    events: events ?? new RunEvents(),
    nonTransactional: new Set(),
  };
}

function progressReporter(options: ReplicatorOptions, stats: ReplicatorStats): NodeJS.Timeout {
  let last = { transactions: 0, rows: 0 };
  return setInterval(() => {
    if (stats.transactions === last.transactions || !stats.position) return;
    options.logger.info(
      { transactions: stats.transactions, rows: stats.rows, ...stats.position },
      `applied ${stats.transactions - last.transactions} transactions (${stats.rows - last.rows} rows); at ${formatPosition(stats.position)}`,
    );
    last = { transactions: stats.transactions, rows: stats.rows };
  }, options.progressIntervalMs ?? 10_000);
}

export function recordFailure(state: StateStore, error: Error, position: BinlogPosition | null): void {
  const code = error instanceof BinlogSyncError ? error.code : 'INTERNAL';
  const location = error instanceof ApplyError ? error.location : undefined;
  state.setLastError({
    message: describeError(error),
    code,
    file: location?.file ?? position?.file ?? null,
    position: location?.position ?? position?.position ?? null,
    gtid: location?.gtid ?? null,
    table: location?.table ?? null,
    statement: location?.statement ?? null,
    at: new Date().toISOString(),
  });
  state.addHistory({
    event: 'error',
    file: position?.file ?? null,
    position: position?.position ?? null,
    gtid: position?.gtid ?? null,
    detail: describeError(error),
  });
}
