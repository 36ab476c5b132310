// The core of `binlog-sync replay`: binlog files from disk applied exactly
// as `start` applies the stream. The files are checked and planned first
// (replay/plan.ts: nothing is touched when they are refused); then one run
// as a session of `start` has it: the same runner lock, replica checkpoint,
// masking check, assembler, apply loop and applier, fed by the same decoding
// path reading the files instead of a socket (source/file-transport.ts). It
// ends when the files' last transaction is durable, or stops on the first
// error (recorded like `start`'s: no retries, a file does not change).
import { hostname } from 'node:os';
import type { Endpoint } from '../config/connection-url.js';
import { connect } from '../db/connect.js';
import { FencedError, MaskError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { formatPosition, type BinlogPosition } from '../position.js';
import { ReplicaApplier } from '../apply/replica-applier.js';
import { binlogIncompatibility } from '../apply/binlog-rows.js';
import { interruptedError } from '../apply/non-transactional.js';
import { assertSameMasking, maskingRecord, parseRecord, serializeRecord } from '../mask/record.js';
import { maskingStatement } from '../apply/checkpoint.js';
import type { MaskSettings } from '../mask/masker.js';
import { explainCollision } from '../mask/collision.js';
import { openEventStream, type EventStream } from '../source/threaded-source.js';
import { connectSource, showCreateTable, type SourceInfo } from '../source/source-server.js';
import { sqlModeNames } from '../source/status-vars.js';
import type { StateStore } from '../state/state-store.js';
import { TransactionAssembler } from '../txn/assembler.js';
import { createFilter, type FilterSettings } from '../txn/filter.js';
import { planReplay, type ReplayPlan, type ReplayStop } from '../replay/plan.js';
import { ApplyLoop } from './apply-loop.js';
import { sessionQueue } from './session-queue.js';
import { RunnerFence } from './fence.js';
import { createRunContext, recordFailure } from './replicator.js';
import { asConnectionError, openSourceSide, reconcile, replicaCollations, type SourceSide } from './session.js';
import type { ReplicatorStats } from './run-context.js';

export interface ReplayOptions {
  /** Binlog files, in the order the source wrote them. */
  files: readonly string[];
  stop?: ReplayStop;
  replica: Endpoint;
  /**
   * The source, when reachable: masking is planned against its tables, a
   * CREATE TABLE ... LIKE reads its definition there, DDL under its SYSTEM
   * time zone takes its offset. Without it, the replica's collations are used.
   */
  source?: Endpoint | undefined;
  filter: FilterSettings;
  definer?: string | undefined;
  mask?: MaskSettings;
  state: StateStore;
  logger: Logger;
  signal: AbortSignal;
  /** Called once a second, and at the end, with what is applied (see replayedBytes). */
  onProgress?: (stats: Readonly<ReplicatorStats>, plan: ReplayPlan) => void;
}

export interface ReplayResult {
  stats: ReplicatorStats;
  plan: ReplayPlan;
  /** The run was stopped by the signal before the files' end. */
  interrupted: boolean;
}

/** Nothing is silent on a file: the stream never waits for a heartbeat. */
const NO_SILENCE_MS = 2 ** 31 - 1;

/**
 * Plans the files against the state file's position (refusing bad input
 * before anything is opened), then applies them. Rejects with the error it
 * stopped on (recorded in the state, as `start` records it).
 */
export async function runReplay(options: ReplayOptions): Promise<ReplayResult> {
  const { state, logger } = options;
  let plan = await planReplay(options.files, state.getPosition(), options.stop);
  const fence = new RunnerFence(state, state.acquireRunner({ pid: process.pid, hostname: hostname() }));
  const signal = AbortSignal.any([options.signal, fence.signal]);
  const stats: ReplicatorStats = { transactions: 0, rows: 0, position: state.getPosition() };
  const run = createRunContext(fence, logger, stats);
  const begin = stats.position;
  state.addHistory({ event: 'replay', file: begin?.file ?? null, position: begin?.position ?? null, gtid: begin?.gtid ?? null, detail: `${options.files.length} files, pid ${process.pid}` });
  const progress = setInterval(() => {
    fence.heartbeat();
    options.onProgress?.(stats, plan);
  }, 1000);
  let applier: ReplicaApplier | undefined;
  let stream: EventStream | undefined;
  let sourceSide: SourceSide | undefined;
  try {
    applier = await asConnectionError(
      ReplicaApplier.open(options.replica, { streamId: state.streamId, logger, mode: run.mode, capabilities: run.capabilities, onLargeInFlight: () => undefined }),
      'replica',
      options.replica,
    );
    const checkpoint = await applier.claim(fence.lease.epoch);
    // (No position anywhere: an empty replica, replayed from the first file's start.)
    const stored = checkpoint || state.getPosition() ? reconcile(fence, checkpoint, logger) : null;
    stats.position = stored;
    const mark = await applier.nonTransactionalMark();
    if (mark !== null) throw interruptedError(mark, stored ?? plan.start);
    // An empty replica is seeded by this replay: it records the masking, as `snapshot` does. Otherwise
    // rows masked one way must not meet rows masked another way (or not at all).
    if (stored === null && options.mask && options.mask.rules.length > 0) await recordMasking(options.replica, state.streamId, fence.lease.epoch, options.mask);
    else assertSameMasking(parseRecord(await applier.recordedMasking()), maskingRecord(options.mask ?? { rules: [] }));
    // The replica had applied more than the state file said: planned again from there.
    if (!samePosition(stored, begin)) plan = await planReplay(options.files, stored, options.stop);
    sourceSide = options.source ? await openSourceSide({ ...options, source: options.source, serverId: 0 }) : undefined;
    if (!sourceSide && options.mask && options.mask.rules.length > 0) {
      throw new MaskError('--mask needs --source with replay: the masks are checked against the source tables');
    }
    const info: SourceInfo = sourceSide?.info ?? { flavor: plan.flavor, version: plan.serverVersion, serverId: 0, variables: {} };
    applier.sourceSystemZone = sourceSide?.systemZone;
    const sourcePacket = Number(info.variables.max_allowed_packet) || 0;
    if (sourcePacket > 0) await applier.fitPacketLimit(sourcePacket);
    const incompatible = binlogIncompatibility({ ...info, flavor: plan.flavor, version: plan.serverVersion }, { flavor: applier.flavorName, version: applier.version });
    if (incompatible) applier.disableBinlogStatements(incompatible);
    const collations = sourceSide?.collations ?? (await replicaCollations(options.replica));

    const assembler = new TransactionAssembler({ filter: createFilter(options.filter), start: plan.start, gtidKnown: plan.gtidKnown, definer: options.definer });
    // (A replay does not hold large rows back while applied: its applier is not told of them.)
    const { events, feed } = sessionQueue({ stream: () => stream, holdLargeRows: false });
    stream = openEventStream({
      endpoint: options.source ?? FILES,
      serverId: 0,
      start: { file: plan.start.file, position: plan.start.position },
      logger,
      ...feed,
      onEnd: () => events.end(),
      silenceMs: NO_SILENCE_MS,
      filter: options.filter,
      prepare: { ...applier.batchingOptions, now: run.mode.grouped },
      capabilities: run.capabilities,
      largestRowBytes: sourcePacket,
      ...(options.mask ? { mask: options.mask } : {}),
      collations,
      binlogRows: run.capabilities.binlogStatements,
      replay: plan,
    });
    const source = stream;
    run.mode.onChange((mode) => {
      if (mode.kind === 'grouped') source.prepare();
    });
    await stream.start();
    run.streamed = true;
    state.setLastError(null);
    logger.info(
      { files: plan.files, bytes: plan.bytes, ...plan.start, stop: plan.stop },
      plan.segments.length === 0
        ? `nothing to replay: the replica is at ${formatPosition(plan.start)}, past what the files hold${plan.stop ? ` before ${plan.stop}` : ''}`
        : `replaying ${plan.files} files (${plan.bytes} bytes) from ${formatPosition(plan.start)}${plan.stop ? ` to ${plan.stop}` : ''}`,
    );
    const readDefinition = async (table: { database: string; table: string }, sqlMode: bigint | undefined): Promise<string> => {
      if (!options.source) throw new Error('replay has no --source to read the table from');
      const conn = await connectSource(options.source);
      try {
        return await showCreateTable(conn, table.database, table.table, sqlMode === undefined ? undefined : sqlModeNames(sqlMode, plan.flavor));
      } finally {
        await conn.end().catch(() => undefined);
      }
    };
    const loop = new ApplyLoop({ queue: events, assembler, applier, run, logger, health: undefined, metrics: undefined, readDefinition });
    await loop.loop(signal).catch((error: unknown) => {
      throw explainCollision(error, sourceSide?.masking.maskedOnReplica ?? []);
    });
    fence.check();
    for (const warning of plan.warnings) logger.warn(warning);
    options.onProgress?.(stats, plan);
    return { stats, plan, interrupted: !events.drained };
  } catch (error) {
    if (error instanceof Error && !(error instanceof FencedError) && !fence.lost) recordFailure(state, error, stats.position);
    throw error;
  } finally {
    clearInterval(progress);
    stream?.stop();
    await sourceSide?.control.end().catch(() => undefined);
    await applier?.close();
    if (!fence.lost) {
      const at = state.getPosition();
      state.addHistory({ event: 'stop', file: at?.file ?? null, position: at?.position ?? null, gtid: at?.gtid ?? null, detail: 'replay' });
      state.releaseRunner(fence.lease);
    }
  }
}

/** Bytes of the plan's files that the replica has (to its last durable transaction), for progress. */
export function replayedBytes(plan: ReplayPlan, at: BinlogPosition | null): number {
  let done = 0;
  for (const segment of plan.segments) {
    if (at?.file !== segment.name || at.position === null) {
      done += segment.to - segment.from;
      continue;
    }
    return done + Math.max(0, Math.min(at.position, segment.to) - segment.from);
  }
  return at?.file ? plan.bytes : 0;
}

/** What the stream's messages name as its "source" when it reads files (no connection is made to it). */
const FILES: Endpoint = { host: 'binlog files', port: 0, user: 'replay', sslMode: 'DISABLED' };

async function recordMasking(replica: Endpoint, streamId: string, epoch: number, mask: MaskSettings): Promise<void> {
  const conn = await asConnectionError(connect(replica, 'replica'), 'replica', replica);
  try {
    const { sql, params } = maskingStatement(streamId, epoch, serializeRecord(maskingRecord(mask)));
    const [result] = await conn.query(sql, params);
    // (The row exists once claimed with our epoch: anything else is another runner's.)
    if ((result as { affectedRows?: number }).affectedRows !== 1) throw new FencedError('the replica checkpoint of this state file is held by another process; the masking was not recorded');
  } finally {
    await conn.end().catch(() => undefined);
  }
}

function samePosition(a: BinlogPosition | null, b: BinlogPosition | null): boolean {
  return a?.file === b?.file && a?.position === b?.position && a?.gtid === b?.gtid;
}

