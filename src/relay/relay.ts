// The long-running core of `binlog-sync relay`: the one reader of the
// source's binlog for a team. It holds its state file's runner lock (as
// `start` does), and runs sessions: read the source's binlog from where the
// stream (or, before anything was published, the state file) says, cut it
// into the selected databases' transactions (transaction-cutter.ts) and
// publish each to the JetStream stream, in order, exactly once
// (publisher.ts). The stream itself is the relay's checkpoint: after a
// crash it continues after the stream's last message, whatever the state
// file says; the state file mirrors the last durable position for
// `status`. A session that fails for a reason that may pass is followed
// by another, with backoff, as `start` does.
import { hostname } from 'node:os';
import type { Endpoint } from '../config/connection-url.js';
import { describeEndpoint } from '../config/connection-url.js';
import { BinlogSyncError, FencedError, RelayStreamError, StateError, describeError, isRetryable } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { compareFilePositions, formatPosition, type AppliedPosition, type BinlogPosition } from '../position.js';
import { backoffDelay, sleep } from '../replicator/backoff.js';
import { RunnerFence } from '../replicator/fence.js';
import { recordFailure } from '../replicator/replicator.js';
import type { RunEvents } from '../replicator/run-events.js';
import { asConnectionError } from '../replicator/session.js';
import { assertReplicable, connectSource, measureClockOffset, readSourceInfo } from '../source/source-server.js';
import { RawBinlogStream } from '../source/raw-binlog-stream.js';
import type { StateStore } from '../state/state-store.js';
import { createFilter, type FilterSettings } from '../txn/filter.js';
import { messageId } from './message.js';
import { NatsStream, type NatsOptions, type Retention, type StoredMessage } from './nats-stream.js';
import { Publisher, type Durable } from './publisher.js';
import { describeRelay } from './relay-url.js';
import { RelayHealth } from './relay-health.js';
import { TransactionCutter } from './transaction-cutter.js';

export interface RelayOptions {
  source: Endpoint;
  serverId: number;
  nats: NatsOptions;
  retention: Retention;
  filter: FilterSettings;
  state: StateStore;
  logger: Logger;
  signal: AbortSignal;
  /** Called once a second with what is published. */
  onProgress?: (stats: Readonly<RelayStats>) => void;
  /** Its freshness, read by `status` (the state file) and by the metrics port; made here when not given. */
  health?: RelayHealth;
  /** Told of each session streaming, each retry and the stop (the status page marks them). */
  events?: RunEvents;
  /** Told of each error (by code) and each retry (the metrics port counts them). */
  metrics?: { error(code: string): void; reconnected(): void };
}

/** What the relay has stored in its stream since it started: running totals. */
export interface RelayStats {
  transactions: number;
  /** Binlog events of those transactions, and the payload bytes of their messages. */
  events: number;
  bytes: number;
  /** Messages JetStream dropped as duplicates (a transaction published again after a restart). */
  duplicates: number;
  position: BinlogPosition | null;
  /** The stream sequence of the last message published. */
  seq: number | null;
}

/** Messages (or bytes) in flight at which the source's stream is held back, and let go again: memory stays bounded. */
const IN_FLIGHT_HIGH = 2048;
const IN_FLIGHT_LOW = 512;
const IN_FLIGHT_BYTES_HIGH = 64 * 1024 * 1024;
const IN_FLIGHT_BYTES_LOW = 16 * 1024 * 1024;
/** The state file's mirror of the position is written at most this often (the stream is the checkpoint). */
const SAVE_EVERY_MS = 250;
const HEALTHY_SESSION_MS = 30_000;

/** Runs until the signal aborts (resolves) or an error it cannot get past (rejects, recorded in the state). */
export async function runRelay(options: RelayOptions): Promise<RelayStats> {
  const { state, logger } = options;
  const fence = new RunnerFence(state, state.acquireRunner({ pid: process.pid, hostname: hostname() }));
  const signal = AbortSignal.any([options.signal, fence.signal]);
  const stats: RelayStats = { transactions: 0, events: 0, bytes: 0, duplicates: 0, position: state.getPosition(), seq: null };
  const health = options.health ?? new RelayHealth();
  const begin = stats.position;
  state.addHistory({ event: 'start', file: begin?.file ?? null, position: begin?.position ?? null, gtid: begin?.gtid ?? null, detail: `relay to ${describeRelay(options.nats.address)}, pid ${process.pid}` });
  const liveness = setInterval(() => {
    fence.heartbeat(health.snapshot());
    options.onProgress?.(stats);
  }, 1000);
  let streamed = false;
  let failure: string | null = null;
  // The highest stream sequence this relay knows the stream reached: the one its state file mirrors (a run
  // before this one), then what each session found there and published. A stream found behind it was lost.
  const reached = { seq: state.getPosition()?.streamSeq ?? null };
  try {
    let attempt = 0;
    for (;;) {
      const started = Date.now();
      try {
        await relaySession(options, {
          fence,
          stats,
          health,
          signal,
          reached,
          onStreaming: (position) => {
            streamed = true;
            options.events?.emit('streaming', { position });
          },
        });
        fence.check();
        return stats;
      } catch (error) {
        fence.check();
        if (signal.aborted) return stats;
        options.metrics?.error(error instanceof BinlogSyncError ? error.code : 'INTERNAL');
        if (!streamed || !isRetryable(error)) throw error;
        if (Date.now() - started > HEALTHY_SESSION_MS) attempt = 0;
        attempt += 1;
        health.reconnects += 1;
        options.metrics?.reconnected();
        const delay = backoffDelay(attempt, Math.random());
        logger.warn({ attempt, delayMs: delay, error: describeError(error) }, `${describeError(error)}; retrying in ${(delay / 1000).toFixed(1)} s`);
        options.events?.emit('reconnect', { attempt, delayMs: delay, error: describeError(error) });
        if (!(await sleep(delay, signal))) return stats;
      }
    }
  } catch (error) {
    if (error instanceof Error && !(error instanceof FencedError)) recordFailure(state, error, stats.position);
    failure = describeError(error);
    throw error;
  } finally {
    clearInterval(liveness);
    if (!fence.lost) {
      const at = state.getPosition();
      state.addHistory({ event: 'stop', file: at?.file ?? null, position: at?.position ?? null, gtid: at?.gtid ?? null, detail: 'relay' });
      state.releaseRunner(fence.lease);
      logger.info({ ...(at ?? {}) }, `relay stopped at ${at ? formatPosition(at) : '(no position)'}`);
    }
    options.events?.emit('stopped', { position: stats.position, error: failure });
  }
}

interface SessionContext {
  fence: RunnerFence;
  stats: RelayStats;
  health: RelayHealth;
  signal: AbortSignal;
  /** The highest stream sequence known to have been stored (see runRelay), kept across sessions. */
  reached: { seq: number | null };
  onStreaming: (position: BinlogPosition) => void;
}

async function relaySession(options: RelayOptions, ctx: SessionContext): Promise<void> {
  const { state, logger } = options;
  const { fence, stats, health, signal } = ctx;
  // The source is checked while NATS is connected to: neither waits for the other.
  const checking = checkSource(options.source, health);
  checking.catch(() => undefined);
  const nats = await NatsStream.open(options.nats);
  let source: RawBinlogStream | undefined;
  let publisher: Publisher | undefined;
  let saver: NodeJS.Timeout | undefined;
  let latest: Durable | undefined;
  /** The stream's last message when the session began (what the state file mirrors until this run publishes). */
  let lastAtStart: number | null = null;
  const save = (): void => {
    if (!latest || fence.lost) return;
    const d = latest;
    latest = undefined;
    // (The sequence: of the last message published, which a position passed since follows.)
    fence.savePosition({
      file: d.file,
      position: d.position,
      gtid: d.gtid,
      appliedAt: new Date().toISOString(),
      sourceTimestamp: d.commitTime,
      streamSeq: stats.seq ?? lastAtStart,
    });
  };
  try {
    const info = await nats.ensure(options.retention);
    // (What this run published is in it: it is raised with every message stored.)
    const reached = ctx.reached.seq ?? 0;
    if (info.state.last_seq < reached) {
      // (Made again just now, by ensure(), or by someone else: not the stream this relay published to. Whether
      // this run published or not: a session that published nothing knows the stream's last message, and a
      // new run the sequence its state file mirrors.)
      forgetStreamSeq(fence, state.getPosition());
      throw new RelayStreamError(
        `the stream ${nats.address.stream} on ${describeRelay(nats.address)} went back to message ${info.state.last_seq}, behind message ${reached} this relay published: ` +
          'it was deleted, or the NATS server lost its store; start the relay again to publish into it from the position in its state file ' +
          '(replicas that need what was lost are told to snapshot)',
      );
    }
    const last = await nats.last();
    if (last) ctx.reached.seq = Math.max(reached, last.seq);
    const start = resumePoint(last, state.getPosition());
    stats.position = start;
    lastAtStart = last?.seq ?? null;
    logger.info(
      { stream: describeRelay(nats.address), messages: info.state.messages, lastSeq: last?.seq ?? null },
      `stream ${nats.address.stream} holds ${info.state.messages} messages${last ? ` (the last one ends at ${last.place.file}:${last.place.position})` : ''}`,
    );

    await checking;

    const failure = new Promise<never>((_resolve, reject) => {
      const cutter = new TransactionCutter(createFilter(options.filter), { file: start.file ?? '' }, () => source?.checksums ?? true);
      // A message's `after` is where the one before it ended (nothing of ours between): passes do not move it.
      let after = last
        ? last.place.part < last.place.parts
          ? last.place.after
          : { file: last.place.file, position: last.place.position }
        : { file: start.file ?? '', position: start.position ?? 4 };
      const fail = (error: Error): void => reject(error);
      publisher = new Publisher(
        nats,
        last ? messageId(last.place) : undefined,
        (durable) => {
          if (durable.seq !== null) {
            stats.transactions += 1;
            stats.events += durable.events;
            stats.bytes += durable.bytes;
            stats.duplicates += durable.duplicates;
            stats.seq = durable.seq;
            ctx.reached.seq = Math.max(ctx.reached.seq ?? 0, durable.seq);
          }
          stats.position = { file: durable.file, position: durable.position, gtid: durable.gtid };
          health.durable(durable);
          latest = durable;
          if (publisher!.inFlight < IN_FLIGHT_LOW && publisher!.inFlightBytes < IN_FLIGHT_BYTES_LOW) source?.resume();
        },
        fail,
      );
      health.watchPublisher(publisher);
      source = new RawBinlogStream({
        endpoint: options.source,
        serverId: options.serverId,
        start: start.file ? { file: start.file, position: start.position } : { gtid: start.gtid },
        logger,
        onError: fail,
        onEvent: (event) => {
          health.seen();
          let cut;
          try {
            cut = cutter.feed(event);
          } catch (error) {
            fail(error as Error);
            return;
          }
          if (!cut) return;
          if (cut.kind === 'passed') {
            publisher!.pass(cut.file, cut.position, cut.gtid);
          } else {
            health.read(cut.commitTime);
            try {
              publisher!.publish(cut, after);
            } catch (error) {
              fail(error as Error);
              return;
            }
            after = { file: cut.file, position: cut.position };
          }
          if (publisher!.inFlight >= IN_FLIGHT_HIGH || publisher!.inFlightBytes >= IN_FLIGHT_BYTES_HIGH) source?.pause();
        },
      });
    });
    failure.catch(() => undefined);
    await Promise.race([source!.start(), failure]);
    saver = setInterval(save, SAVE_EVERY_MS);
    health.streaming = true;
    ctx.onStreaming(start);
    state.setLastError(null);
    logger.info(
      { source: describeEndpoint(options.source), stream: describeRelay(nats.address), ...start },
      `relaying from ${formatPosition(start)} to ${describeRelay(nats.address)}`,
    );
    const stopped = new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      else signal.addEventListener('abort', () => resolve(), { once: true });
    });
    const lost = nats.closed().then((error) => {
      throw error ?? new Error('the NATS connection closed');
    });
    lost.catch(() => undefined);
    await Promise.race([stopped, failure, lost]);
  } finally {
    health.streaming = false;
    source?.stop();
    // What is in flight may still become durable: the stream is the checkpoint, the state file only mirrors it.
    if (publisher && !publisher.failed) await Promise.race([publisher.drained(), sleep(5000, new AbortController().signal)]);
    clearInterval(saver);
    save();
    await nats.close();
    health.ended();
  }
}

/**
 * The state file's position kept, without the sequence of a stream that is
 * gone: the relay started again publishes into the new stream from there
 * (the sequence would stop it again), as after `position set`.
 */
function forgetStreamSeq(fence: RunnerFence, stored: AppliedPosition | null): void {
  if (stored && stored.streamSeq != null) fence.savePosition({ ...stored, streamSeq: null });
}

/** The source is one to read a binlog from (as `start` checks it), and its clock's offset from ours (for the lag). */
async function checkSource(source: Endpoint, health: RelayHealth): Promise<void> {
  const control = await asConnectionError(connectSource(source), 'source', source);
  try {
    assertReplicable(await asConnectionError(readSourceInfo(control), 'source', source));
    health.clockOffsetMs = await measureClockOffset(control);
  } finally {
    await control.end().catch(() => undefined);
  }
}

/**
 * Where the relay continues: after the stream's last message when it is at
 * or past the state file's position (a crash after publishing), before the
 * transaction of a message whose parts were not all published (published
 * again: the parts already stored are dropped as duplicates), else where
 * the state file says (set with `position set`, or moved past other
 * databases' transactions).
 */
export function resumePoint(last: StoredMessage | null, stored: BinlogPosition | null): BinlogPosition {
  const fromStream: BinlogPosition | null = last
    ? last.place.part < last.place.parts
      ? { file: last.place.after.file, position: last.place.after.position, gtid: null }
      : { file: last.place.file, position: last.place.position, gtid: null }
    : null;
  if (fromStream && (!stored || (compareFilePositions(fromStream, stored) ?? 1) >= 0)) return fromStream;
  if (stored) return { file: stored.file, position: stored.position, gtid: stored.file ? null : stored.gtid };
  throw new StateError(
    'the relay has no start position and its stream is empty: run `binlog-sync position set --current --source URL --state FILE` on its state file ' +
      '(or --file/--pos, --gtid) first, then start the relay',
  );
}
