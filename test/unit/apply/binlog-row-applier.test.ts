// The BINLOG path's sending and its errors, on a connection of the test's
// (the integration suites prove the same against real servers).
import { describe, expect, it } from 'vitest';
import { BinlogRowApplier } from '../../../src/apply/binlog-row-applier.js';
import { ReplicaConnection, type ApplyConnection } from '../../../src/apply/replica-connection.js';
import { RunCapabilities } from '../../../src/capabilities.js';
import { ApplyError, CarefulRetryError } from '../../../src/errors.js';
import type { RowChange, TableDef } from '../../../src/source/events.js';

/** Answers every query with OK, or the rows statement after `failNext` is set with that server error. */
class ScriptedConnection implements ApplyConnection {
  readonly sent: string[] = [];
  failNext: { errno: number; message: string } | undefined;

  async query(query: string | { sql: Buffer }): Promise<[unknown, unknown]> {
    // (BINLOG statements go as the bytes of their query, given to mysql2 as `{ sql }`.)
    const sql = typeof query === 'string' ? query : query.sql.toString('latin1');
    this.sent.push(sql);
    const failure = this.failNext;
    if (failure && decoded(sql).startsWith('TM')) {
      this.failNext = undefined;
      throw Object.assign(new Error(failure.message), { errno: failure.errno, sqlMessage: failure.message });
    }
    return [{ affectedRows: 0 }, undefined];
  }
  async end(): Promise<void> {}
  destroy(): void {}
}

const table: TableDef = { database: 'park', table: 'rides', columns: [{ name: 'id', kind: 'plain' }], primaryKey: [0] };
const context = { gtid: '0-1-9', file: 'mysql-bin.000002', position: 880 };
const change = (statement: number, kind: RowChange['kind'] = 'delete'): RowChange => ({
  kind,
  table,
  present: [true],
  rows: [],
  noForeignKeyChecks: false,
  statementEnd: true,
  binlog: { head: Buffer.from('TM'), event: Buffer.from(`ROWS${statement}`), statement, rows: 1 },
});

function setUp(): { conn: ScriptedConnection; applier: BinlogRowApplier; capabilities: RunCapabilities } {
  const conn = new ScriptedConnection();
  const capabilities = new RunCapabilities(undefined);
  const applier = new BinlogRowApplier(new ReplicaConnection(conn), capabilities);
  // (Not a real event: the test reads back what it wrote.)
  applier.setFormat(Buffer.from('FDE'));
  return { conn, applier, capabilities };
}

const decoded = (sql: string): string => Buffer.from(sql.slice("BINLOG '".length, -1), 'base64').toString();

describe('the BINLOG path', () => {
  it("sends the format description once per connection, before the first rows, and each batch's events in order", async () => {
    const { conn, applier } = setUp();
    const label = { context, kind: 'delete' as const, table: 'park.rides', event: 1 };
    const [first] = await applier.build(change(1), label);
    await applier.send(first!);
    const [second] = await applier.build(change(2), { ...label, event: 2 });
    await applier.send(second!);
    expect(conn.sent.map(decoded)).toEqual(['FDE', 'TMROWS1', 'TMROWS2']);
    applier.setFormat(Buffer.from('FDE')); // a new binlog file: read again
    const [third] = await applier.build(change(3), { ...label, event: 3 });
    await applier.send(third!);
    expect(conn.sent.map(decoded).slice(3)).toEqual(['FDE', 'TMROWS3']);
  });

  it('says a missing row the way the SQL path does, naming its table, kind and position', async () => {
    const { conn, applier } = setUp();
    const [batch] = await applier.build(change(1), { context, kind: 'delete', table: 'park.rides', event: 1 });
    conn.failNext = { errno: 1032, message: "Can't find record in 'rides'" };
    const error = await applier.send(batch!).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApplyError);
    expect((error as ApplyError).message).toBe(
      'the row to delete in park.rides is not on the replica (the replica has drifted from the source) at GTID 0-1-9, mysql-bin.000002:880; ' +
        'repair the row on the replica and start again, or pass this transaction with `binlog-sync skip`',
    );
    expect((error as ApplyError).location).toMatchObject({ table: 'park.rides', statement: 'delete', gtid: '0-1-9' });
  });

  it('applies the transactions again one event at a time when a statement of several events fails', async () => {
    const { conn, applier } = setUp();
    const [batch] = await applier.build(change(1), { context, kind: 'update', table: 'park.rides', event: 1 });
    batch!.binlog!.count = 3;
    conn.failNext = { errno: 1062, message: "Duplicate entry '7' for key 'PRIMARY'" };
    const error = await applier.send(batch!).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CarefulRetryError);
    expect(String((error as CarefulRetryError).cause)).toMatch(/one of 3 rows events applied together \(from park\.rides on\) failed on the replica: Duplicate entry '7'/);
  });

  it('turns itself off for the run when the replica refuses BINLOG statements, and the rows are applied as SQL', async () => {
    const { conn, applier, capabilities } = setUp();
    const [batch] = await applier.build(change(1), { context, kind: 'insert', table: 'park.rides', event: 1 });
    conn.failNext = { errno: 1227, message: 'Access denied; you need (at least one of) the SUPER, BINLOG REPLAY privilege(s)' };
    await expect(applier.send(batch!)).rejects.toBeInstanceOf(CarefulRetryError);
    expect(capabilities.binlogStatements).toBe(false);
    // Events still arriving as bytes make the session stream again, decoding them.
    expect(() => applier.build(change(2), { context, kind: 'insert', table: 'park.rides', event: 2 })).toThrow(CarefulRetryError);
  });
});
