// The joining of DELETEs and UPDATEs of rows by key, of consecutive rows
// events (the source transactions of a commit group), into one statement
// (statement-buffer.ts, from the KeyLists of sql/statements.ts): the joined
// statement is the one a single event of all their rows builds, and only
// consecutive statements of one list with disjoint keys join.
import { describe, expect, it } from 'vitest';
import { JOINED_KEY_ROWS, StatementBuffer, buffered, disjointKeys, joinKeyLists, type Buffered } from '../../../src/apply/statement-buffer.js';
import { SqlRowApplier } from '../../../src/apply/row-applier.js';
import { prepareRowChange } from '../../../src/sql/prepare.js';
import { KEY_LIST_ROWS, buildRowChange, type SqlFlavor } from '../../../src/sql/statements.js';
import type { ColumnDef, RowChange, RowImage, TableDef } from '../../../src/source/events.js';

const columns = (names: string[], kind: ColumnDef['kind'] = 'plain'): ColumnDef[] => names.map((name) => ({ name, kind }));
const rides: TableDef = { database: 'park', table: 'rides', columns: columns(['id', 'zone', 'name']), primaryKey: [0, 1] };
const other: TableDef = { database: 'park', table: 'shops', columns: columns(['id', 'zone', 'name']), primaryKey: [0, 1] };
const keyless: TableDef = { database: 'park', table: 'log', columns: columns(['id', 'zone', 'name']), primaryKey: [] };
const ALL = [true, true, true];

function deletes(ids: number[], table = rides): RowChange {
  return { kind: 'delete', table, present: ALL, rows: ids.map((id) => ({ before: [id, id % 3, `n${id}`] })), noForeignKeyChecks: false };
}

function updates(ids: number[], table = rides, presentAfter = ALL): RowChange {
  const rows = ids.map((id) => ({ before: [id, id % 3, `n${id}`] as RowImage, after: [id, id % 3, `m'${id}`] as RowImage }));
  return { kind: 'update', table, present: ALL, presentAfter, rows, noForeignKeyChecks: false };
}

let events = 0;

/** A rows event's statements as the applier buffers them: built here (values as parameters) or ahead (values inline). */
function statementsOf(change: RowChange, flavor: SqlFlavor, ahead: boolean): Buffered[] {
  const label = { context: { gtid: `0-1-${++events}`, file: 'mysql-bin.000001', position: events * 100 }, kind: change.kind, table: 'park.rides', event: events };
  const built = ahead ? prepareRowChange(change, { flavor, loadData: false }).statements : buildRowChange(change, { setBased: true, flavor });
  return built.map((s) => buffered(s as Parameters<typeof buffered>[0], label));
}

function bufferOf(changes: RowChange[], flavor: SqlFlavor = 'mariadb', ahead = false): Buffered[] {
  const buffer = new StatementBuffer();
  for (const change of changes) for (const s of statementsOf(change, flavor, ahead)) buffer.add(s);
  return buffer.take(true).flat();
}

describe('joining DELETEs and UPDATEs by key across rows events', () => {
  it.each<[SqlFlavor, boolean]>([
    ['mariadb', false],
    ['mariadb', true],
    ['mysql', false],
    ['mysql', true],
  ])('makes of one-row and multi-row events the statement one event of all their rows makes (%s, built ahead: %s)', (flavor, ahead) => {
    const runs = [[1], [2, 3], [4], [5], [6, 7, 8]];
    for (const make of [deletes, updates]) {
      const joined = bufferOf(runs.map((ids) => make(ids)), flavor, ahead);
      const whole = statementsOf(make(runs.flat()), flavor, ahead);
      expect(joined).toHaveLength(1);
      expect(whole).toHaveLength(1);
      expect([joined[0]!.sql, joined[0]!.params, joined[0]!.expectRows]).toEqual([whole[0]!.sql, whole[0]!.params, 8]);
      expect(joined[0]!.joined).toBe(true);
      // Its errors name the first event (a failure applies the transactions again one at a time: batch-sender.ts).
      expect(joined[0]!.context.gtid).toBe(`0-1-${events - runs.length}`);
    }
  });

  it('joins only consecutive statements of one table, kind and columns', () => {
    const texts = (changes: RowChange[]): string[] => bufferOf(changes).map((b) => b.sql.split(' ').slice(0, 3).join(' '));
    // Something between (an insert of the same table: a key deleted and inserted again must stay in order).
    const insert: RowChange = { kind: 'insert', table: rides, present: ALL, rows: [{ after: [1, 1, 'x'] }], noForeignKeyChecks: false };
    expect(bufferOf([deletes([1]), insert, deletes([2])]).map((b) => b.joined ?? false)).toEqual([false, false, false]);
    // Another table, another kind, other columns set: statements of their own.
    expect(texts([deletes([1]), deletes([2], other), deletes([3])])).toEqual(['DELETE FROM `park`.`rides`', 'DELETE FROM `park`.`shops`', 'DELETE FROM `park`.`rides`']);
    expect(bufferOf([deletes([1]), updates([2]), deletes([3])])).toHaveLength(3);
    // (An after image's key, kept, is not set: `name` alone either way. One that sets nothing else has no list.)
    expect(bufferOf([updates([1]), updates([2], rides, [false, false, true]), updates([3], rides, [true, true, false])]).map((b) => b.expectRows)).toEqual([2, 1]);
    // A keyless table's rows, located by their whole image (LIMIT 1), never join.
    expect(bufferOf([deletes([1], keyless), deletes([2], keyless)]).map((b) => b.sql)).toEqual([
      'DELETE FROM `park`.`log` WHERE `id` <=> ? AND `zone` <=> ? AND `name` <=> ? LIMIT 1',
      'DELETE FROM `park`.`log` WHERE `id` <=> ? AND `zone` <=> ? AND `name` <=> ? LIMIT 1',
    ]);
  });

  it('never joins a statement that touches a key of the statement before it', () => {
    // (The source cannot delete a key twice without an insert between; an update may change one row in two transactions.)
    const joined = bufferOf([updates([1]), updates([2]), updates([1]), updates([3])]);
    expect(joined.map((b) => [b.expectRows, b.params.filter((_, i) => i % 3 === 0)])).toEqual([
      [2, [1, 2]],
      [2, [1, 3]],
    ]);
    expect(bufferOf([deletes([1, 2]), deletes([3, 2])]).map((b) => b.expectRows)).toEqual([2, 2]);
    expect(disjointKeys(new Set(['[1,1]', '[2,2]']), '[3,0]\n[1,1]')).toBe(false);
    expect(disjointKeys(new Set(['[1,1]', '[2,2]']), '[3,0]\n[1,2]')).toBe(true);
  });

  it('leaves careful mode, large statements and large values as they were', () => {
    // Careful mode (and the applier's one-by-one statements for tables that cannot roll back) builds no list.
    expect(buildRowChange(deletes([1]), { setBased: false, flavor: 'mariadb' })[0]!.keyList).toBeUndefined();
    // An event of many rows is a large statement already: it takes no list.
    const many = Array.from({ length: KEY_LIST_ROWS + 1 }, (_, i) => i);
    expect(buildRowChange(deletes(many))[0]!.keyList).toBeUndefined();
    expect(buildRowChange(deletes(many.slice(1)))[0]!.keyList?.rows).toBe(KEY_LIST_ROWS);
    // A value left at a mark (built ahead, 16 KiB or more) never joins.
    const large = updates([1]);
    large.rows[0]!.after![2] = 'x'.repeat(20_000);
    expect(prepareRowChange(large, { flavor: 'mariadb', loadData: false }).statements[0]!.keyList).toBeUndefined();
  });

  it('keeps a joined statement within its rows, and does not join a joined one again', () => {
    const runs = Array.from({ length: JOINED_KEY_ROWS / 50 + 1 }, (_, n) => Array.from({ length: 50 }, (_, i) => n * 50 + i));
    expect(bufferOf(runs.map((ids) => deletes(ids))).map((b) => b.expectRows)).toEqual([JOINED_KEY_ROWS, 50]);
    const [a, b] = bufferOf([deletes([1]), deletes([2]), insertOf(9), deletes([3]), deletes([4])]).filter((s) => s.keyList);
    const buffer = new StatementBuffer();
    buffer.add(a!);
    buffer.add(b!);
    expect(buffer.length).toBe(2);
  });

  it('joins a one-row UPDATE with its key first, as the list has it (its own statement sets the new values first)', () => {
    const [one] = statementsOf(updates([4]), 'mariadb', false);
    expect(one!.params).toEqual([4, 1, "m'4", 4, 1]);
    const [two] = statementsOf(updates([5]), 'mariadb', false);
    expect(joinKeyLists(one!, two!)).toMatchObject({
      sql:
        'UPDATE `park`.`rides` AS t JOIN (SELECT ? AS `k0`, ? AS `k1`, ? AS `s0` UNION ALL VALUES (?, ?, ?)) AS v ' +
        'ON t.`id` = v.`k0` AND t.`zone` = v.`k1` SET t.`name` = v.`s0`',
      params: [4, 1, "m'4", 5, 2, "m'5"],
      keyList: { rows: 2, keys: '[4,1]\n[5,2]' },
    });
  });
});

function insertOf(id: number): RowChange {
  return { kind: 'insert', table: rides, present: ALL, rows: [{ after: [id, 0, 'x'] }], noForeignKeyChecks: false };
}

describe('SqlRowApplier: statements built ahead, of a table the replica cannot roll back', () => {
  it('are buffered without their key list: they join no other transaction', async () => {
    const applier = new SqlRowApplier({ query: () => Promise.reject(new Error('not asked')) }, 'mariadb', { grouped: true }, () => ({ flavor: 'mariadb', loadData: false }));
    const change = { ...deletes([1]), prepared: prepareRowChange(deletes([1]), { flavor: 'mariadb', loadData: false }) };
    const label = { context: { gtid: '0-1-1', file: null, position: null }, kind: 'delete' as const, table: 'park.rides', event: 1 };
    const [kept] = await applier.build({ ...change, prepared: prepareRowChange(deletes([1]), { flavor: 'mariadb', loadData: false }) }, label);
    expect(kept!.keyList).toBeDefined();
    const [alone] = await applier.build(change, label, { oneByOne: true });
    expect(alone!.sql).toBe('DELETE FROM `park`.`rides` WHERE `id` = 1 AND `zone` = 1');
    expect(alone!.keyList).toBeUndefined();
  });
});
