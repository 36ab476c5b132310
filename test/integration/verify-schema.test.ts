// `verify` compares schemas too (issue 18, part 6): each table's definition as
// SHOW CREATE TABLE prints it (AUTO_INCREMENT counters aside, --rewrite-db
// applied), and the tables only the replica holds. Each case changes the
// replica behind the replicator's back, runs `verify` as a user would, and
// puts the replica back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mysql, { type Connection } from 'mysql2/promise';
import { EXACT_VALUES, runCli, uniqueName } from '../support/context.js';
import { Replication } from '../support/replication.js';
import { type ManagedServer, destroyServers, startServerPair } from '../support/servers.js';

const a = uniqueName('vs_a');
const b = uniqueName('vs_b');
const aCopy = `${a}_copy`;
const bCopy = `${b}_copy`;
let sourceServer: ManagedServer;
let replicaServer: ManagedServer;
let replication: Replication;
let source: Connection;
let replica: Connection;

interface Verdict {
  table: string;
  status: string;
  rows?: number;
  ranges?: unknown[];
  definition?: { source: string[]; replica: string[] };
}
interface Report {
  identical: boolean;
  tables: Verdict[];
}

beforeAll(async () => {
  [sourceServer, replicaServer] = await startServerPair([111, 112], ['Asia/Kolkata', 'America/Anchorage']);
  replication = new Replication({
    databases: [a, b],
    source: sourceServer.info,
    replica: replicaServer.info,
    args: ['--rewrite-db', `${a}=${aCopy}`, '--rewrite-db', `${b}=${bCopy}`],
  });
  source = await mysql.createConnection({ uri: sourceServer.info.adminUrl, ...EXACT_VALUES });
  replica = await mysql.createConnection({ uri: replicaServer.info.adminUrl, ...EXACT_VALUES });
  await source.query(`CREATE DATABASE \`${a}\``);
  await source.query(`CREATE DATABASE \`${b}\``);
  await source.query(`CREATE TABLE \`${b}\`.parks (id INT PRIMARY KEY, name VARCHAR(40))`);
  // A foreign key into the other database: its name is rewritten on the replica.
  await source.query(`CREATE TABLE \`${a}\`.rides (id INT AUTO_INCREMENT PRIMARY KEY, park INT, name VARCHAR(40) NOT NULL,
    wait INT NOT NULL DEFAULT 5, KEY by_name (name), FOREIGN KEY (park) REFERENCES \`${b}\`.parks (id))`);
  await source.query(`CREATE TABLE \`${a}\`.visits (id INT NOT NULL, at DATE NOT NULL, PRIMARY KEY (id, at))
    PARTITION BY RANGE (YEAR(at)) (PARTITION p2023 VALUES LESS THAN (2024), PARTITION pmax VALUES LESS THAN MAXVALUE)`);
  await source.query(`INSERT INTO \`${b}\`.parks SELECT seq, CONCAT('park ', seq) FROM mysql.seq_1_to_5`);
  await source.query(`INSERT INTO \`${a}\`.rides (park, name) SELECT 1 + seq % 5, CONCAT('ride ', seq) FROM mysql.seq_1_to_40`);
  await source.query(`INSERT INTO \`${a}\`.visits SELECT seq, '2023-06-01' + INTERVAL seq DAY FROM mysql.seq_1_to_400`);
  const snapshot = await replication.cli(['snapshot', ...replication.commonArgs]);
  expect(snapshot.stderr).not.toMatch(/binlog-sync: /);
  expect(snapshot.code).toBe(0);
  replication.start();
  await replication.caughtUp();
});

afterAll(async () => {
  await replication?.close();
  await source?.end();
  await replica?.end();
  await destroyServers(sourceServer, replicaServer);
});

async function verify(json = true): Promise<{ code: number | null; stdout: string; report?: Report }> {
  const result = await runCli(['verify', ...(json ? ['--json'] : []), ...replication.commonArgs]);
  expect(result.stderr).not.toMatch(/binlog-sync: /);
  return { code: result.code, stdout: result.stdout, ...(json ? { report: JSON.parse(result.stdout) as Report } : {}) };
}

const notIdentical = (report: Report): Verdict[] => report.tables.filter((t) => t.status !== 'identical');

describe('verify compares definitions', () => {
  it('exits 0 on an identical replica: databases rewritten, AUTO_INCREMENT counters apart', async () => {
    // The replica's counter runs ahead (rows inserted and taken back there); the schema is the same.
    await replica.query(`ALTER TABLE \`${aCopy}\`.rides AUTO_INCREMENT = 1000`);
    const { code, report } = await verify();
    expect(notIdentical(report!)).toEqual([]);
    expect(report!.tables.map((t) => t.table).sort()).toEqual([`${a}.rides`, `${a}.visits`, `${b}.parks`]);
    expect(report!.identical).toBe(true);
    expect(code).toBe(0);
  });

  it.each([
    {
      what: 'a column default',
      table: 'rides',
      change: `ALTER TABLE \`${aCopy}\`.rides ALTER COLUMN wait SET DEFAULT 7`,
      undo: `ALTER TABLE \`${aCopy}\`.rides ALTER COLUMN wait SET DEFAULT 5`,
      line: { side: 'replica', match: /`wait` int\(11\) NOT NULL DEFAULT 7/ },
    },
    {
      what: 'an index',
      table: 'rides',
      change: `ALTER TABLE \`${aCopy}\`.rides ADD INDEX by_wait (wait, name)`,
      undo: `ALTER TABLE \`${aCopy}\`.rides DROP INDEX by_wait`,
      line: { side: 'replica', match: /KEY `by_wait` \(`wait`,`name`\)/ },
    },
    {
      what: 'the partitioning',
      table: 'visits',
      change: `ALTER TABLE \`${aCopy}\`.visits REMOVE PARTITIONING`,
      undo: `ALTER TABLE \`${aCopy}\`.visits PARTITION BY RANGE (YEAR(at)) (PARTITION p2023 VALUES LESS THAN (2024), PARTITION pmax VALUES LESS THAN MAXVALUE)`,
      line: { side: 'source', match: /PARTITION BY RANGE/ },
    },
    {
      what: 'a column dropped on the replica (its rows cannot be compared)',
      table: 'parks',
      database: bCopy,
      change: `ALTER TABLE \`${bCopy}\`.parks DROP COLUMN name`,
      undo: `ALTER TABLE \`${bCopy}\`.parks ADD COLUMN name VARCHAR(40); UPDATE \`${bCopy}\`.parks SET name = CONCAT('park ', id)`,
      line: null,
    },
  ])('exits 1 and names the table whose $what differs, though its rows are the same', async ({ table, change, undo, line }) => {
    await replica.query(change);
    try {
      const { code, report } = await verify();
      const different = notIdentical(report!);
      expect(different.map((t) => [t.table.split('.')[1], t.status])).toEqual([[table, 'different']]);
      const { definition, ranges } = different[0]!;
      expect(ranges).toBeUndefined();
      expect(definition!.source.length + definition!.replica.length).toBeGreaterThan(0);
      if (line) expect(definition![line.side as 'source' | 'replica'].some((l) => line.match.test(l))).toBe(true);
      expect(report!.identical).toBe(false);
      expect(code).toBe(1);
      const text = await verify(false);
      expect(text.code).toBe(1);
      expect(text.stdout).toMatch(new RegExp(`^different +\\S+\\.${table}\\b.*definition differs$`, 'm'));
      expect(text.stdout).toMatch(/^ +(source|replica): +\S/m);
    } finally {
      await replica.query(undo);
    }
    expect((await verify()).code).toBe(0);
  });

  it('exits 1 and names a table only the replica holds as extra (under its replica name)', async () => {
    await replica.query(`CREATE TABLE \`${aCopy}\`.leftover (id INT PRIMARY KEY)`);
    try {
      const { code, report } = await verify();
      expect(notIdentical(report!)).toEqual([{ table: `${aCopy}.leftover`, status: 'extra' }]);
      expect(report!.identical).toBe(false);
      expect(code).toBe(1);
      const text = await verify(false);
      expect(text.code).toBe(1);
      expect(text.stdout).toContain(`extra      ${aCopy}.leftover: only on the replica\n`);
    } finally {
      await replica.query(`DROP TABLE \`${aCopy}\`.leftover`);
    }
    expect((await verify()).code).toBe(0);
  });
});
