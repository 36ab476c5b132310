// `binlog-sync skip`: pass exactly the one source transaction `start` stopped
// on. Because the stored position moves past every transaction that applied
// (or touched nothing of ours), the failed one is the first transaction after
// it; its GTID, when known, must match the recorded error's.
import type { Endpoint } from '../config/connection-url.js';
import { ConnectionError, StateError, StateLockedError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { formatPosition, type BinlogPosition } from '../position.js';
import { writeStreamPosition } from '../apply/position-writer.js';
import { BinlogSource } from '../source/binlog-source.js';
import { connectSource, readSourceInfo } from '../source/source-server.js';
import { TransactionAssembler, type ApplyAction } from '../txn/assembler.js';
import { createFilter } from '../txn/filter.js';
import type { StateStore } from '../state/state-store.js';
import { resolveStreamStart } from './stream-start.js';
import { NatsStream, type NatsOptions } from '../relay/nats-stream.js';
import { locate } from '../relay/locate.js';

export interface SkipOptions {
  /** Where the binlog is read: the source, or (`from`) a relay's stream. */
  source?: Endpoint | undefined;
  from?: NatsOptions | undefined;
  replica: Endpoint;
  serverId: number;
  state: StateStore;
  logger: Logger;
  /** How long to wait for the transaction to arrive from the source. */
  timeoutMs?: number;
}

export interface SkipResult {
  /** GTID of the skipped transaction, when the source has GTIDs. */
  gtid: string | null;
  from: BinlogPosition;
  to: BinlogPosition;
}

type Commit = Extract<ApplyAction, { type: 'commit' }>;

export async function skipFailedTransaction(options: SkipOptions): Promise<SkipResult> {
  const { state } = options;
  const lastError = state.getLastError();
  if (!lastError) throw new StateError('no error is recorded on this state file; there is nothing to skip');
  if (lastError.code === 'BINLOG_PURGED') {
    throw new StateError('the stop was caused by a purged binlog, which skipping cannot mend: run `binlog-sync snapshot` to start over');
  }
  const runner = state.activeRunner();
  if (runner) throw new StateLockedError(`a \`binlog-sync start\` (pid ${runner.pid} on ${runner.hostname}) is running on ${state.path}; stop it first`);
  const stored = state.getPosition();
  if (!stored) throw new StateError('no position is stored; there is nothing to skip');

  const commit = options.from ? await firstMessageAfter(options.from, stored) : await firstCommitAfter(options, await resolveFrom(options, stored));
  if (lastError.gtid && commit.gtid && lastError.gtid !== commit.gtid) {
    throw new StateError(
      `the transaction after the stored position is GTID ${commit.gtid}, not the failed GTID ${lastError.gtid}; nothing was skipped`,
    );
  }
  const to: BinlogPosition = {
    file: commit.position.file ?? stored.file,
    position: commit.position.position ?? stored.position,
    gtid: commit.position.gtid,
  };
  await writeStreamPosition({
    replica: options.replica,
    state,
    position: to,
    sourceTimestamp: commit.timestamp,
    streamSeq: commit.streamSeq ?? null,
    // (An XA prepare group passed unapplied: the group that ends it has nothing to end here.)
    passedXa: commit.xa !== undefined ? { xid: commit.xa, gtid: commit.gtid } : undefined,
    history: {
      event: 'skip',
      gtid: commit.gtid,
      detail: `skipped ${commit.gtid ? `GTID ${commit.gtid}` : 'the transaction'} after ${formatPosition(stored)}: ${lastError.message}`,
    },
  });
  return { gtid: commit.gtid, from: stored, to };
}

async function resolveFrom(options: SkipOptions, stored: BinlogPosition): Promise<Awaited<ReturnType<typeof resolveStreamStart>>> {
  if (!options.source) throw new StateError('skip needs --source (or --from, for a replica fed by a relay)');
  const control = await connectSource(options.source);
  try {
    return await resolveStreamStart(control, await readSourceInfo(control), stored);
  } finally {
    await control.end().catch(() => undefined);
  }
}

/** `start --from`: the failed transaction is the first message of the relay's stream that ends after the stored position. */
async function firstMessageAfter(from: NatsOptions, stored: BinlogPosition): Promise<Commit> {
  if (stored.file === null || stored.position === null) throw new StateError('the stored position has no binlog file and offset; a relay stream is read by them');
  const at = { file: stored.file, position: stored.position };
  const nats = await NatsStream.open(from);
  try {
    const info = await nats.require();
    const seq = await locate(at, info.state.first_seq, info.state.last_seq, (n) => nats.get(n));
    const message = await nats.get(seq);
    if (!message) throw new StateError(`the relay's stream has no transaction after ${formatPosition(stored)}; there is nothing to skip`);
    const { place } = message;
    // (A transaction in parts: all of them are skipped, they share its position.)
    // (Its sequence: its last part's, which follows the others.)
    return {
      type: 'commit',
      gtid: place.gtid,
      position: { file: place.file, position: place.position, gtid: null },
      timestamp: place.commitTime,
      streamSeq: message.seq + place.parts - place.part,
    };
  } finally {
    await nats.close();
  }
}

/** Reads the source from the stored position until the first transaction ends. */
async function firstCommitAfter(options: SkipOptions, resolved: Awaited<ReturnType<typeof resolveStreamStart>>): Promise<Commit> {
  // No database replicated: every transaction is passed over, only its end is seen.
  const assembler = new TransactionAssembler({
    filter: createFilter({ databases: [], includeTables: [], excludeTables: [], rewriteDb: {} }),
    start: resolved.position,
    gtidKnown: resolved.gtidKnown,
    gtidFlavor: resolved.gtidFlavor,
  });
  let source: BinlogSource | undefined;
  try {
    return await new Promise<Commit>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new StateError(`the source has no transaction after ${formatPosition(resolved.position)}; there is nothing to skip`)),
        options.timeoutMs ?? 10_000,
      );
      source = new BinlogSource({
        endpoint: options.source!,
        serverId: options.serverId,
        start: resolved.stream,
        logger: options.logger,
        onEvent: (event) => {
          const commit = assembler.push(event).find((a): a is Commit => a.type === 'commit');
          if (commit) {
            clearTimeout(timer);
            resolve(commit);
          }
        },
        onError: (error) => {
          clearTimeout(timer);
          reject(error instanceof ConnectionError ? error : new ConnectionError(error.message, { cause: error }));
        },
      });
      source.start().catch((error: unknown) => {
        clearTimeout(timer);
        reject(error);
      });
    });
  } finally {
    source?.stop();
  }
}
