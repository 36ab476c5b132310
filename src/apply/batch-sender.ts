// Sends a batch of buffered statements to the replica in one round trip
// (a BINLOG statement alone), and checks each statement's answer against
// what the source did: rows a key statement must have changed, rows LOAD
// DATA must have taken, the checkpoint row that proves the stream is still
// ours. A failure that cannot say which event caused it asks for a careful
// retry, one event at a time.
import type { ApplierCapabilities } from '../capabilities.js';
import { LOAD_DATA_REFUSED } from '../db/server-errors.js';
import { ApplyError, CarefulRetryError, TransientApplyError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { assembleQuery, type QueryPart } from '../db/large-query.js';
import { inlineParts } from '../sql/prepare.js';
import { collectSoon } from '../replicator/memory-budget.js';
import { describeContext, locationOf, serverErrno } from './apply-errors.js';
import type { BinlogRowApplier } from './binlog-row-applier.js';
import type { CheckpointWriter } from './checkpoint-writer.js';
import type { LocalFiles } from './local-files.js';
import type { ReplicaConnection } from './replica-connection.js';
import type { Buffered } from './statement-buffer.js';

/**
 * A query of bytes from this size is collected as soon as it is answered
 * (a full collection of a small heap takes milliseconds, sending such a
 * query far longer): else several of them wait in memory for V8's next
 * collection, measured at 140 MiB more with 30 MB values.
 */
const COLLECT_AFTER_QUERY_BYTES = 16 * 1024 * 1024;

export class BatchSender {
  constructor(
    private readonly replica: ReplicaConnection,
    private readonly binlogRows: BinlogRowApplier,
    private readonly checkpoint: CheckpointWriter,
    private readonly capabilities: ApplierCapabilities,
    private readonly files: LocalFiles,
    private readonly logger: Logger,
  ) {}

  /** Sends one batch in one round trip and checks each statement's answer. */
  async send(batch: Buffered[]): Promise<void> {
    if (batch[0]!.binlog) return this.binlogRows.send(batch[0]!);
    const first = batch.find((b) => b.table) ?? batch[0]!;
    // Errors of a batch that spans several events cannot say which one failed:
    // give up the transaction and let it run again, one event at a time.
    // So can a set-based statement whose row order differed from the source's.
    let spansEvents = false;
    let sql = '';
    const params: unknown[] = [];
    const large = batch.some((b) => b.blobs);
    const parts: QueryPart[] = [];
    for (const b of batch) {
      if (b.setBased || b.joined || (b.table !== undefined && b.event !== first.event)) spansEvents = true;
      let text = b.sql;
      if (b.loads) text = `LOAD DATA LOCAL INFILE '${this.files.add(b.loads)}' ${text}`;
      if (large) {
        // A query of bytes: each statement with its values in (no placeholders left).
        parts.push(b.params.length ? inlineParts(text, b.params) : { sql: text, blobs: b.blobs });
        continue;
      }
      sql = sql === '' ? text : `${sql};\n${text}`;
      for (const p of b.params) params.push(p);
    }
    let query: string | Buffer = sql;
    if (large) {
      query = assembleQuery(parts);
      // The values are in the query now: let go of them (a 100 MB value is otherwise held twice until answered).
      parts.length = 0;
      for (const b of batch) {
        b.blobs = undefined;
        b.params = [];
      }
    }
    let result: unknown;
    try {
      result = await this.replica.run(query, params, first.context, first.kind, first.table);
    } catch (error) {
      if (batch.some((b) => b.loads) && LOAD_DATA_REFUSED.has(serverErrno(error))) {
        // The replica (or this client) does not take local files after all: insert for the rest of the run.
        this.capabilities.disable('loadData', 'the replica refused LOAD DATA LOCAL INFILE');
        throw new CarefulRetryError('the replica refused LOAD DATA LOCAL INFILE; inserting the rows instead', { cause: error });
      }
      if (spansEvents && !(error instanceof TransientApplyError)) {
        throw new CarefulRetryError('a statement in a batch failed; applying one event at a time', { cause: error });
      }
      throw error;
    }
    // A large query is garbage once answered: collected now rather than when V8 gets round to it.
    if (typeof query !== 'string' && query.length >= COLLECT_AFTER_QUERY_BYTES) collectSoon();
    query = '';
    const results = (Array.isArray(result) ? result : [result]) as Array<{ affectedRows?: number; warningStatus?: number }>;
    batch.forEach((b, i) => this.checkAnswer(b, results[i]));
  }

  /** Did the statement do what the source's did? */
  private checkAnswer(b: Buffered, answer: { affectedRows?: number; warningStatus?: number } | undefined): void {
    const affected = answer?.affectedRows ?? 0;
    if (b.loads) {
      // LOCAL loads skip a row they cannot take (a duplicate key, a value out of range) with a warning:
      // run the transaction again with INSERTs, whose error names what failed.
      if (affected !== b.expectRows || (answer?.warningStatus ?? 0) > 0) {
        throw new CarefulRetryError(
          `LOAD DATA into ${b.table} took ${affected} of ${b.expectRows} rows with ${answer?.warningStatus ?? 0} warnings; applying row by row`,
        );
      }
      this.logger.debug({ table: b.table, rows: b.expectRows }, 'rows loaded with LOAD DATA');
    }
    // The position matched no row: a later runner owns the stream, and this transaction must not commit.
    if (b.kind === 'checkpoint') return this.checkpoint.checkWritten(affected);
    // DELETEs or UPDATEs of several source transactions joined (statement-buffer.ts):
    // applied again one transaction at a time, where a missing row's error names its own.
    if (b.joined && b.expectRows !== undefined && affected !== b.expectRows) {
      throw new CarefulRetryError(`a statement joining rows of several events changed ${affected} of ${b.expectRows} rows in ${b.table}; applying them one at a time`);
    }
    if (b.expectRows !== undefined && affected < b.expectRows) {
      throw new ApplyError(
        `the row to ${b.kind} in ${b.table} is not on the replica (the replica has drifted from the source) ` +
          `at ${describeContext(b.context)}; repair the row on the replica and start again, or pass this transaction with \`binlog-sync skip\``,
        { location: locationOf(b.context, b.table ?? null, b.kind) },
      );
    }
  }
}
