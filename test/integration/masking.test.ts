// Masking personal columns on their way to the replica: `snapshot` then
// `start` with rules on several tables (a unique e-mail that changes, a
// keyless table updated and deleted through its masked before image), then:
// no source value of a masked column anywhere in a dump of the replica, join
// counts on masked e-mails as on the source, every unique masked value kept,
// `verify` exit 0 through the masks, the key in no log, output, history or
// state file, and `start` refusing other rules or another key.
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection } from 'mysql2/promise';
import { adminConnection, dropDatabases, runCli, tempDir, testServers, uniqueName } from '../support/context.js';
import { Replication } from '../support/replication.js';

const db = uniqueName('masking');
const dir = tempDir('binlog-sync-mask-');
const KEY = 'mask-key-4f1c8e2a9b7d3e6f0a1b2c3d';
const keyFile = join(dir.path, 'mask.key');
const otherKeyFile = join(dir.path, 'other.key');

const RULES = [
  `${db}.*.*email=email`,
  `${db}.visitors.full_name=redact`,
  `${db}.visitors.phone=null`,
  `${db}.visitors.notes=fixed:(removed)`,
  `${db}.visitors.badge=hash`,
  `${db}.visitors.nickname=hash`,
  `${db}.visitors.token=hash`,
  `${db}.visitors.birth=fixed:1970-01-01`,
  `${db}.visitors.balance=hash`,
  `${db}.guestbook.message=hash`,
  `${db}.*.*handle=hash`,
  `${db}.cards.id=hash`,
];
const maskArgs = (rules: string[] = RULES, key = keyFile): string[] => [...rules.flatMap((r) => ['--mask', r]), '--mask-key-file', key];

/** The masked columns per table, as the source holds them. */
const MASKED: Record<string, string[]> = {
  visitors: ['email', 'full_name', 'phone', 'notes', 'badge', 'nickname', 'token', 'birth', 'balance', 'handle'],
  tickets: ['visitor_email', 'visitor_handle'],
  guestbook: ['email', 'message'],
  cards: ['id'],
};

let source: Connection;
let replica: Connection;
let replication: Replication;
const outputs: string[] = [];

async function rows<T>(conn: Connection, sql: string, params: unknown[] = []): Promise<T[]> {
  const [r] = await conn.query(sql, params);
  return r as T[];
}

beforeAll(async () => {
  writeFileSync(keyFile, `${KEY}\n`);
  writeFileSync(otherKeyFile, 'another-key-0123456789abcdef\n');
  source = await adminConnection('source');
  replica = await adminConnection('replica');
  await source.query(`CREATE DATABASE \`${db}\` CHARACTER SET utf8mb4`);
  await source.query(`USE \`${db}\``);
  await source.query(`CREATE TABLE visitors (
      id INT PRIMARY KEY, email VARCHAR(100) NOT NULL UNIQUE, full_name VARCHAR(80), phone VARCHAR(20) NULL, notes TEXT,
      badge BIGINT UNIQUE, nickname VARCHAR(40) CHARACTER SET latin1, token BINARY(16), birth DATE, balance DECIMAL(8,2), city VARCHAR(40),
      handle VARCHAR(40) UNIQUE)`);
  await source.query('CREATE TABLE tickets (id INT PRIMARY KEY AUTO_INCREMENT, visitor_email VARCHAR(255), ride VARCHAR(40), visitor_handle VARCHAR(60))');
  await source.query('CREATE TABLE guestbook (email VARCHAR(64), message VARCHAR(200), stars TINYINT)');
  // A masked primary key: rows located through it, verify unable to cut it into key ranges.
  await source.query('CREATE TABLE cards (id INT PRIMARY KEY, holder VARCHAR(40))');
  await source.query("INSERT INTO cards SELECT seq, CONCAT('holder ', seq) FROM mysql.seq_1_to_2500");
  await source.query(`INSERT INTO visitors SELECT seq, CONCAT('Visitor.', seq, '@Mail', seq % 7, '.example.org'), CONCAT('Visitor Näme ', seq),
      IF(seq % 3 = 0, NULL, CONCAT('+1-555-', LPAD(seq, 4, '0'))), CONCAT('private note ', seq), 9000000000 + seq * 7919,
      CONVERT(CONCAT('caf', CHAR(233), seq) USING latin1), UNHEX(MD5(seq)), '1980-01-01' + INTERVAL seq DAY, seq * 1.25, 'Springfield',
      CONCAT('Handle_', seq)
    FROM mysql.seq_1_to_200`);
  // Tickets name visitors by address, in another letter case for some: joins compare case-insensitively.
  // Handles too, hashed: in another letter case, or with trailing spaces, which the collation ignores.
  await source.query(`INSERT INTO tickets (visitor_email, ride, visitor_handle)
    SELECT IF(seq % 4 = 0, UPPER(v.email), v.email), CONCAT('ride ', seq % 9), CASE seq % 3 WHEN 0 THEN LOWER(v.handle) WHEN 1 THEN CONCAT(v.handle, '  ') ELSE v.handle END
    FROM mysql.seq_1_to_600 JOIN visitors v ON v.id = 1 + seq % 150`);
  await source.query(`INSERT INTO guestbook SELECT CONCAT('guest', seq % 20, '@example.net'), CONCAT('Lovely day, signed guest ', seq % 20), seq % 5
    FROM mysql.seq_1_to_100`);
  replication = new Replication({ databases: [db], args: maskArgs(), logLevel: 'trace' });
});

afterAll(async () => {
  await replication?.close();
  await source?.end();
  await replica?.end();
  await dropDatabases([db]);
  dir.cleanup();
});

/** Every source value of a masked column, long enough to be recognisable in a dump. */
async function maskedSourceValues(): Promise<string[]> {
  const out = new Set<string>();
  for (const [table, columns] of Object.entries(MASKED)) {
    for (const column of columns) {
      const values = await rows<{ v: string | null }>(source, `SELECT DISTINCT CAST(\`${column}\` AS CHAR) AS v FROM \`${db}\`.\`${table}\``);
      // Texts only: a number could stand inside another number of the dump by chance (those are compared as values below).
      for (const { v } of values) if (v !== null && v.length >= 6 && /[A-Za-z@+]/.test(v)) out.add(v);
    }
  }
  return [...out];
}

/** The whole replicated database as `mariadb-dump` writes it (plus binlog-sync's own schema). */
function dumpReplica(): string {
  const url = new URL(testServers().replica.adminUrl);
  const args = ['-h', url.hostname, '-P', url.port, '-u', decodeURIComponent(url.username), '--skip-extended-insert', '--hex-blob', '--databases', db, 'binlog_sync'];
  return execFileSync('mariadb-dump', args, { env: { ...process.env, MYSQL_PWD: decodeURIComponent(url.password) }, maxBuffer: 256 * 1024 * 1024 }).toString('utf8');
}

/** The error as one last line, no stack trace, no key. */
function expectOneErrorLine(stderr: string): void {
  expect(stderr.split('\n').filter((l) => l.startsWith('binlog-sync: '))).toHaveLength(1);
  expect(stderr).toMatch(/binlog-sync: [^\n]+\n$/);
  expect(stderr).not.toMatch(/^\s+at /m);
  expect(stderr).not.toContain(KEY);
}

const joinCount = async (conn: Connection, on = 't.visitor_email = v.email'): Promise<number> =>
  Number((await rows<{ n: number }>(conn, `SELECT COUNT(*) AS n FROM \`${db}\`.visitors v JOIN \`${db}\`.tickets t ON ${on}`))[0]!.n);

describe('masking', () => {
  it('snapshot and start mask every path: live inserts, a changed unique key, deletes, a keyless table', async () => {
    const snapshot = await replication.cli(['snapshot', ...replication.commonArgs, '--log-level', 'trace']);
    outputs.push(snapshot.stdout, snapshot.stderr);
    expect(snapshot.stderr).not.toMatch(/binlog-sync: /);
    expect(snapshot.code).toBe(0);
    replication.start();
    await replication.streaming();

    await source.query(`USE \`${db}\``);
    await source.query(`INSERT INTO visitors VALUES (201, 'New.Person@corp.example.com', 'Nina New', '+44 20 7946 0000', 'met at gate', 9999999999, 'nina', UNHEX(MD5('n')), '1999-09-09', 12.5, 'Shelbyville', 'NinaN')`);
    await source.query("INSERT INTO tickets (visitor_email, ride) VALUES ('NEW.PERSON@corp.example.com', 'coaster'), ('new.person@corp.example.com', 'wheel')");
    // The unique masked key changes (and its before image locates the row).
    await source.query("UPDATE visitors SET email = 'changed.address@corp.example.com', full_name = 'Changed Name' WHERE id = 5");
    await source.query("UPDATE tickets SET visitor_email = 'changed.address@corp.example.com' WHERE visitor_email = 'Visitor.5@Mail5.example.org'");
    await source.query('UPDATE visitors SET city = CONCAT(city, id) WHERE id BETWEEN 10 AND 20');
    // Large inserts: loaded as a file (LOAD DATA) where the masked values allow, else inserted.
    await source.query(`INSERT INTO guestbook SELECT CONCAT('bulk', seq, '@Example.net'), CONCAT('bulk message from a guest ', seq), 1 FROM mysql.seq_1_to_300`);
    await source.query(`INSERT INTO visitors SELECT 1000 + seq, CONCAT('bulk.', seq, '@example.org'), CONCAT('Bulk Person ', seq), '+1-555-9999',
        'bulk note', 8000000000 + seq, CONVERT(CONCAT('bulk', CHAR(233), seq) USING latin1), UNHEX(MD5(CONCAT('bulk', seq))), '2001-02-03', seq, 'Ogdenville',
        CONCAT('BulkHandle', seq)
      FROM mysql.seq_1_to_120`);
    await source.query(`INSERT INTO tickets (visitor_email, ride, visitor_handle) SELECT CONCAT('BULK.', seq, '@example.org'), 'bulk ride', UPPER(CONCAT('BulkHandle', seq))
      FROM mysql.seq_1_to_120`);
    await source.query('DELETE FROM visitors WHERE id IN (7, 8)');
    // A keyless table: rows found through their masked before images.
    await source.query("UPDATE guestbook SET message = 'edited by the guest', stars = 5 WHERE email = 'guest3@example.net'");
    await source.query("DELETE FROM guestbook WHERE email = 'guest4@example.net' LIMIT 2");
    await source.query("UPDATE guestbook SET email = 'guest19-new@example.net' WHERE email = 'guest19@example.net'");
    await source.query("UPDATE cards SET holder = 'renamed' WHERE id BETWEEN 100 AND 200");
    await source.query('UPDATE cards SET id = id + 10000 WHERE id > 2400');
    await source.query('DELETE FROM cards WHERE id < 50');
    await source.query("INSERT INTO cards SELECT 20000 + seq, 'new holder' FROM mysql.seq_1_to_100");
    await replication.caughtUp();

    for (const table of Object.keys(MASKED)) {
      const count = async (conn: Connection): Promise<number> => Number((await rows<{ n: number }>(conn, `SELECT COUNT(*) AS n FROM \`${db}\`.\`${table}\``))[0]!.n);
      expect(await count(replica), table).toBe(await count(source));
    }
    // Unmasked columns arrive as they are.
    const cities = (conn: Connection): Promise<unknown[]> => rows(conn, `SELECT id, city FROM \`${db}\`.visitors ORDER BY id`);
    expect(await cities(replica)).toEqual(await cities(source));
  });

  it('leaves no source value of a masked column anywhere in a dump of the replica', async () => {
    const dump = dumpReplica();
    expect(dump).toContain('INSERT INTO `visitors`');
    const leaked = (await maskedSourceValues()).filter((v) => dump.includes(v));
    expect(leaked).toEqual([]);
    // Numbers and bytes: no masked value of the replica is a source value of its column.
    for (const column of ['badge', 'balance', 'token']) {
      const read = async (conn: Connection): Promise<Set<string>> =>
        new Set((await rows<{ v: string }>(conn, `SELECT HEX(CAST(\`${column}\` AS BINARY)) AS v FROM \`${db}\`.visitors`)).map((r) => r.v));
      const onSource = await read(source);
      expect([...(await read(replica))].filter((v) => onSource.has(v)), column).toEqual([]);
    }
    const ids = async (conn: Connection): Promise<Set<number>> => new Set((await rows<{ id: number }>(conn, `SELECT id FROM \`${db}\`.cards`)).map((r) => Number(r.id)));
    const sourceIds = await ids(source);
    expect([...(await ids(replica))].filter((id) => sourceIds.has(id))).toEqual([]);
  });

  it('keeps the copy usable: joins on masked e-mails, unique keys, NULLs, lengths, fitted outputs', async () => {
    expect(await joinCount(replica)).toBe(await joinCount(source));
    expect(await joinCount(source)).toBeGreaterThan(400);
    // hash folds what the column's collation calls equal (letter case, trailing spaces): those joins match too.
    const handles = 't.visitor_handle = v.handle';
    expect(await joinCount(replica, handles)).toBe(await joinCount(source, handles));
    expect(await joinCount(source, handles)).toBeGreaterThan(500);
    const distinct = async (conn: Connection): Promise<unknown> =>
      (await rows(conn, `SELECT COUNT(*) AS n, COUNT(DISTINCT email) AS e, COUNT(DISTINCT badge) AS b FROM \`${db}\`.visitors`))[0];
    expect(await distinct(replica)).toEqual(await distinct(source));
    const shape = async (conn: Connection): Promise<unknown[]> =>
      rows(
        conn,
        `SELECT id, CHAR_LENGTH(full_name) AS nameLength, phone IS NULL AS noPhone, LENGTH(token) AS tokenBytes FROM \`${db}\`.visitors ORDER BY id`,
      );
    const onReplica = await shape(replica);
    const onSource = await shape(source);
    // redact keeps the length; null keeps nothing; BINARY(16) stays 16 bytes.
    expect(onReplica.map((r) => ({ ...(r as object), noPhone: 1 }))).toEqual(onSource.map((r) => ({ ...(r as object), noPhone: 1 })));
    const masked = await rows<Record<string, unknown>>(replica, `SELECT * FROM \`${db}\`.visitors`);
    for (const r of masked) {
      expect(String(r.email)).toMatch(/^[0-9a-f]{16}@example\.invalid$/);
      expect(String(r.full_name)).toMatch(/^x+$/);
      expect(r.phone).toBeNull();
      expect(r.notes).toBe('(removed)');
      expect(String(r.birth)).toMatch(/^1970-01-01/);
      expect(String(r.nickname)).toMatch(/^[0-9a-f]{32}$/);
    }
    // Equal inputs, equal outputs: one guest's address is one masked address.
    const guests = await rows<{ n: number }>(replica, `SELECT COUNT(DISTINCT email) AS n FROM \`${db}\`.guestbook`);
    const sourceGuests = await rows<{ n: number }>(source, `SELECT COUNT(DISTINCT email) AS n FROM \`${db}\`.guestbook`);
    expect(Number(guests[0]!.n)).toBe(Number(sourceGuests[0]!.n));
  });

  it('verify proves the masked copy: exit 0, the masked columns listed', async () => {
    const result = await replication.cli(['verify', '--json', ...replication.commonArgs]);
    outputs.push(result.stdout, result.stderr);
    expect(result.stderr).not.toMatch(/binlog-sync: /);
    const report = JSON.parse(result.stdout) as { identical: boolean; tables: Array<{ table: string; status: string }>; masked: string[] };
    expect(report.tables.map((t) => t.status)).toEqual(['identical', 'identical', 'identical', 'identical']);
    expect(report.identical).toBe(true);
    expect(result.code).toBe(0);
    expect(report.masked).toEqual(expect.arrayContaining([`${db}.visitors.email`, `${db}.tickets.visitor_email`, `${db}.guestbook.message`]));
    expect(report.masked).toHaveLength(15);
    // Without the masks, the same copy differs from the source: the check is real.
    const unmasked = await runCli(['verify', '--json', ...replication.connectionArgs, '--databases', db]);
    expect(unmasked.code).toBe(1);
  });

  it('a replica row changed behind the masks is found by verify', async () => {
    await replica.query(`UPDATE \`${db}\`.visitors SET email = 'someone@example.invalid' WHERE id = 3`);
    try {
      const result = await runCli(['verify', '--json', ...replication.connectionArgs, '--databases', db, ...maskArgs()]);
      expect(result.code).toBe(1);
      const report = JSON.parse(result.stdout) as { tables: Array<{ table: string; status: string; ranges?: Array<{ from: unknown[] }> }> };
      const visitors = report.tables.find((t) => t.table === `${db}.visitors`)!;
      expect(visitors.status).toBe('different');
      expect(visitors.ranges).toEqual([{ from: [3], to: [3] }]);
    } finally {
      const run = await replication.stop();
      outputs.push(run.stdout, run.stderr);
      expect(run.code).toBe(0);
    }
  });

  it('never shows the key: trace-level logs, outputs, history, status and the state file', async () => {
    const history = await runCli(['position', 'history', '--json', '--state', replication.statePath]);
    const status = await runCli(['status', '--json', '--state', replication.statePath]);
    outputs.push(history.stdout, history.stderr, status.stdout, status.stderr);
    expect(outputs.join('\n')).toContain('"level":"debug"'); // the verbose levels were on
    for (const text of outputs) expect(text.includes(KEY)).toBe(false);
    const stateDir = dirname(replication.statePath);
    for (const file of readdirSync(stateDir)) expect(readFileSync(join(stateDir, file)).includes(KEY), file).toBe(false);
    expect(dumpReplica().includes(KEY)).toBe(false);
  });

  it('start refuses other rules or another key (exit 1, naming the masking and the way out)', async () => {
    const otherRules = await runCli(['start', ...replication.connectionArgs, '--databases', db, ...maskArgs(RULES.slice(1))]);
    expect(otherRules.code).toBe(1);
    expect(otherRules.stderr).toMatch(/seeded with other masking.*snapshot --drop-existing/);
    const otherKey = await runCli(['start', ...replication.connectionArgs, '--databases', db, ...maskArgs(RULES, otherKeyFile)]);
    expect(otherKey.code).toBe(1);
    expect(otherKey.stderr).toMatch(/seeded with another mask key/);
    const none = await runCli(['start', ...replication.connectionArgs, '--databases', db]);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/masking/);
    for (const r of [otherRules, otherKey, none]) expectOneErrorLine(r.stderr);
  });

  it('refuses rules it cannot honour before anything runs, and a keyed rule without a key', async () => {
    const cases: Array<[string, RegExp]> = [
      [`${db}.visitors.badge=email`, /email needs a text column/],
      [`${db}.visitors.email=null`, /null on a NOT NULL column/],
      [`${db}.visitors.email=fixed:same`, /unique column would make its rows collide/],
      [`${db}.visitors.no_such_column=hash`, /has no column .*no_such_column/],
      [`${db}.visitors.email=scramble`, /unknown method 'scramble'/],
    ];
    for (const [rule, message] of cases) {
      const result = await runCli(['snapshot', '--drop-existing', ...replication.connectionArgs, '--databases', db, ...maskArgs([rule])]);
      expect(result.code, rule).not.toBe(0);
      expect(result.stderr, rule).toMatch(message);
      expectOneErrorLine(result.stderr);
    }
    const noKey = await runCli(['snapshot', ...replication.connectionArgs, '--databases', db, '--mask', `${db}.visitors.email=hash`]);
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toMatch(/needs the secret key: --mask-key-file/);
    // Nothing was touched: the copy still verifies through the masks it has.
    const replicaRows = await rows<{ n: number }>(replica, `SELECT COUNT(*) AS n FROM \`${db}\`.visitors`);
    expect(Number(replicaRows[0]!.n)).toBeGreaterThan(0);
  });
});
