// One connected run of `start --from`: a session as session.ts has it, fed
// by a relay's JetStream stream instead of the source (relay/,
// source/stream-transport.ts). The replica side is the same: claim the
// checkpoint, reconcile, masking check, assembler, apply loop, applier,
// the same exactly-once checkpoint of source positions, with the sequence of
// the stream's message each came in. Where to read is found from those
// (relay/locate.ts). The source is not needed:
// what a session asks of it elsewhere comes from the stream's format
// description (server flavor and version) and the replica (collations),
// as `replay` does without one; `--source`, when given, is used as there
// (masks, CREATE TABLE ... LIKE, the SYSTEM time zone), never for the binlog.
import type { Endpoint } from '../config/connection-url.js';
import { describeEndpoint } from '../config/connection-url.js';
import { MaskError, StateError } from '../errors.js';
import { formatPosition } from '../position.js';
import { ReplicaApplier } from '../apply/replica-applier.js';
import { binlogIncompatibility } from '../apply/binlog-rows.js';
import { interruptedError } from '../apply/non-transactional.js';
import { explainCollision } from '../mask/collision.js';
import { assertSameMasking, maskingRecord, parseRecord } from '../mask/record.js';
import { NatsStream, type NatsOptions, type StoredMessage } from '../relay/nats-stream.js';
import { locateFrom, storedSeqOf } from '../relay/locate.js';
import { describeRelay } from '../relay/relay-url.js';
import { connectSource, showCreateTable, type SourceInfo } from '../source/source-server.js';
import type { SourceEvent } from '../source/events.js';
import { sqlModeNames } from '../source/status-vars.js';
import { streamFormat } from '../source/stream-transport.js';
import { openEventStream, type EventStream } from '../source/threaded-source.js';
import { TransactionAssembler } from '../txn/assembler.js';
import { createFilter } from '../txn/filter.js';
import { isMariadbGtid } from '../txn/gtid-position.js';
import { ApplyLoop } from './apply-loop.js';
import { sleep } from './backoff.js';
import { EventQueue } from './event-queue.js';
import { sessionQueue } from './session-queue.js';
import type { RunContext } from './run-context.js';
import { asConnectionError, openSourceSide, reconcile, replicaCollations, prepareWhenGrouped, sessionApplierOptions, sessionStreamOptions, type SessionOptions, type SourceSide } from './session.js';

export interface StreamSessionOptions extends Omit<SessionOptions, 'source' | 'serverId' | 'heartbeatMs'> {
  /** The relay's stream (`--from`). */
  from: NatsOptions;
  /** The source, when given: masks, CREATE TABLE ... LIKE and the SYSTEM time zone (see the file comment). */
  source?: Endpoint | undefined;
}

/** The stream transport sends a heartbeat each second while idle: five missed, and the stream is taken as broken. */
const SILENCE_MS = 5_000;

/** What a stream's messages are named as when they stand for the source (no connection is made to it). */
const RELAY: Endpoint = { host: 'relay stream', port: 0, user: 'relay', sslMode: 'DISABLED' };

/** Runs one session from the stream; resolves when the signal aborts, rejects on any failure. */
export async function runStreamSession(options: StreamSessionOptions, run: RunContext): Promise<void> {
  const { state, logger, signal } = options;
  const { fence, capabilities, stats } = run;
  let applier: ReplicaApplier | undefined;
  let nats: NatsStream | undefined;
  let stream: EventStream | undefined;
  let queue: EventQueue<SourceEvent> | undefined;
  let sourceSide: SourceSide | undefined;
  let stopListening = (): void => undefined;
  // The stream is connected to while the replica is opened: neither waits for the other.
  const natsOpening = NatsStream.open(options.from);
  natsOpening.catch(() => undefined);
  // (And, without a source, the character sets of the collation ids in the table maps are the replica's: read meanwhile too.)
  const replicaSide = options.source ? undefined : replicaCollations(options.replica);
  replicaSide?.catch(() => undefined);
  try {
    applier = await asConnectionError(
      ReplicaApplier.open(options.replica, sessionApplierOptions(options, run, () => queue, () => stream)),
      'replica',
      options.replica,
    );
    logger.info({ replica: describeEndpoint(options.replica) }, 'connected to the replica');
    const checkpoint = await applier.claim(fence.lease.epoch);
    // (No position anywhere: the replica starts with the stream's first message.)
    let stored = checkpoint || state.getPosition() ? reconcile(fence, checkpoint, logger) : null;
    stats.position = stored;
    const mark = await applier.nonTransactionalMark();
    if (mark !== null) throw interruptedError(mark, stored ?? { file: null, position: null, gtid: null });
    assertSameMasking(parseRecord(await applier.recordedMasking()), maskingRecord(options.mask ?? { rules: [] }));
    if (stored && (stored.file === null || stored.position === null)) {
      throw new StateError(
        `the stored position ${formatPosition(stored)} has no binlog file and offset, which a relay's stream is read by; ` +
          'set one with `binlog-sync position set --current --from URL` (the stream\'s last message) or --file/--pos',
      );
    }

    nats = await natsOpening;
    const info = await nats.require();
    let startSeq = info.state.first_seq;
    /** How the message to read was found (for the log): after the stored sequence, or by the position. */
    let foundBy: 'sequence' | 'search' | undefined;
    if (stored) {
      // From the sequence stored with the position, when the stream still has its message there; else by the position.
      const storedSeq = storedSeqOf(stored, state.getPosition(), checkpoint);
      const located = await locateFrom({ file: stored.file!, position: stored.position! }, storedSeq, info.state.first_seq, info.state.last_seq, (seq) => nats!.get(seq));
      startSeq = located.seq;
      foundBy = located.by;
      if (storedSeq !== null && located.by === 'search') {
        logger.info(
          { storedSeq, seq: startSeq, ...stored },
          `the stream's message ${storedSeq} is not the one stored with ${formatPosition(stored)} (the stream was recreated or trimmed?): found the place by the position instead`,
        );
      }
    }
    // The stream's format description says what the source is: from the message to read, or the last one.
    const positioned = stored !== null;
    const sample = await firstMessage(nats, startSeq, !positioned, signal, logger);
    if (!sample) return; // (stopped while the stream was empty)
    if (!stored) {
      stored = stats.position = { file: sample.place.after.file, position: sample.place.after.position, gtid: null };
      logger.info({ seq: sample.seq, ...stored }, `no stored position: starting with the stream's first message (${sample.seq}), after ${formatPosition(stored)}`);
    }
    const at = { file: stored.file!, position: stored.position! };
    const readFrom = positioned ? startSeq : sample.seq;
    const format = streamFormat(sample.data, sample.seq);
    const flavor = /mariadb/i.test(format.serverVersion) ? 'mariadb' : 'mysql';

    if (options.source) sourceSide = await openSourceSide({ ...options, source: options.source, serverId: 0 });
    else if (options.mask && options.mask.rules.length > 0) {
      throw new MaskError('--mask needs --source with --from: the masks are checked against the source tables (the binlog itself still comes from the stream)');
    }
    const sourceInfo: SourceInfo = sourceSide?.info ?? { flavor, version: format.serverVersion, serverId: 0, variables: {} };
    applier.sourceSystemZone = sourceSide?.systemZone;
    const sourcePacket = Number(sourceInfo.variables.max_allowed_packet) || 0;
    if (sourcePacket > 0) await applier.fitPacketLimit(sourcePacket);
    const incompatible = binlogIncompatibility({ ...sourceInfo, flavor, version: format.serverVersion }, { flavor: applier.flavorName, version: applier.version });
    if (incompatible) applier.disableBinlogStatements(incompatible);
    const collations = sourceSide?.collations ?? (await replicaSide!);
    await sourceSide?.control.end().catch(() => undefined);

    const gtidKnown = flavor === 'mariadb' && stored.gtid !== null && (stored.gtid === '' || isMariadbGtid(stored.gtid));
    const assembler = new TransactionAssembler({ filter: createFilter(options.filter), start: stored, gtidKnown, definer: options.definer });
    const { events, feed } = sessionQueue({ stream: () => stream, health: options.health, holdLargeRows: true });
    queue = events;
    stream = openEventStream({
      endpoint: options.source ?? RELAY,
      serverId: 0,
      start: at,
      logger,
      ...feed,
      silenceMs: SILENCE_MS,
      ...sessionStreamOptions(options, run, applier, sourcePacket, collations),
      relay: { nats: options.from, startSeq: readFrom, after: at, serverVersion: format.serverVersion, checksums: format.checksums },
    });
    stopListening = prepareWhenGrouped(run, stream);
    await stream.start();
    logger.info(
      { from: describeRelay(options.from.address), seq: readFrom, foundBy: foundBy ?? null, ...at, rowApplier: capabilities.binlogStatements ? 'binlog' : 'sql' },
      `replicating from ${describeRelay(options.from.address)} message ${readFrom} (after ${formatPosition(stored)}${foundBy === 'sequence' ? ', the message stored with it' : ''})`,
    );
    if (!run.streamed) state.setLastError(null);
    run.streamed = true;
    run.events.emit('streaming', { position: stored });
    options.health?.setStreaming(true);
    if (options.health) fence.heartbeat(options.health.snapshot());
    const readDefinition = async (table: { database: string; table: string }, sqlMode: bigint | undefined): Promise<string> => {
      if (!options.source) throw new Error(`start --from has no --source to read ${table.database}.${table.table} from (CREATE TABLE ... LIKE a table the replica lacks)`);
      const conn = await asConnectionError(connectSource(options.source), 'source', options.source);
      try {
        return await showCreateTable(conn, table.database, table.table, sqlMode === undefined ? undefined : sqlModeNames(sqlMode, flavor));
      } finally {
        await conn.end().catch(() => undefined);
      }
    };
    const loop = new ApplyLoop({ queue: events, assembler, applier, run, logger, health: options.health, metrics: options.metrics, readDefinition });
    await loop.loop(signal).catch((error: unknown) => {
      throw explainCollision(error, sourceSide?.masking.maskedOnReplica ?? []);
    });
  } finally {
    stopListening();
    options.health?.setStreaming(false);
    options.health?.watchQueue(null);
    stream?.stop();
    await (nats ?? (await natsOpening.catch(() => undefined)))?.close();
    await applier?.close();
  }
}

/**
 * The message at `seq` (else, for its format description only, the last
 * one); with `first`, the stream's first message. Waits for the first
 * message of an empty stream (null when stopped meanwhile).
 */
async function firstMessage(nats: NatsStream, seq: number, first: boolean, signal: AbortSignal, logger: SessionOptions['logger']): Promise<StoredMessage | null> {
  let told = false;
  for (;;) {
    const from = first ? (await nats.require()).state.first_seq : seq;
    const message = (from > 0 ? await nats.get(from) : null) ?? (first ? null : await nats.last());
    if (message) return message;
    if (!told) logger.info(`the stream ${nats.address.stream} is empty: waiting for the relay's first message`);
    told = true;
    if (!(await sleep(1000, signal))) return null;
  }
}
