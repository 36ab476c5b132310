// The applier's safety rule, on a connection of our own whose answers the
// test hands out one by one: a COMMIT is sent only after every batch of its
// transaction has answered with the row counts expected, nothing after it
// goes out before it, and a transaction whose batch fails (a drift, a
// superseded epoch) is never committed. (The integration tests prove the
// same end to end on real servers; this pins the order of what is sent.)
import { describe, expect, it } from 'vitest';
import { ApplyMode } from '../../../src/apply/apply-mode.js';
import { ReplicaApplier, type ApplyConnection } from '../../../src/apply/replica-applier.js';
import { ApplyError, CarefulRetryError, FencedError } from '../../../src/errors.js';
import { createLogger } from '../../../src/log/logger.js';
import type { RowChange, TableDef } from '../../../src/source/events.js';
import type { ApplyAction } from '../../../src/txn/assembler.js';

interface Sent {
  sql: string;
  params: unknown[] | undefined;
  answer: (result: unknown) => void;
  refuse: (error: unknown) => void;
}

/** Records every query and answers only when the test says so (but what engine a table has: `engine`, at once). */
class HeldConnection implements ApplyConnection {
  readonly sent: Sent[] = [];
  /** Replica tables (by name) that are MyISAM; the others are InnoDB. */
  readonly myisam = new Set<string>();

  query(sql: string, params?: unknown[]): Promise<[unknown, unknown]> {
    if (sql.includes('information_schema.ENGINES')) {
      const engine = this.myisam.has(String(params?.[1])) ? { engine: 'MyISAM', transactions: 'NO' } : { engine: 'InnoDB', transactions: 'YES' };
      return Promise.resolve([[engine], undefined]);
    }
    return new Promise((resolve, reject) => {
      this.sent.push({ sql, params, answer: (result) => resolve([result, undefined]), refuse: reject });
    });
  }

  async end(): Promise<void> {}
  destroy(): void {}

  get texts(): string[] {
    return this.sent.map((s) => s.sql.split(/\s+/).slice(0, 2).join(' '));
  }
}

const rides: TableDef = { database: 'park', table: 'rides', columns: [{ name: 'id', kind: 'plain' }, { name: 'name', kind: 'plain' }], primaryKey: [0] };
const context = { gtid: '0-1-7', file: 'mysql-bin.000003', position: 1200 };
const logger = createLogger({ level: 'silent', write: () => undefined });

function insert(...ids: number[]): Extract<ApplyAction, { type: 'rows' }> {
  const change: RowChange = { kind: 'insert', table: rides, present: [true, true], rows: ids.map((id) => ({ after: [id, `ride ${id}`] })), noForeignKeyChecks: false };
  return { type: 'rows', change };
}

function update(id: number): Extract<ApplyAction, { type: 'rows' }> {
  const change: RowChange = {
    kind: 'update',
    table: rides,
    present: [true, true],
    rows: [{ before: [id, 'old'], after: [id, 'new'] }],
    noForeignKeyChecks: false,
  };
  return { type: 'rows', change };
}

function remove(...ids: number[]): Extract<ApplyAction, { type: 'rows' }> {
  const change: RowChange = { kind: 'delete', table: rides, present: [true, true], rows: ids.map((id) => ({ before: [id, `ride ${id}`] })), noForeignKeyChecks: false };
  return { type: 'rows', change };
}

/** The rows of `log`, a table the replica cannot roll back. */
const log: TableDef = { database: 'park', table: 'log', columns: [{ name: 'n', kind: 'plain' }], primaryKey: [] };

function logDelete(...ns: number[]): RowChange {
  return { kind: 'delete', table: log, present: [true], rows: ns.map((n) => ({ before: [n] })), noForeignKeyChecks: false };
}

function commit(gtid: string, position: number): Extract<ApplyAction, { type: 'commit' }> {
  return { type: 'commit', gtid, timestamp: 1_700_000_000_000, position: { file: 'mysql-bin.000003', position, gtid } };
}

/** Lets every promise callback run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
}

function setUp(mode = new ApplyMode()): { conn: HeldConnection; applier: ReplicaApplier; durable: string[] } {
  const conn = new HeldConnection();
  const applier = new ReplicaApplier(conn, 'mariadb', { streamId: 'stream-1', logger, mode });
  return { conn, applier, durable: [] };
}

describe('ReplicaApplier: COMMIT only after every batch has answered', () => {
  it('holds the COMMIT until the batch with the rows and the checkpoint has answered, and reports durability after it', async () => {
    const { conn, applier, durable } = setUp();
    await applier.begin({ type: 'begin', gtid: '0-1-7', timestamp: 0 });
    await applier.rows(insert(1, 2).change, context);
    expect(conn.sent).toHaveLength(0); // buffered, not sent yet

    const result = await applier.commit(commit('0-1-7', 1300), { context, deferrable: false, onDurable: () => durable.push('0-1-7') });
    expect(result).toEqual({ outcome: 'committed', rows: 2 });
    await settle();
    // The rows and the position went out as one batch; the COMMIT waits for its answer.
    expect(conn.texts).toEqual(['INSERT INTO']);
    expect(conn.sent[0]!.sql).toMatch(/UPDATE `binlog_sync`\.`positions`/);

    conn.sent[0]!.answer([{ affectedRows: 2 }, { affectedRows: 1 }]);
    await settle();
    expect(conn.texts).toEqual(['INSERT INTO', 'COMMIT']);
    expect(durable).toEqual([]); // not durable until the COMMIT has answered

    conn.sent[1]!.answer({ affectedRows: 0 });
    await applier.idle();
    expect(durable).toEqual(['0-1-7']);
  });

  it('sends nothing of the next transaction before the COMMIT of the one before', async () => {
    const { conn, applier, durable } = setUp();
    await applier.rows(insert(1).change, context);
    await applier.commit(commit('0-1-7', 1300), { context, deferrable: false, onDurable: () => durable.push('first') });
    await applier.rows(insert(2).change, context);
    const second = applier.commit(commit('0-1-8', 1400), { context, deferrable: false, onDurable: () => durable.push('second') });
    await settle();
    expect(conn.texts).toEqual(['INSERT INTO']);

    conn.sent[0]!.answer([{ affectedRows: 1 }, { affectedRows: 1 }]);
    await settle();
    expect(conn.texts).toEqual(['INSERT INTO', 'COMMIT', 'INSERT INTO']);
    conn.sent[1]!.answer({});
    conn.sent[2]!.answer([{ affectedRows: 1 }, { affectedRows: 1 }]);
    await second;
    await settle();
    expect(conn.texts).toEqual(['INSERT INTO', 'COMMIT', 'INSERT INTO', 'COMMIT']);
    conn.sent[3]!.answer({});
    await applier.idle();
    expect(durable).toEqual(['first', 'second']);
  });

  it('never commits a transaction whose row is missing on the replica, and rolls it back', async () => {
    const { conn, applier, durable } = setUp();
    await applier.rows(update(5).change, context);
    await applier.commit(commit('0-1-7', 1300), { context, deferrable: false, onDurable: () => durable.push('0-1-7') });
    await settle();
    // The update found no row (a drift): the replica answers 0 affected.
    conn.sent[0]!.answer([{ affectedRows: 0 }, { affectedRows: 1 }]);
    await expect(applier.idle()).rejects.toThrow(ApplyError);
    expect(conn.texts).not.toContain('COMMIT');
    expect(durable).toEqual([]);

    const rolledBack = applier.rollback();
    await settle();
    expect(conn.texts.at(-1)).toBe('ROLLBACK');
    conn.sent.at(-1)!.answer({});
    await rolledBack;
  });

  it('never commits under a superseded epoch: the checkpoint matched no row', async () => {
    const { conn, applier, durable } = setUp();
    await applier.rows(insert(1).change, context);
    await applier.commit(commit('0-1-7', 1300), { context, deferrable: false, onDurable: () => durable.push('0-1-7') });
    await settle();
    conn.sent[0]!.answer([{ affectedRows: 1 }, { affectedRows: 0 }]);
    await expect(applier.idle()).rejects.toThrow(FencedError);
    expect(conn.texts).toEqual(['INSERT INTO']);
    expect(durable).toEqual([]);
  });

  it('in careful mode sends each rows event alone and waits for its answer, and commits each transaction alone', async () => {
    const mode = new ApplyMode();
    mode.carefulFor(2);
    const { conn, applier } = setUp(mode);
    const first = applier.rows(remove(1, 2).change, context);
    await settle();
    // One statement per row (so an error names its row), the event's statements in one round trip.
    expect(conn.sent).toHaveLength(1);
    expect(conn.sent[0]!.sql.match(/DELETE FROM/g)).toHaveLength(2);
    const second = first!.then(() => applier.rows(update(3).change, context));
    await settle();
    expect(conn.sent).toHaveLength(1); // the next event waits for the answer
    conn.sent[0]!.answer([{ affectedRows: 1 }, { affectedRows: 1 }]);
    await settle();
    expect(conn.texts).toEqual(['DELETE FROM', 'UPDATE `park`.`rides`']);
    conn.sent[1]!.answer({ affectedRows: 1 });
    await second;
    // A deferrable commit is not deferred in careful mode.
    const committing = applier.commit(commit('0-1-7', 1300), { context, deferrable: true, onDurable: () => undefined });
    await settle();
    conn.sent[2]!.answer({ affectedRows: 1 });
    await settle();
    expect(conn.texts.at(-1)).toBe('COMMIT');
    conn.sent[3]!.answer({});
    expect(await committing).toEqual({ outcome: 'committed', rows: 3 });
  });

});

describe('ReplicaApplier: DELETEs of the transactions of a group joined', () => {
  async function group(): Promise<{ conn: HeldConnection; applier: ReplicaApplier; durable: string[] }> {
    const set = setUp();
    const { applier, durable } = set;
    for (const [n, id] of [5, 6, 7].entries()) {
      await applier.rows(remove(id).change, { ...context, gtid: `0-1-${7 + n}` });
      const last = n === 2;
      await applier.commit(commit(`0-1-${7 + n}`, 1300 + n * 100), { context, deferrable: !last, onDurable: () => durable.push(`0-1-${7 + n}`) });
    }
    await settle();
    return set;
  }

  it('sends one DELETE for the rows of three transactions, and commits when it deleted all three', async () => {
    const { conn, applier, durable } = await group();
    expect(conn.sent[0]!.sql.split(';\n')[0]).toBe('DELETE FROM `park`.`rides` WHERE (`id`) IN ((?), (?), (?))');
    expect(conn.sent[0]!.params).toEqual([5, 6, 7, ...conn.sent[0]!.params!.slice(3)]);
    conn.sent[0]!.answer([{ affectedRows: 3 }, { affectedRows: 1 }]);
    await settle();
    expect(conn.texts).toEqual(['DELETE FROM', 'COMMIT']);
    conn.sent[1]!.answer({});
    await applier.idle();
    expect(durable).toEqual(['0-1-9']);
  });

  it('applies the transactions again one at a time when a row is missing: the joined statement cannot say whose it was', async () => {
    const { conn, applier, durable } = await group();
    conn.sent[0]!.answer([{ affectedRows: 2 }, { affectedRows: 1 }]);
    const failed = applier.idle();
    await expect(failed).rejects.toThrow(CarefulRetryError);
    await expect(failed).rejects.toThrow(/changed 2 of 3 rows in park\.rides; applying them one at a time/);
    expect(conn.texts).not.toContain('COMMIT');
    expect(durable).toEqual([]);
  });
});

describe('ReplicaApplier: a table the replica cannot roll back', () => {
  it('commits the group before, marks the transaction, sends its rows one by one, and commits it alone', async () => {
    const { conn, applier, durable } = setUp();
    conn.myisam.add('log');
    await applier.rows(insert(1).change, context);
    await applier.commit(commit('0-1-7', 1300), { context, deferrable: true, onDurable: () => durable.push('0-1-7') });
    expect(conn.sent).toHaveLength(0); // deferred: a group
    const rows = applier.rows(logDelete(1, 2), { ...context, gtid: '0-1-8' });
    await settle();
    // The group goes first, and is durable before anything of the MyISAM table is sent.
    expect(conn.texts).toEqual(['INSERT INTO']);
    conn.sent[0]!.answer([{ affectedRows: 1 }, { affectedRows: 1 }]);
    await settle();
    expect(conn.texts).toEqual(['INSERT INTO', 'COMMIT']);
    conn.sent[1]!.answer({});
    await settle();
    expect(durable).toEqual(['0-1-7']);
    // The mark, committed on its own before the first change.
    expect(conn.sent[2]!.sql).toMatch(/^UPDATE `binlog_sync`\.`positions` SET pending_nontransactional = \? .*; COMMIT$/s);
    expect(conn.sent[2]!.params?.[0]).toBe('GTID 0-1-8, mysql-bin.000003:1200: park.log (MyISAM)');
    conn.sent[2]!.answer([{ affectedRows: 1 }, {}]);
    await rows;
    // Deferrable, yet committed at once: and its checkpoint clears the mark.
    const committing = applier.commit(commit('0-1-8', 1400), { context, deferrable: true, onDurable: () => durable.push('0-1-8') });
    await settle();
    // One statement per row (never a set-based one that may fail where the source did not), then the checkpoint.
    expect(conn.sent[3]!.sql.match(/DELETE FROM `park`\.`log`/g)).toHaveLength(2);
    expect(conn.sent[3]!.sql).toMatch(/pending_nontransactional = NULL/);
    conn.sent[3]!.answer([{ affectedRows: 1 }, { affectedRows: 1 }, { affectedRows: 1 }]);
    await settle();
    expect(conn.texts.at(-1)).toBe('COMMIT');
    conn.sent.at(-1)!.answer({});
    expect(await committing).toMatchObject({ outcome: 'committed' });
    expect(durable).toEqual(['0-1-7', '0-1-8']);
  });
});
