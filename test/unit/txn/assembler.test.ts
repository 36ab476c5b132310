import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareFilePositions, type BinlogPosition } from '../../../src/position.js';
import type { RowsKind, SourceEvent, TableDef } from '../../../src/source/events.js';
import { APPLY_BY_HAND, TransactionAssembler, type ApplyAction } from '../../../src/txn/assembler.js';
import type { RowChange } from '../../../src/source/events.js';
import { createFilter, type FilterSettings } from '../../../src/txn/filter.js';

// ---------------------------------------------------------------------------
// Event builders

const FILE = 'mariadb-bin.000001';
const MYSQL_UUID = '3e11fa47-71ca-11e1-9e33-c80aa9429562';

/** Source time of the n-th event, so each action's timestamp says which event it came from. */
const ts = (n: number): number => 1_700_000_000_000 + n * 1000;

function gtid(id: string, impliesBegin: boolean, nextPosition: number, time = ts(0)): SourceEvent {
  return { type: 'gtid', gtid: id, impliesBegin, file: FILE, nextPosition, timestamp: time };
}

function query(sql: string, nextPosition: number, database = 'app', time = ts(0), sqlMode?: bigint): SourceEvent {
  return {
    type: 'query',
    sql,
    database,
    ...(sqlMode !== undefined ? { sqlMode } : {}),
    file: FILE,
    nextPosition,
    timestamp: time,
  };
}

function table(database: string, name: string): TableDef {
  return {
    database,
    table: name,
    columns: [
      { name: 'id', kind: 'plain' },
      { name: 'name', kind: 'plain' },
    ],
    primaryKey: [0],
  };
}

function rows(database: string, name: string, nextPosition: number, kind: RowsKind = 'insert', time = ts(0)): SourceEvent {
  const rowList =
    kind === 'insert'
      ? [{ after: [1, 'a'] }]
      : kind === 'delete'
        ? [{ before: [1, 'a'] }]
        : [{ before: [1, 'a'], after: [1, 'b'] }];
  return {
    type: 'rows',
    bytes: 64,
    kind,
    table: table(database, name),
    present: [true, true],
    ...(kind === 'update' ? { presentAfter: [false, true] } : {}),
    rows: rowList,
    noForeignKeyChecks: false,
    file: FILE,
    nextPosition,
    timestamp: time,
  };
}

function xid(nextPosition: number, time = ts(0)): SourceEvent {
  return { type: 'xid', file: FILE, nextPosition, timestamp: time };
}

function rotate(file: string, position = 4): SourceEvent {
  return { type: 'rotate', file, position };
}

// ---------------------------------------------------------------------------
// Expected actions

function begin(id: string | null, time = ts(0)): ApplyAction {
  return { type: 'begin', gtid: id, timestamp: time };
}

function commit(position: BinlogPosition, id: string | null, time = ts(0)): ApplyAction {
  return { type: 'commit', position, timestamp: time, gtid: id };
}

const at = (position: number, file: string | null = FILE, gtidState: string | null = null): BinlogPosition => ({
  file,
  position,
  gtid: gtidState,
});

/** The rows action for `rows(database, name, ...)` once the database is renamed to `replicaDb`. */
function rowsAction(event: SourceEvent, replicaDb: string): ApplyAction {
  if (event.type !== 'rows') throw new Error('not a rows event');
  const change: RowChange = {
    kind: event.kind,
    table: { ...event.table, database: replicaDb },
    present: event.present,
    ...(event.presentAfter ? { presentAfter: event.presentAfter } : {}),
    rows: event.rows,
    noForeignKeyChecks: event.noForeignKeyChecks,
  };
  return { type: 'rows', change };
}

function ddl(
  sql: string,
  database: string | undefined,
  verb: string,
  targets: string[],
  sqlMode?: bigint,
  extra: Partial<Extract<ApplyAction, { type: 'ddl' }>> = {},
  time = ts(0),
): ApplyAction {
  return { type: 'ddl', sql, database, sqlMode, timeZone: undefined, time: { seconds: time / 1000, microseconds: 0 }, verb, targets, ...extra };
}

const SEED_AGAIN =
  'seed the replica again with `binlog-sync snapshot --drop-existing` (same --databases, filters and --state), then `binlog-sync start`';

function refused(sql: string, reason: string, remedy: string): ApplyAction {
  return { type: 'refused-statement', sql, reason, remedy };
}

function skipped(sql: string, reason: string): ApplyAction {
  return { type: 'skipped-statement', sql, reason };
}

function unparsable(sql: string, reason: string): ApplyAction {
  return refused(sql, `cannot tell which tables it changes: ${reason}`, APPLY_BY_HAND);
}

// ---------------------------------------------------------------------------
// Running

const SETTINGS: FilterSettings = {
  databases: ['app', 'shop', 'binlog_sync'],
  includeTables: [],
  excludeTables: ['app.audit_*'],
  rewriteDb: { shop: 'shop_copy' },
};

interface RunOptions {
  start?: BinlogPosition;
  gtidKnown?: boolean;
  gtidFlavor?: 'mariadb' | 'mysql';
  settings?: FilterSettings;
}

function assembler(options: RunOptions = {}): TransactionAssembler {
  return new TransactionAssembler({
    filter: createFilter(options.settings ?? SETTINGS),
    start: options.start ?? { file: FILE, position: 4, gtid: null },
    gtidKnown: options.gtidKnown ?? false,
    ...(options.gtidFlavor ? { gtidFlavor: options.gtidFlavor } : {}),
  });
}

function run(events: SourceEvent[], options: RunOptions = {}): ApplyAction[] {
  const a = assembler(options);
  return events.flatMap((e) => a.push(e));
}

function commits(actions: ApplyAction[]): Array<Extract<ApplyAction, { type: 'commit' }>> {
  return actions.filter((a): a is Extract<ApplyAction, { type: 'commit' }> => a.type === 'commit');
}

// ---------------------------------------------------------------------------

describe('TransactionAssembler: transaction boundaries', () => {
  const usersInsert = rows('app', 'users', 500, 'insert', ts(2));
  const usersUpdate = rows('app', 'users', 700, 'update', ts(3));

  it.each<[string, SourceEvent[], ApplyAction[]]>([
    [
      'MariaDB: GTID (implies BEGIN), rows, XID',
      [gtid('0-1-6', true, 400, ts(1)), usersInsert, xid(600, ts(4))],
      [begin('0-1-6', ts(1)), rowsAction(usersInsert, 'app'), commit(at(600), '0-1-6', ts(4))],
    ],
    [
      'MariaDB: several rows events in one transaction',
      [gtid('0-1-6', true, 400, ts(1)), usersInsert, usersUpdate, xid(800, ts(4))],
      [begin('0-1-6', ts(1)), rowsAction(usersInsert, 'app'), rowsAction(usersUpdate, 'app'), commit(at(800), '0-1-6', ts(4))],
    ],
    [
      'MySQL: GTID (no BEGIN), query BEGIN, rows, XID',
      [gtid(`${MYSQL_UUID}:23`, false, 300, ts(0)), query('BEGIN', 400, 'app', ts(1)), usersInsert, xid(600, ts(4))],
      [begin(`${MYSQL_UUID}:23`, ts(1)), rowsAction(usersInsert, 'app'), commit(at(600), `${MYSQL_UUID}:23`, ts(4))],
    ],
    [
      'MySQL: START TRANSACTION opens the transaction like BEGIN',
      [gtid(`${MYSQL_UUID}:23`, false, 300), query('START TRANSACTION', 400, 'app', ts(1)), usersInsert, xid(600, ts(4))],
      [begin(`${MYSQL_UUID}:23`, ts(1)), rowsAction(usersInsert, 'app'), commit(at(600), `${MYSQL_UUID}:23`, ts(4))],
    ],
    [
      'MySQL: DDL right after a GTID is a transaction of its own',
      [gtid(`${MYSQL_UUID}:24`, false, 300), query('CREATE TABLE t (id INT)', 450, 'app', ts(5), 0x54200000n)],
      [
        begin(`${MYSQL_UUID}:24`, ts(5)),
        ddl('CREATE TABLE t (id INT)', 'app', 'CREATE TABLE', ['app.t'], 0x54200000n, {}, ts(5)),
        commit(at(450), `${MYSQL_UUID}:24`, ts(5)),
      ],
    ],
    [
      'MariaDB: standalone DDL (GTID without BEGIN) with no default database',
      [gtid('0-1-7', false, 300), query('ALTER TABLE app.users ADD x INT', 450, '', ts(5))],
      [
        begin('0-1-7', ts(5)),
        ddl('ALTER TABLE app.users ADD x INT', undefined, 'ALTER TABLE', ['app.users'], undefined, {}, ts(5)),
        commit(at(450), '0-1-7', ts(5)),
      ],
    ],
    [
      'non-transactional engine: COMMIT logged as a query ends the transaction',
      [gtid('0-1-8', true, 400, ts(1)), usersInsert, query('COMMIT', 900, 'app', ts(6))],
      [begin('0-1-8', ts(1)), rowsAction(usersInsert, 'app'), commit(at(900), '0-1-8', ts(6))],
    ],
    [
      'ROLLBACK ends the transaction without a commit',
      [gtid('0-1-9', true, 400, ts(1)), usersInsert, query('ROLLBACK', 900)],
      [begin('0-1-9', ts(1)), rowsAction(usersInsert, 'app'), { type: 'rollback' }],
    ],
    [
      'ROLLBACK with a trailing semicolon',
      [gtid('0-1-9', true, 400, ts(1)), query('ROLLBACK;', 900)],
      [begin('0-1-9', ts(1)), { type: 'rollback' }],
    ],
    [
      'SAVEPOINT and ROLLBACK TO SAVEPOINT pass through inside a transaction',
      [
        gtid('0-1-10', true, 400, ts(1)),
        usersInsert,
        query('SAVEPOINT `sp1`', 550),
        usersUpdate,
        query('ROLLBACK TO SAVEPOINT `sp1`', 750),
        xid(800, ts(4)),
      ],
      [
        begin('0-1-10', ts(1)),
        rowsAction(usersInsert, 'app'),
        { type: 'statement', sql: 'SAVEPOINT `sp1`' },
        rowsAction(usersUpdate, 'app'),
        { type: 'statement', sql: 'ROLLBACK TO SAVEPOINT `sp1`' },
        commit(at(800), '0-1-10', ts(4)),
      ],
    ],
    [
      'a BEGIN inside an open transaction does not open another',
      [gtid('0-1-11', true, 400, ts(1)), query('BEGIN', 450), usersInsert, xid(600, ts(4))],
      [begin('0-1-11', ts(1)), rowsAction(usersInsert, 'app'), commit(at(600), '0-1-11', ts(4))],
    ],
    [
      'DDL inside a transaction (CREATE TABLE ... SELECT) runs in line',
      [gtid('0-1-12', true, 400, ts(1)), query('CREATE TABLE t2 AS SELECT 1 AS id', 450), usersInsert, xid(600, ts(4))],
      [
        begin('0-1-12', ts(1)),
        ddl('CREATE TABLE t2 AS SELECT 1 AS id', 'app', 'CREATE TABLE', ['app.t2']),
        rowsAction(usersInsert, 'app'),
        commit(at(600), '0-1-12', ts(4)),
      ],
    ],
    [
      'rows without a GTID event open a transaction (gtid null)',
      [usersInsert, xid(600, ts(4))],
      [begin(null, ts(2)), rowsAction(usersInsert, 'app'), commit(at(600), null, ts(4))],
    ],
    [
      'an XID with nothing open still yields a begin/commit pair',
      [gtid('0-1-13', false, 400), xid(600, ts(4))],
      [begin('0-1-13', ts(4)), commit(at(600), '0-1-13', ts(4))],
    ],
    [
      'heartbeats produce nothing',
      [{ type: 'heartbeat', file: FILE, position: 1234 }],
      [],
    ],
    [
      'an unsupported event becomes an unsupported action',
      [{ type: 'unsupported', what: 'XA PREPARE', file: FILE, nextPosition: 800, timestamp: ts(1) }],
      [{ type: 'unsupported', what: 'XA PREPARE', file: FILE, position: 800 }],
    ],
  ])('%s', (_name, events, expected) => {
    expect(run(events)).toEqual(expected);
  });

  it('a transaction after a ROLLBACK starts afresh with its own GTID', () => {
    const actions = run(
      [gtid('0-1-9', true, 400), rows('app', 'users', 500), query('ROLLBACK', 600), gtid('0-1-10', true, 700), xid(800)],
      { start: { file: FILE, position: 4, gtid: '0-1-8' }, gtidKnown: true },
    );
    expect(actions.map((a) => a.type)).toEqual(['begin', 'rows', 'rollback', 'begin', 'commit']);
    expect(actions[3]).toEqual(begin('0-1-10'));
    expect(actions[4]).toEqual(commit(at(800, FILE, '0-1-10'), '0-1-10'));
  });
});

describe('TransactionAssembler: XA transactions (two event groups)', () => {
  const XID = "X'7431',X'',1";
  const xaGtid = (id: string, phase: 'prepare' | 'complete', impliesBegin: boolean, nextPosition: number): SourceEvent => ({
    ...gtid(id, impliesBegin, nextPosition),
    ...{ xa: { phase, xid: XID } },
  } as SourceEvent);
  const prepareEvent = (nextPosition: number, onePhase = false): SourceEvent => ({ type: 'xa-prepare', xid: XID, onePhase, file: FILE, nextPosition, timestamp: ts(0) });

  it('applies the prepare group as an XA transaction, its own XA statements left to the applier', () => {
    const insert = rows('app', 'users', 300);
    const actions = run([xaGtid('0-1-5', 'prepare', true, 100), query(`XA START ${XID}`, 200), insert, query(`XA END ${XID}`, 350), prepareEvent(400)]);
    expect(actions).toEqual([
      { type: 'begin', gtid: '0-1-5', timestamp: ts(0), xa: XID },
      rowsAction(insert, 'app'),
      { ...commit(at(400), '0-1-5'), xa: XID },
    ]);
  });

  it.each([
    ['COMMIT', `XA COMMIT ${XID}`],
    ['ROLLBACK', `XA ROLLBACK ${XID}`],
  ] as const)('turns the group that ends it (%s) into an xa-end with its own position', (verb, sql) => {
    const actions = run([xaGtid('0-1-6', 'complete', false, 500), query(sql, 600)]);
    expect(actions).toEqual([begin('0-1-6'), { type: 'xa-end', verb, xid: XID }, commit(at(600), '0-1-6')]);
  });

  it('treats a one-phase XA commit as a plain transaction', () => {
    const insert = rows('app', 'users', 300);
    const actions = run([gtid('0-1-7', true, 100), query(`XA START ${XID}`, 200), insert, query(`XA END ${XID}`, 350), prepareEvent(400, true)]);
    expect(commits(actions)).toEqual([commit(at(400), '0-1-7')]);
    expect(actions.some((a) => a.type === 'begin' && a.xa !== undefined)).toBe(false);
  });
});

describe('TransactionAssembler: commit positions', () => {
  it('uses the start file until a rotate, then the rotated-to file', () => {
    const actions = run([
      gtid('0-1-1', true, 300),
      xid(600),
      rotate('mariadb-bin.000002'),
      gtid('0-1-2', true, 300),
      xid(700),
    ]);
    expect(commits(actions).map((c) => c.position)).toEqual([at(600, 'mariadb-bin.000001'), at(700, 'mariadb-bin.000002')]);
  });

  it('takes the file from the first rotate when the start has none', () => {
    const actions = run([rotate('mysql-bin.000042'), gtid('0-1-1', true, 300), xid(600)], {
      start: { file: null, position: null, gtid: null },
    });
    expect(commits(actions).map((c) => c.position)).toEqual([at(600, 'mysql-bin.000042')]);
  });

  it('a rotate is not an action', () => {
    expect(assembler().push(rotate('mariadb-bin.000002'))).toEqual([]);
  });

  it.each<[string, SourceEvent]>([
    ['XID', xid(0)],
    ['COMMIT query', query('COMMIT', 0)],
  ])('a %s with nextPosition 0 carries no file/offset, only the GTID state', (_name, end) => {
    const actions = run([gtid('0-1-6', true, 0), rows('app', 'users', 0), end], {
      start: { file: FILE, position: 4, gtid: '0-1-5' },
      gtidKnown: true,
    });
    expect(commits(actions)).toEqual([commit({ file: null, position: null, gtid: '0-1-6' }, '0-1-6')]);
  });

  it("stamps each commit with the relay stream's message its end came in (start --from), and none without", () => {
    const stamped = <T extends SourceEvent>(event: T, streamSeq: number): T => ({ ...event, streamSeq });
    const actions = run([
      gtid('0-1-1', true, 300),
      rows('app', 'users', 0),
      stamped(xid(600) as Extract<SourceEvent, { type: 'xid' }>, 41),
      gtid('0-1-2', false, 700),
      stamped(query('CREATE TABLE t (id INT)', 800) as Extract<SourceEvent, { type: 'query' }>, 42),
      gtid('0-1-3', true, 900),
      query('BEGIN', 950),
      rows('app', 'users', 0),
      stamped(query('COMMIT', 1000) as Extract<SourceEvent, { type: 'query' }>, 43),
      gtid('0-1-4', true, 1100),
      rows('app', 'users', 0),
      xid(1200),
    ]);
    expect(commits(actions).map((c) => [c.position.position, c.streamSeq])).toEqual([
      [600, 41],
      [800, 42],
      [1000, 43],
      [1200, undefined],
    ]);
    expect(commits(actions)[3]).not.toHaveProperty('streamSeq');
  });
});

describe('TransactionAssembler: GTID state', () => {
  const events = [
    gtid('0-1-6', true, 300),
    rows('app', 'users', 400),
    xid(500),
    gtid('1-2-3', true, 600),
    rows('app', 'users', 700),
    xid(800),
    gtid('0-1-7', false, 900),
    query('CREATE TABLE app.t (id INT)', 1000),
  ];

  it('keeps the full GTID state when the start state is known', () => {
    const actions = run(events, { start: { file: FILE, position: 4, gtid: '0-1-5' }, gtidKnown: true });
    expect(commits(actions).map((c) => [c.gtid, c.position.gtid])).toEqual([
      ['0-1-6', '0-1-6'],
      ['1-2-3', '0-1-6,1-2-3'],
      ['0-1-7', '0-1-7,1-2-3'],
    ]);
  });

  it('keeps a MySQL GTID set, tagged GTIDs (MySQL 8.3+) included, when the start set is known', () => {
    const TAGGED = '55778904-0299-11f1-b1b8-4ef0c4956feb';
    const mysql = [
      gtid(`${MYSQL_UUID}:6`, false, 300),
      query('BEGIN', 350, 'app'),
      rows('app', 'users', 400),
      xid(500),
      gtid(`${TAGGED}:mytag:3`, false, 600),
      query('BEGIN', 650, 'app'),
      rows('app', 'users', 700),
      xid(800),
    ];
    const actions = run(mysql, { start: { file: FILE, position: 4, gtid: `${MYSQL_UUID}:1-5,${TAGGED}:1-13:mytag:1-2` }, gtidKnown: true, gtidFlavor: 'mysql' });
    expect(commits(actions).map((c) => [c.gtid, c.position.gtid])).toEqual([
      [`${MYSQL_UUID}:6`, `${MYSQL_UUID}:1-6,${TAGGED}:1-13:mytag:1-2`],
      [`${TAGGED}:mytag:3`, `${MYSQL_UUID}:1-6,${TAGGED}:1-13:mytag:1-3`],
    ]);
  });

  it('starts from an empty state when the known start GTID is null', () => {
    const actions = run(events.slice(0, 3), { start: { file: FILE, position: 4, gtid: null }, gtidKnown: true });
    expect(commits(actions).map((c) => c.position.gtid)).toEqual(['0-1-6']);
  });

  it('leaves the position GTID null when the start state is not known', () => {
    const actions = run(events, { start: { file: FILE, position: 4, gtid: '0-1-5' }, gtidKnown: false });
    expect(commits(actions).map((c) => [c.gtid, c.position.gtid])).toEqual([
      ['0-1-6', null],
      ['1-2-3', null],
      ['0-1-7', null],
    ]);
  });

  it('does not add a rolled-back transaction to the state', () => {
    const actions = run(
      [gtid('0-1-6', true, 300), query('ROLLBACK', 400), gtid('1-1-1', true, 500), xid(600)],
      { start: { file: FILE, position: 4, gtid: '0-1-5' }, gtidKnown: true },
    );
    expect(commits(actions).map((c) => c.position.gtid)).toEqual(['0-1-5,1-1-1']);
  });
});

describe('TransactionAssembler: filtering rows', () => {
  it.each<[string, string, string]>([
    ['a database that is not replicated', 'other', 'users'],
    ['an excluded table', 'app', 'audit_log'],
    ['the checkpoint database, even when listed', 'binlog_sync', 'position'],
  ])('rows of %s produce no rows action, but the transaction still commits', (_name, db, tbl) => {
    const actions = run([gtid('0-1-6', true, 300), rows(db, tbl, 400), xid(500)]);
    expect(actions).toEqual([begin('0-1-6'), commit(at(500), '0-1-6')]);
  });

  it('keeps the replicated rows of a transaction that also touches other tables', () => {
    const ours = rows('app', 'users', 500);
    const actions = run([gtid('0-1-6', true, 300), rows('other', 't', 400), ours, rows('app', 'audit_x', 600), xid(700)]);
    expect(actions).toEqual([begin('0-1-6'), rowsAction(ours, 'app'), commit(at(700), '0-1-6')]);
  });

  it.each<RowsKind>(['insert', 'update', 'delete'])('--rewrite-db renames the database of %s rows', (kind) => {
    const event = rows('shop', 'orders', 400, kind);
    const actions = run([gtid('0-1-6', true, 300), event, xid(500)]);
    const rowsActions = actions.filter((a) => a.type === 'rows');
    expect(rowsActions).toEqual([rowsAction(event, 'shop_copy')]);
    // The source event's table is left as it was.
    expect(event.type === 'rows' && event.table.database).toBe('shop');
  });
});

describe('TransactionAssembler: statements', () => {
  /** The actions between the begin and the commit of a standalone statement. */
  function statement(sql: string, database: string, sqlMode?: bigint): ApplyAction[] {
    const actions = run([gtid('0-1-6', false, 300), query(sql, 400, database, ts(0), sqlMode)]);
    expect(actions[0]).toEqual(begin('0-1-6'));
    expect(actions.at(-1)).toEqual(commit(at(400), '0-1-6'));
    return actions.slice(1, -1);
  }

  it.each<[string, string, string, ApplyAction]>([
    // Table DDL runs in the default database when it is replicated (under its replica name).
    ['table DDL, replicated default database', 'CREATE TABLE t (id INT)', 'app', ddl('CREATE TABLE t (id INT)', 'app', 'CREATE TABLE', ['app.t'])],
    [
      'table DDL, rewritten default database',
      'ALTER TABLE orders ADD x INT',
      'shop',
      ddl('ALTER TABLE orders ADD x INT', 'shop_copy', 'ALTER TABLE', ['shop.orders']),
    ],
    [
      'qualified table DDL, rewritten in the SQL',
      'CREATE TABLE shop.orders (id INT)',
      'app',
      ddl('CREATE TABLE `shop_copy`.orders (id INT)', 'app', 'CREATE TABLE', ['shop.orders']),
    ],
    [
      'qualified table DDL from a default database that is not replicated',
      'CREATE TABLE app.t (id INT)',
      'other',
      ddl('CREATE TABLE app.t (id INT)', undefined, 'CREATE TABLE', ['app.t']),
    ],
    [
      'DROP TABLE of replicated and other tables keeps only the replicated one',
      'DROP TABLE app.a, other.b',
      'app',
      ddl('DROP TABLE app.a', 'app', 'DROP TABLE', ['app.a']),
    ],
    [
      'DROP TABLE of an excluded and a rewritten table',
      'DROP TABLE IF EXISTS app.audit_log, shop.orders',
      'other',
      ddl('DROP TABLE IF EXISTS `shop_copy`.orders', undefined, 'DROP TABLE', ['shop.orders']),
    ],
    ['CREATE DATABASE has no default database', 'CREATE DATABASE app', 'app', ddl('CREATE DATABASE app', undefined, 'CREATE DATABASE', ['app'])],
    [
      'CREATE DATABASE of a rewritten database',
      'CREATE DATABASE shop',
      'app',
      ddl('CREATE DATABASE `shop_copy`', undefined, 'CREATE DATABASE', ['shop']),
    ],
    [
      'DROP DATABASE of a rewritten database',
      'DROP DATABASE IF EXISTS `shop`',
      '',
      ddl('DROP DATABASE IF EXISTS `shop_copy`', undefined, 'DROP DATABASE', ['shop']),
    ],
    // Skipped statements
    ['table DDL of a database not replicated', 'CREATE TABLE other.t (id INT)', 'app', skipped('CREATE TABLE other.t (id INT)', 'tables not replicated')],
    ['unqualified DDL in a default database not replicated', 'CREATE TABLE t (id INT)', 'other', skipped('CREATE TABLE t (id INT)', 'tables not replicated')],
    ['DDL of an excluded table', 'TRUNCATE app.audit_log', 'app', skipped('TRUNCATE app.audit_log', 'tables not replicated')],
    ['DDL of the checkpoint database', 'CREATE TABLE binlog_sync.t (id INT)', 'app', skipped('CREATE TABLE binlog_sync.t (id INT)', 'tables not replicated')],
    ['CREATE DATABASE not replicated', 'CREATE DATABASE other', 'app', skipped('CREATE DATABASE other', 'database not replicated')],
    ['GRANT', "GRANT SELECT ON app.* TO 'u'@'%'", 'app', skipped("GRANT SELECT ON app.* TO 'u'@'%'", 'GRANT: users and grants are not replicated')],
    [
      'CREATE USER',
      "CREATE USER 'u'@'%' IDENTIFIED BY 'secret'",
      'app',
      skipped("CREATE USER 'u'@'%' IDENTIFIED BY 'secret'", 'CREATE USER: users and grants are not replicated'),
    ],
    ['SET', 'SET @x = 1', 'app', skipped('SET @x = 1', 'SET: server settings are not replicated')],
    ['CREATE TEMPORARY TABLE', 'CREATE TEMPORARY TABLE t (id INT)', 'app', skipped('CREATE TEMPORARY TABLE t (id INT)', 'temporary table')],
    // Views (filtered like tables), routines and events (like their database); triggers never.
    ['CREATE VIEW', 'CREATE VIEW v AS SELECT 1', 'app', ddl('CREATE VIEW v AS SELECT 1', 'app', 'CREATE VIEW', ['app.v'])],
    ['CREATE VIEW named like an excluded table', 'CREATE VIEW audit_v AS SELECT 1', 'app', skipped('CREATE VIEW audit_v AS SELECT 1', 'tables not replicated')],
    [
      'DROP VIEW of replicated and excluded views',
      'DROP VIEW IF EXISTS v, app.audit_v',
      'app',
      ddl('DROP VIEW IF EXISTS v', 'app', 'DROP VIEW', ['app.v']),
    ],
    [
      'CREATE VIEW in a rewritten database, its body naming it',
      'CREATE DEFINER=`root`@`localhost` VIEW shop.v AS SELECT shop.t.a FROM shop.t',
      'app',
      ddl('CREATE DEFINER=`root`@`localhost` VIEW `shop_copy`.v AS SELECT `shop_copy`.t.a FROM `shop_copy`.t', 'app', 'CREATE VIEW', ['shop.v']),
    ],
    [
      'CREATE PROCEDURE in a rewritten database',
      'CREATE PROCEDURE p() BEGIN INSERT INTO shop.log SELECT * FROM t; END',
      'shop',
      ddl('CREATE PROCEDURE p() BEGIN INSERT INTO `shop_copy`.log SELECT * FROM t; END', 'shop_copy', 'CREATE PROCEDURE', ['shop.p']),
    ],
    ['CREATE FUNCTION of a database not replicated', 'CREATE FUNCTION other.f() RETURNS INT RETURN 1', 'app', skipped('CREATE FUNCTION other.f() RETURNS INT RETURN 1', 'database not replicated')],
    ['DROP FUNCTION', 'DROP FUNCTION IF EXISTS f', 'app', ddl('DROP FUNCTION IF EXISTS f', 'app', 'DROP FUNCTION', ['app.f'])],
    [
      'CREATE EVENT: disabled on the replica',
      'CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO DELETE FROM t',
      'app',
      ddl('CREATE EVENT e ON SCHEDULE EVERY 1 DAY DISABLE ON SLAVE DO DELETE FROM t', 'app', 'CREATE EVENT', ['app.e']),
    ],
    ['ALTER EVENT ... ENABLE', 'ALTER EVENT e ENABLE', 'app', ddl('ALTER EVENT e DISABLE ON SLAVE', 'app', 'ALTER EVENT', ['app.e'])],
    [
      'CREATE TRIGGER',
      'CREATE TRIGGER tr AFTER INSERT ON t FOR EACH ROW INSERT INTO log VALUES (NEW.id)',
      'app',
      skipped(
        'CREATE TRIGGER tr AFTER INSERT ON t FOR EACH ROW INSERT INTO log VALUES (NEW.id)',
        'CREATE TRIGGER: triggers are not replicated: the source logs what they did as row events, which a trigger on the replica would do again',
      ),
    ],
    // Unknown statements: skipped only outside the replicated databases.
    ['INSERT as a statement in another database', 'INSERT INTO t VALUES (1)', 'other', skipped('INSERT INTO t VALUES (1)', 'INSERT outside the replicated databases')],
    [
      'INSERT as a statement in a replicated database',
      'INSERT INTO t VALUES (1)',
      'app',
      refused('INSERT INTO t VALUES (1)', 'binlog-sync does not apply INSERT statements', APPLY_BY_HAND),
    ],
    [
      'CALL in a replicated database',
      'CALL p()',
      'app',
      refused('CALL p()', 'binlog-sync does not apply CALL statements', APPLY_BY_HAND),
    ],
    [
      'INSERT naming a replicated database from another',
      'INSERT INTO shop.t VALUES (1)',
      'other',
      refused('INSERT INTO shop.t VALUES (1)', 'binlog-sync does not apply INSERT statements', APPLY_BY_HAND),
    ],
    // SET STATEMENT ... FOR is its statement, applied with the wrapper.
    [
      'SET STATEMENT ... FOR TRUNCATE',
      'SET STATEMENT max_statement_time=60 FOR TRUNCATE TABLE t',
      'app',
      ddl('SET STATEMENT max_statement_time=60 FOR TRUNCATE TABLE t', 'app', 'TRUNCATE TABLE', ['app.t']),
    ],
    [
      'SET STATEMENT ... FOR ALTER TABLE, rewritten',
      'SET STATEMENT a=1, b=2 FOR ALTER TABLE shop.t ADD COLUMN q INT',
      'other',
      ddl('SET STATEMENT a=1, b=2 FOR ALTER TABLE `shop_copy`.t ADD COLUMN q INT', undefined, 'ALTER TABLE', ['shop.t']),
    ],
    [
      'SET STATEMENT ... FOR DDL of another database',
      'SET STATEMENT a=1 FOR TRUNCATE other.t',
      'app',
      skipped('SET STATEMENT a=1 FOR TRUNCATE other.t', 'tables not replicated'),
    ],
    // Renames across the boundary of the replicated tables.
    ['RENAME TABLE within the replicated tables', 'RENAME TABLE a TO b', 'app', ddl('RENAME TABLE a TO b', 'app', 'RENAME TABLE', ['app.a', 'app.b'])],
    ['RENAME TABLE of other tables', 'RENAME TABLE other.a TO other.b', 'app', skipped('RENAME TABLE other.a TO other.b', 'tables not replicated')],
    [
      'RENAME TABLE out of the replicated database',
      'RENAME TABLE app.a TO other.a',
      'app',
      ddl('RENAME TABLE `app`.`a` TO `binlog_sync`.`renamed_out_1`', undefined, 'RENAME TABLE', ['app.a'], undefined, {
        before: ['DROP TABLE IF EXISTS `binlog_sync`.`renamed_out_1`'],
        after: ['DROP TABLE IF EXISTS `binlog_sync`.`renamed_out_1`'],
      }),
    ],
    [
      'RENAME TABLE mixing in, out, an excluded name and other tables, in order',
      'RENAME TABLE IF EXISTS a TO other.a, b TO a, shop.c TO audit_x, other.x TO other.y, d TO shop.d',
      'app',
      ddl(
        'RENAME TABLE IF EXISTS `app`.`a` TO `binlog_sync`.`renamed_out_1`, `app`.`b` TO `app`.`a`, ' +
          '`shop_copy`.`c` TO `binlog_sync`.`renamed_out_2`, `app`.`d` TO `shop_copy`.`d`',
        undefined,
        'RENAME TABLE',
        ['app.a', 'app.b', 'shop.c', 'app.d'],
        undefined,
        {
          before: ['DROP TABLE IF EXISTS `binlog_sync`.`renamed_out_1`', 'DROP TABLE IF EXISTS `binlog_sync`.`renamed_out_2`'],
          after: ['DROP TABLE IF EXISTS `binlog_sync`.`renamed_out_1`', 'DROP TABLE IF EXISTS `binlog_sync`.`renamed_out_2`'],
        },
      ),
    ],
    [
      'RENAME TABLE into the replicated database',
      'RENAME TABLE other.t TO t',
      'app',
      refused(
        'RENAME TABLE other.t TO t',
        'table app.t is renamed into the replicated tables from other.t, whose rows the replica does not have',
        SEED_AGAIN,
      ),
    ],
    [
      'RENAME TABLE with one pair in among others',
      'RENAME TABLE a TO b, other.t TO app.t',
      'app',
      refused(
        'RENAME TABLE a TO b, other.t TO app.t',
        'table app.t is renamed into the replicated tables from other.t, whose rows the replica does not have',
        SEED_AGAIN,
      ),
    ],
    [
      'ALTER TABLE ... RENAME out of the replicated database',
      'ALTER TABLE t ADD x INT, RENAME TO other.t2',
      'app',
      ddl('DROP TABLE `app`.`t`', undefined, 'ALTER TABLE', ['app.t']),
    ],
    [
      'ALTER TABLE IF EXISTS ... RENAME to an excluded name',
      'ALTER TABLE IF EXISTS shop.t RENAME app.audit_t',
      'app',
      ddl('DROP TABLE IF EXISTS `shop_copy`.`t`', undefined, 'ALTER TABLE', ['shop.t']),
    ],
    [
      'ALTER TABLE ... RENAME into the replicated database',
      'ALTER TABLE other.t RENAME TO t',
      'app',
      refused('ALTER TABLE other.t RENAME TO t', 'table app.t is renamed into the replicated tables from other.t, whose rows the replica does not have', SEED_AGAIN),
    ],
    [
      'EXCHANGE PARTITION with a table that is not replicated',
      'ALTER TABLE t EXCHANGE PARTITION p WITH TABLE other.x',
      'app',
      refused('ALTER TABLE t EXCHANGE PARTITION p WITH TABLE other.x', 'it moves rows between app.t and a table that is not replicated', SEED_AGAIN),
    ],
    // CREATE TABLE ... LIKE
    [
      'CREATE TABLE ... LIKE a replicated table',
      'CREATE TABLE z LIKE shop.y',
      'app',
      ddl('CREATE TABLE z LIKE `shop_copy`.y', 'app', 'CREATE TABLE', ['app.z']),
    ],
    [
      'CREATE TABLE ... LIKE a table of another database',
      'CREATE TABLE shop.z LIKE other.y',
      'app',
      ddl('CREATE TABLE `shop_copy`.z LIKE `binlog_sync`.`create_like_source`', 'app', 'CREATE TABLE', ['shop.z'], undefined, {
        likeSource: { database: 'other', table: 'y' },
        after: ['DROP TABLE IF EXISTS `binlog_sync`.`create_like_source`'],
      }),
    ],
    [
      'CREATE TABLE ... LIKE an excluded table',
      'CREATE TABLE z (LIKE audit_y)',
      'app',
      ddl('CREATE TABLE z (LIKE `binlog_sync`.`create_like_source`)', 'app', 'CREATE TABLE', ['app.z'], undefined, {
        likeSource: { database: 'app', table: 'audit_y' },
        after: ['DROP TABLE IF EXISTS `binlog_sync`.`create_like_source`'],
      }),
    ],
    ['CREATE TABLE ... LIKE into another database', 'CREATE TABLE other.z LIKE y', 'app', skipped('CREATE TABLE other.z LIKE y', 'tables not replicated')],
    // A DDL we recognise but cannot follow is reported, not skipped.
    ['truncated CREATE TABLE', 'CREATE TABLE', 'app', unparsable('CREATE TABLE', 'could not parse CREATE TABLE')],
    ['DROP INDEX without ON', 'DROP INDEX i', 'app', unparsable('DROP INDEX i', 'could not parse DROP INDEX')],
    ['RENAME TABLE without a target', 'RENAME TABLE a', 'app', unparsable('RENAME TABLE a', 'could not parse RENAME TABLE')],
  ])('%s', (_name, sql, database, expected) => {
    expect(statement(sql, database)).toEqual([expected]);
  });

  it('--definer rewrites the DEFINER of views, routines and events', () => {
    const a = new TransactionAssembler({ filter: createFilter(SETTINGS), start: { file: FILE, position: 4, gtid: null }, gtidKnown: false, definer: "'dev'@'%'" });
    const actions = [
      'CREATE DEFINER=`root`@`localhost` SQL SECURITY INVOKER VIEW v AS SELECT 1',
      'CREATE DEFINER=`root`@`localhost` EVENT e ON SCHEDULE EVERY 1 DAY ENABLE DO SELECT 1',
      'CREATE TABLE t (definer INT)',
    ].flatMap((sql, i) => a.push(query(sql, 100 * (i + 1))));
    expect(actions.filter((x) => x.type === 'ddl').map((x) => (x as { sql: string }).sql)).toEqual([
      "CREATE DEFINER='dev'@'%' SQL SECURITY INVOKER VIEW v AS SELECT 1",
      "CREATE DEFINER='dev'@'%' EVENT e ON SCHEDULE EVERY 1 DAY DISABLE ON SLAVE DO SELECT 1",
      'CREATE TABLE t (definer INT)',
    ]);
  });

  it("every DDL carries the session's character set and collations, and how its text becomes the client's bytes", () => {
    const charset = { client: 45, connection: 224, server: 8 };
    const at = (sql: string, n: number): ApplyAction[] =>
      run([gtid(`0-1-${n}`, false, 100 * n), { ...(query(sql, 100 * n + 50) as Extract<SourceEvent, { type: 'query' }>), charset }]);
    expect(at('CREATE VIEW v AS SELECT 1', 1)[1]).toMatchObject({ type: 'ddl', verb: 'CREATE VIEW', charset });
    expect(at('CREATE PROCEDURE p() SELECT 1', 2)[1]).toMatchObject({ type: 'ddl', verb: 'CREATE PROCEDURE', charset });
    expect(at('CREATE TABLE t (id INT)', 3)[1]).toMatchObject({ type: 'ddl', charset });
    expect(at('CREATE TABLE t (id INT)', 3)[1]).not.toHaveProperty('encoding');
    const latin1 = { ...(query("CREATE TABLE t (e ENUM('\u00ff'))", 450) as Extract<SourceEvent, { type: 'query' }>), charset, encoding: 'binary' as const };
    expect(run([gtid('0-1-4', false, 400), latin1])[1]).toMatchObject({ type: 'ddl', sql: "CREATE TABLE t (e ENUM('\u00ff'))", encoding: 'binary' });
  });

  it('an ALTER EVENT naming no DEFINER gets the account the source ran it as', () => {
    const event = { ...(query('ALTER EVENT e COMMENT \'x\'', 150) as Extract<SourceEvent, { type: 'query' }>), invoker: { user: 'ops', host: '10.%' } };
    expect(run([gtid('0-1-9', false, 100), event])[1]).toMatchObject({ type: 'ddl', sql: "ALTER DEFINER=`ops`@`10.%` EVENT e COMMENT 'x'" });
  });

  it('passes on the error a DDL was logged with (it did part of its work on the source all the same)', () => {
    const event = { ...(query('DROP VIEW v2, v1', 150) as Extract<SourceEvent, { type: 'query' }>), errorCode: 4092 };
    expect(run([gtid('0-1-9', false, 100), event])[1]).toMatchObject({ type: 'ddl', verb: 'DROP VIEW', expectedError: 4092 });
    expect(run([gtid('0-1-10', false, 200), query('DROP VIEW v3', 250)])[1]).not.toHaveProperty('expectedError');
  });

  it('passes the session sql_mode on to the DDL', () => {
    expect(statement('CREATE TABLE t (id INT)', 'app', 0x4n)).toEqual([ddl('CREATE TABLE t (id INT)', 'app', 'CREATE TABLE', ['app.t'], 0x4n)]);
  });

  it("passes the session's time zone and the statement's time (seconds and microseconds) on to the DDL", () => {
    const event = { ...(query('ALTER TABLE t ADD late DATETIME(6) DEFAULT NOW(6)', 400, 'app', ts(3)) as Extract<SourceEvent, { type: 'query' }>), timeZone: '+05:30', microseconds: 123_456 };
    const actions = run([gtid('0-1-6', false, 300), event]);
    expect(actions[1]).toMatchObject({ type: 'ddl', timeZone: '+05:30', time: { seconds: ts(3) / 1000, microseconds: 123_456 } });
  });

  it('a statement without microseconds runs at the whole second', () => {
    const actions = run([gtid('0-1-6', false, 300), query('ALTER TABLE t ADD u TIMESTAMP', 400, 'app', ts(2))]);
    expect(actions[1]).toMatchObject({ type: 'ddl', time: { seconds: ts(2) / 1000, microseconds: 0 } });
    expect((actions[1] as { timeZone?: string }).timeZone).toBeUndefined();
  });

  it('trims the statement text', () => {
    expect(statement('  CREATE TABLE t (id INT)\n', 'app')).toEqual([ddl('CREATE TABLE t (id INT)', 'app', 'CREATE TABLE', ['app.t'])]);
  });

  it('a skipped statement inside a transaction does not end it', () => {
    const actions = run([gtid('0-1-6', true, 300), query('SET @x = 1', 350), rows('app', 'users', 400), xid(500)]);
    expect(actions.map((a) => a.type)).toEqual(['begin', 'skipped-statement', 'rows', 'commit']);
  });
});

describe('TransactionAssembler: property', () => {
  const TABLES: Array<[string, string, boolean]> = [
    ['app', 'users', true],
    ['app', 'orders', true],
    ['shop', 'orders', true],
    ['app', 'audit_log', false],
    ['other', 'users', false],
    ['binlog_sync', 'position', false],
  ];

  const transaction = fc.record({
    domain: fc.integer({ min: 0, max: 2 }),
    tables: fc.array(fc.integer({ min: 0, max: TABLES.length - 1 }), { maxLength: 5 }),
    kind: fc.constantFrom<RowsKind>('insert', 'update', 'delete'),
    gap: fc.integer({ min: 1, max: 5000 }),
    rotateBefore: fc.boolean(),
    heartbeat: fc.boolean(),
  });

  it('commits once per transaction, in order, at strictly increasing positions', () => {
    fc.assert(
      fc.property(fc.array(transaction, { maxLength: 25 }), (txns) => {
        const events: SourceEvent[] = [];
        const sequences = [0, 0, 0];
        const expectedGtids: string[] = [];
        const expectedStates: string[] = [];
        const state = new Map<number, string>();
        let fileNumber = 1;
        let position = 4;
        let replicatedRows = 0;
        const fileName = (): string => `mariadb-bin.${String(fileNumber).padStart(6, '0')}`;
        for (const txn of txns) {
          if (txn.rotateBefore) {
            fileNumber += 1;
            position = 4;
            events.push(rotate(fileName()));
          }
          const id = `${txn.domain}-1-${++sequences[txn.domain]!}`;
          expectedGtids.push(id);
          state.set(txn.domain, id);
          expectedStates.push([...state.entries()].sort(([a], [b]) => a - b).map(([, g]) => g).join(','));
          const header = (): { file: string; nextPosition: number; timestamp: number } => ({
            file: fileName(),
            nextPosition: (position += txn.gap),
            timestamp: ts(0),
          });
          events.push({ type: 'gtid', gtid: id, impliesBegin: true, ...header() });
          for (const t of txn.tables) {
            const [db, name, replicated] = TABLES[t]!;
            if (replicated) replicatedRows += 1;
            const event = rows(db, name, 0, txn.kind);
            events.push({ ...event, ...header() } as SourceEvent);
            if (txn.heartbeat) events.push({ type: 'heartbeat', file: fileName(), position });
          }
          events.push({ type: 'xid', ...header() });
        }

        const actions = run(events, { start: { file: 'mariadb-bin.000001', position: 4, gtid: '' }, gtidKnown: true });

        // begin/commit alternate, starting with begin; rows only inside.
        let open = false;
        for (const action of actions) {
          if (action.type === 'begin') {
            expect(open).toBe(false);
            open = true;
          } else if (action.type === 'commit') {
            expect(open).toBe(true);
            open = false;
          } else {
            expect(action.type).toBe('rows');
            expect(open).toBe(true);
          }
        }
        expect(open).toBe(false);

        const done = commits(actions);
        expect(done.map((c) => c.gtid)).toEqual(expectedGtids);
        expect(done.map((c) => c.position.gtid)).toEqual(expectedStates);
        for (let i = 1; i < done.length; i++) {
          expect(compareFilePositions(done[i]!.position, done[i - 1]!.position)).toBeGreaterThan(0);
        }

        const rowsActions = actions.filter((a): a is Extract<ApplyAction, { type: 'rows' }> => a.type === 'rows');
        expect(rowsActions).toHaveLength(replicatedRows);
        for (const { change } of rowsActions) {
          expect(['app', 'shop_copy']).toContain(change.table.database);
          expect(change.table.table === 'audit_log').toBe(false);
        }
      }),
    );
  });
});
