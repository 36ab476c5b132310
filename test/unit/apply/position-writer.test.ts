// A position written outside the stream (`position set`, `snapshot`, `skip`),
// on a connection of our own that records what is sent: the claim, then the
// checkpoint and what goes with it in one transaction, committed only when
// the checkpoint update matched our epoch. (The integration tests prove the
// same on real servers; this pins the statements and their order.)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { SqlConnection } from '../../../src/apply/checkpoint.js';
import { mirrorIntoState, runFenced, statementsWith, writeCheckpoint, type PositionWrite } from '../../../src/apply/position-writer.js';
import { FencedError } from '../../../src/errors.js';
import { StateStore } from '../../../src/state/state-store.js';

const STREAM = 'stream-1';
const EPOCH = 1_700_000_000_123;
const position = { file: 'mysql-bin.000003', position: 1200, gtid: '0-1-7' };

/** Answers each query by the first rule whose pattern matches it (default: one row changed), and keeps what was sent. */
class ScriptedConnection implements SqlConnection {
  readonly sent: Array<{ sql: string; params: unknown[] }> = [];

  constructor(private readonly rules: Array<[RegExp, () => unknown]> = []) {}

  async query(sql: string, params: unknown[] = []): Promise<[unknown, unknown]> {
    this.sent.push({ sql, params });
    const rule = this.rules.find(([pattern]) => pattern.test(sql));
    return [rule ? rule[1]() : { affectedRows: 1 }, undefined];
  }

  /** The first words of each statement sent. */
  get verbs(): string[] {
    return this.sent.map((s) => s.sql.trim().split(/\s+/).slice(0, 3).join(' '));
  }
}

/** A replica whose stream row is owned by `owner` (none: never claimed). */
function replica(options: { owner?: number; checkpointMatches?: number } = {}): ScriptedConnection {
  const row = options.owner === undefined ? [] : [{ owner_epoch: options.owner, owner_connection: null, self: 9, binlog_file: null, gtid: null }];
  return new ScriptedConnection([
    [/^SELECT owner_epoch, owner_connection/, () => row],
    [/FOR UPDATE/, () => row],
    [/^UPDATE .*SET binlog_file/s, () => ({ affectedRows: options.checkpointMatches ?? 1 })],
  ]);
}

describe('statementsWith', () => {
  it('adds nothing to a plain position (position set)', () => {
    expect(statementsWith(STREAM, EPOCH, { position, sourceTimestamp: null })).toEqual([]);
  });

  it("notes the XA transaction whose prepare group was passed as not ours (skip)", () => {
    const [note, ...rest] = statementsWith(STREAM, EPOCH, { position, sourceTimestamp: 5, passedXa: { xid: "X'31',X'',1", gtid: '0-1-8' } });
    expect(rest).toEqual([]);
    expect(note!.sql).toMatch(/^INSERT INTO `binlog_sync`\.`xa_pending`/);
    expect(note!.params).toEqual([STREAM, "X'31',X'',1", false, '0-1-8']);
  });

  it('records the masking under our epoch, also "not masked" (snapshot)', () => {
    for (const record of ['{"rules":["db.t.c=hash"],"key":"ab12"}', null]) {
      const [masking, ...rest] = statementsWith(STREAM, EPOCH, { position, sourceTimestamp: null, masking: { record } });
      expect(rest).toEqual([]);
      expect(masking!.sql).toMatch(/^UPDATE .*SET masking = \? WHERE stream_id = \? AND owner_epoch = \?$/);
      expect(masking!.params).toEqual([record, STREAM, EPOCH]);
    }
  });
});

describe('writeCheckpoint', () => {
  const write: PositionWrite = { position, sourceTimestamp: 1_700_000_000_000, masking: { record: null }, passedXa: { xid: "X'31',X'',1", gtid: '0-1-8' } };

  it('claims the stream, then commits the checkpoint and what goes with it in one transaction', async () => {
    const conn = replica({ owner: EPOCH - 1 });
    await writeCheckpoint(conn, STREAM, EPOCH, write);
    const commits = conn.verbs.flatMap((verb, i) => (verb === 'COMMIT' ? [i] : []));
    expect(commits).toHaveLength(2);
    // The claim, committed on its own.
    expect(conn.verbs.slice(0, commits[0]! + 1)).toEqual([
      'SELECT owner_epoch, owner_connection,',
      // (The row first, on its own: no gap lock for the locking read to take.)
      'INSERT IGNORE INTO',
      'START TRANSACTION',
      'SELECT binlog_file, binlog_position,',
      'UPDATE `binlog_sync`.`positions` SET',
      'COMMIT',
    ]);
    expect(conn.sent[4]!.params).toEqual([EPOCH, STREAM]);
    // The write: checkpoint first (its row count is the fence), then the notes, then COMMIT.
    const written = conn.sent.slice(commits[0]! + 1);
    expect(written.map((s) => s.sql.trim().split(/\s+/).slice(0, 3).join(' '))).toEqual([
      'START TRANSACTION',
      'UPDATE `binlog_sync`.`positions` SET',
      'INSERT INTO `binlog_sync`.`xa_pending`',
      'UPDATE `binlog_sync`.`positions` SET',
      'COMMIT',
    ]);
    expect(written[1]!.sql).toMatch(/SET binlog_file = \?/);
    // (No stream sequence given: the one stored is cleared.)
    expect(written[1]!.params).toEqual([position.file, position.position, position.gtid, write.sourceTimestamp, null, STREAM, EPOCH]);
    expect(written[3]!.sql).toMatch(/SET masking = \?/);
    expect(conn.verbs).not.toContain('ROLLBACK');
  });

  it("writes the relay stream's message with the position (position set --current --from)", async () => {
    const conn = replica();
    await writeCheckpoint(conn, STREAM, EPOCH, { position, sourceTimestamp: null, streamSeq: 4711 });
    const update = conn.sent.find((s) => /SET binlog_file = \?/.test(s.sql))!;
    expect(update.sql).toMatch(/stream_seq = \?/);
    expect(update.params).toEqual([position.file, position.position, position.gtid, null, 4711, STREAM, EPOCH]);
  });

  it('claims a stream never written before with a row of its own', async () => {
    const conn = replica();
    await writeCheckpoint(conn, STREAM, EPOCH, { position, sourceTimestamp: null });
    expect(conn.verbs).toContain('INSERT INTO `binlog_sync`.`positions`');
  });

  it('writes nothing when a later epoch already owns the stream', async () => {
    const conn = replica({ owner: EPOCH + 1 });
    await expect(writeCheckpoint(conn, STREAM, EPOCH, write)).rejects.toBeInstanceOf(FencedError);
    expect(conn.sent.some((s) => /SET binlog_file|xa_pending|SET masking/.test(s.sql))).toBe(false);
    expect(conn.verbs.at(-1)).toBe('ROLLBACK');
  });

  it('rolls back, without the notes, when a later epoch claimed the stream after our claim', async () => {
    const conn = replica({ owner: EPOCH - 1, checkpointMatches: 0 });
    await expect(writeCheckpoint(conn, STREAM, EPOCH, write)).rejects.toThrow(/another binlog-sync process took over this replication stream/);
    const afterCheckpoint = conn.verbs.slice(conn.sent.findIndex((s) => /SET binlog_file/.test(s.sql)) + 1);
    expect(afterCheckpoint).toEqual(['ROLLBACK']);
  });
});

describe('runFenced', () => {
  const checkpoint = { sql: 'UPDATE positions SET binlog_file = ?', params: ['f'] };

  it('rolls back when a statement that goes with the checkpoint fails, and passes its error on', async () => {
    const refused = new Error('Duplicate entry');
    const conn = new ScriptedConnection([
      [
        /^INSERT/,
        () => {
          throw refused;
        },
      ],
    ]);
    await expect(runFenced(conn, EPOCH, checkpoint, [{ sql: 'INSERT INTO xa_pending', params: [] }])).rejects.toBe(refused);
    expect(conn.verbs).toEqual(['START TRANSACTION', 'UPDATE positions SET', 'INSERT INTO xa_pending', 'ROLLBACK']);
  });

  it('reads a missing row count as no row written', async () => {
    const conn = new ScriptedConnection([[/^UPDATE/, () => ({})]]);
    await expect(runFenced(conn, EPOCH, checkpoint, [])).rejects.toBeInstanceOf(FencedError);
    expect(conn.verbs).toEqual(['START TRANSACTION', 'UPDATE positions SET', 'ROLLBACK']);
  });
});

describe('mirrorIntoState', () => {
  const root = mkdtempSync(join(tmpdir(), 'binlog-sync-position-writer-'));
  let counter = 0;
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  function stateWithError(): StateStore {
    const state = StateStore.open(join(mkdtempSync(join(root, `t${++counter}-`)), 'state.sqlite'), { create: true });
    state.setLastError({ message: 'Duplicate entry', code: 'APPLY', file: 'mysql-bin.000003', position: 900, gtid: '0-1-7', table: 'db.t', statement: 'insert', at: new Date().toISOString() });
    return state;
  }

  it('saves the position, clears the recorded error and tells why in the history', () => {
    const state = stateWithError();
    try {
      mirrorIntoState(state, { position, sourceTimestamp: null, history: { event: 'set', detail: 'snapshot' } });
      expect(state.getPosition()).toMatchObject({ ...position, sourceTimestamp: null });
      expect(state.getLastError()).toBeNull();
      expect(state.history(1)[0]).toMatchObject({ event: 'set', ...position, detail: 'snapshot' });
    } finally {
      state.close();
    }
  });

  it("shows the history entry's own GTID when given one (skip: the skipped transaction's)", () => {
    const state = stateWithError();
    try {
      const to = { file: 'mysql-bin.000003', position: 1500, gtid: '0-1-8,1-2-3' };
      mirrorIntoState(state, { position: to, sourceTimestamp: 1_700_000_000_000, history: { event: 'skip', gtid: '0-1-8', detail: 'skipped GTID 0-1-8' } });
      expect(state.getPosition()).toMatchObject({ ...to, sourceTimestamp: 1_700_000_000_000 });
      expect(state.history(1)[0]).toMatchObject({ event: 'skip', file: to.file, position: 1500, gtid: '0-1-8', detail: 'skipped GTID 0-1-8' });
      expect(state.getLastError()).toBeNull();
    } finally {
      state.close();
    }
  });
});
