// `snapshot` copies views (after the tables, in dependency order), stored
// routines and events (disabled) with the rows, and `--drop-existing`
// replaces them; the source's information_schema is the expectation.
import mysql, { type Connection } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXACT_VALUES } from '../support/context.js';
import { expectIdentical } from '../support/compare.js';
import { objectsOf, type Objects } from '../support/objects.js';
import { Replication } from '../support/replication.js';
import { REPL_USER, destroyServers, startServerPair, type ManagedServer } from '../support/servers.js';

const db = 'objsnap_park';
let sourceServer: ManagedServer;
let replicaServer: ManagedServer;
let replication: Replication;
let source: Connection;

beforeAll(async () => {
  [sourceServer, replicaServer] = await startServerPair([137, 138], ['Asia/Kolkata', 'America/Anchorage']);
  replication = new Replication({ databases: [db], source: sourceServer.info, replica: replicaServer.info });
  source = await mysql.createConnection({ uri: sourceServer.info.adminUrl, ...EXACT_VALUES });
  await source.query(`CREATE DATABASE ${db}`);
  // Reading views and events takes SHOW VIEW and EVENT (the test user has SELECT on everything).
  await source.query(`GRANT SHOW VIEW, EVENT ON ${db}.* TO '${REPL_USER}'@'%'`);
  await source.query(`USE ${db}`);
  await source.query(`SET SESSION time_zone = '+05:30'`);
  for (const sql of [
    'CREATE TABLE rides (id INT PRIMARY KEY, name VARCHAR(40), wait INT)',
    'CREATE TABLE ride_log (id INT AUTO_INCREMENT PRIMARY KEY, ride INT)',
    `INSERT INTO rides VALUES (1, 'Coaster', 45), (2, 'Carousel', 5), (3, 'Log flume', 35)`,
    'CREATE TRIGGER rides_ai AFTER INSERT ON rides FOR EACH ROW INSERT INTO ride_log (ride) VALUES (NEW.id)',
    `SET SESSION sql_mode = 'PIPES_AS_CONCAT,STRICT_ALL_TABLES'`,
    `CREATE FUNCTION label(n VARCHAR(40), w INT) RETURNS VARCHAR(80) DETERMINISTIC NO SQL RETURN n || ' (' || w || ')'`,
    `CREATE PROCEDURE longest(IN lim INT) READS SQL DATA BEGIN SELECT id FROM ${db}.rides WHERE wait > lim; END`,
    'SET SESSION sql_mode = DEFAULT',
    // Named so that the alphabetical order is not the dependency order.
    'CREATE VIEW a_long AS SELECT id, name FROM z_base WHERE wait > 30',
    'CREATE SQL SECURITY INVOKER VIEW b_labels AS SELECT id, label(name, wait) AS label FROM rides',
    `CREATE VIEW m_on_a AS SELECT name FROM ${db}.a_long`,
    "CREATE EVENT nightly ON SCHEDULE EVERY 1 DAY STARTS '2030-01-01 03:00:00' DO DELETE FROM ride_log WHERE id < 0",
    "CREATE EVENT off ON SCHEDULE AT '2031-01-01 00:00:00' ON COMPLETION PRESERVE DISABLE DO SELECT 1",
  ]) {
    if (sql.startsWith('CREATE VIEW a_long')) await source.query('CREATE VIEW z_base AS SELECT * FROM rides');
    await source.query(sql);
  }
});

afterAll(async () => {
  await replication?.close();
  await source?.end();
  await destroyServers(sourceServer, replicaServer);
});

/** The replica's objects equal the source's, events disabled as on a server's own replica, no triggers. */
function expectCopied(ours: Objects, theirs: Objects): void {
  expect(ours.views, 'views').toEqual(theirs.views);
  expect(ours.routines, 'routines').toEqual(theirs.routines);
  expect(ours.parameters, 'parameters').toEqual(theirs.parameters);
  expect(ours.events, 'events').toEqual(theirs.events.map((e) => ({ ...e, STATUS: 'SLAVESIDE_DISABLED' })));
  expect(theirs.triggers).not.toEqual([]);
  expect(ours.triggers, 'no trigger on the replica').toEqual([]);
}

describe('snapshot of views, routines and events', () => {
  it('copies them into an empty replica: views in dependency order, routines, events disabled, no triggers', async () => {
    const result = await replication.cli(['snapshot', ...replication.commonArgs]);
    expect(result.stderr).not.toMatch(/binlog-sync: /);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/and 8 views, routines and events/);
    await expectIdentical(db, db, { source: sourceServer.info, replica: replicaServer.info });
    const theirs = await objectsOf(sourceServer, db);
    expect(theirs.views.map((v) => v.TABLE_NAME)).toEqual(['a_long', 'b_labels', 'm_on_a', 'z_base']);
    expectCopied(await objectsOf(replicaServer, db), theirs);
    const replica = await mysql.createConnection({ uri: replicaServer.info.adminUrl, ...EXACT_VALUES });
    try {
      const [labels] = await replica.query(`SELECT * FROM ${db}.b_labels ORDER BY id`);
      const [expected] = await source.query(`SELECT * FROM ${db}.b_labels ORDER BY id`);
      expect(labels).toEqual(expected);
    } finally {
      await replica.end();
    }
  });

  it('--drop-existing replaces them with the source definitions', async () => {
    await source.query(`CREATE OR REPLACE VIEW ${db}.z_base AS SELECT * FROM ${db}.rides WHERE id > 1`);
    await source.query(`DROP PROCEDURE ${db}.longest`);
    await source.query(`CREATE PROCEDURE ${db}.longest(IN lim INT) SELECT lim`);
    const result = await replication.cli(['snapshot', '--drop-existing', ...replication.commonArgs]);
    expect(result.stderr).not.toMatch(/binlog-sync: /);
    expect(result.code).toBe(0);
    await expectIdentical(db, db, { source: sourceServer.info, replica: replicaServer.info });
    expectCopied(await objectsOf(replicaServer, db), await objectsOf(sourceServer, db));
  });
});

describe('verify of views, routines and events', () => {
  interface Report {
    identical: boolean;
    tables: Array<{ table: string; status: string }>;
    objects: Array<{ object: string; type: string; status: string }>;
  }

  it('finds them identical after the snapshot, with start running', async () => {
    replication.start();
    await replication.caughtUp();
    const result = await replication.cli(['verify', '--json', ...replication.commonArgs]);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as Report;
    const source = await objectsOf(sourceServer, db);
    const expected = [
      ...source.views.map((v) => ({ object: `${db}.${String(v.TABLE_NAME)}`, type: 'VIEW' })),
      ...source.routines.map((r) => ({ object: `${db}.${String(r.ROUTINE_NAME)}`, type: String(r.ROUTINE_TYPE) })),
      ...source.events.map((e) => ({ object: `${db}.${String(e.EVENT_NAME)}`, type: 'EVENT' })),
    ].map((o) => ({ ...o, status: 'identical' }));
    expect(report.objects.sort((a, b) => a.object.localeCompare(b.object))).toEqual(expected.sort((a, b) => a.object.localeCompare(b.object)));
    expect(report.identical).toBe(true);
  });

  it('names a changed view and a dropped function, in --json and in text; exit 1', async () => {
    // Replicated live first: a change made on the source arrives, and is not reported.
    await source.query(`CREATE OR REPLACE VIEW ${db}.a_long AS SELECT id, name FROM ${db}.z_base WHERE wait > 40`);
    await replication.caughtUp();
    const replica = await mysql.createConnection({ uri: replicaServer.info.adminUrl });
    try {
      await replica.query(`CREATE OR REPLACE VIEW ${db}.m_on_a AS SELECT name, id FROM ${db}.a_long`);
      await replica.query(`DROP FUNCTION ${db}.label`);
      await replica.query(`DROP VIEW ${db}.b_labels`); // it calls the function
    } finally {
      await replica.end();
    }
    const json = await replication.cli(['verify', '--json', ...replication.commonArgs]);
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout) as Report;
    expect(report.identical).toBe(false);
    expect(report.tables.every((t) => t.status === 'identical')).toBe(true);
    expect(report.objects.filter((o) => o.status !== 'identical').sort((a, b) => a.object.localeCompare(b.object))).toEqual([
      { object: `${db}.b_labels`, type: 'VIEW', status: 'missing' },
      { object: `${db}.label`, type: 'FUNCTION', status: 'missing' },
      { object: `${db}.m_on_a`, type: 'VIEW', status: 'different' },
    ]);
    const text = await replication.cli(['verify', ...replication.commonArgs]);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(new RegExp(`different\\s+view ${db}\\.m_on_a`));
    expect(text.stdout).toMatch(new RegExp(`missing\\s+function ${db}\\.label`));
  });
});

describe('check', () => {
  interface CheckReport {
    ok: boolean;
    items: Array<{ name: string; status: string; detail: string; fix?: string }>;
  }

  it('lists the triggers as not copied, and warns about a DEFINER the replica lacks, with the fix', async () => {
    // Listing triggers takes the TRIGGER privilege.
    await source.query(`GRANT TRIGGER ON ${db}.* TO '${REPL_USER}'@'%'`);
    await source.query(`CREATE USER 'prod_owner'@'10.0.0.%'`);
    await source.query(`CREATE DEFINER = 'prod_owner'@'10.0.0.%' VIEW ${db}.owned AS SELECT 1 AS one`);
    const result = await replication.cli(['check', '--json', ...replication.commonArgs]);
    const report = JSON.parse(result.stdout) as CheckReport;
    const item = (name: string): CheckReport['items'][number] | undefined => report.items.find((i) => i.name === name);
    expect(item('triggers')).toEqual({ name: 'triggers', status: 'ok', detail: expect.stringContaining(`${db}.rides_ai`) });
    expect(item('triggers')!.detail).toMatch(/deliberately not copied/);
    expect(item('definers')).toMatchObject({ status: 'warn', detail: expect.stringContaining("'prod_owner'@'10.0.0.%'") });
    expect(item('definers')!.fix).toContain("CREATE USER 'prod_owner'@'10.0.0.%';");
    const withDefiner = await replication.cli(['check', '--json', '--definer', "'binlog_sync'@'%'", ...replication.commonArgs]);
    const second = JSON.parse(withDefiner.stdout) as CheckReport;
    expect(second.items.find((i) => i.name === 'definers')).toMatchObject({ status: 'ok' });
  });
});

describe("the guide's replication user (REPLICATION SLAVE and nothing else)", () => {
  const guideDb = 'objsnap_guide';
  let guide: Replication;

  afterAll(async () => {
    await guide?.close();
  });

  it('position set --current and start replicate with it; snapshot and verify name the grant they need', async () => {
    await source.query(`CREATE DATABASE ${guideDb}`);
    await source.query(`CREATE TABLE ${guideDb}.visits (id INT PRIMARY KEY, who VARCHAR(20))`);
    await source.query(`INSERT INTO ${guideDb}.visits VALUES (1, 'before')`);
    await source.query(`CREATE USER 'guide_user'@'%' IDENTIFIED BY 'Guide-Pw-51'; GRANT REPLICATION SLAVE ON *.* TO 'guide_user'@'%'`);
    // The replica gets the starting rows as an operator would copy them.
    const replica = await mysql.createConnection({ uri: replicaServer.info.adminUrl, multipleStatements: true });
    await replica.query(`CREATE DATABASE ${guideDb}; CREATE TABLE ${guideDb}.visits (id INT PRIMARY KEY, who VARCHAR(20)); INSERT INTO ${guideDb}.visits VALUES (1, 'before')`);
    await replica.end();
    const url = new URL(sourceServer.info.userUrl);
    url.username = 'guide_user';
    url.password = 'Guide-Pw-51';
    guide = new Replication({ databases: [guideDb], source: { ...sourceServer.info, userUrl: url.toString() }, replica: replicaServer.info });

    await guide.setCurrentPosition(); // stderr empty, exit 0
    guide.start();
    await source.query(`INSERT INTO ${guideDb}.visits VALUES (2, 'after'), (3, 'later')`);
    await source.query(`UPDATE ${guideDb}.visits SET who = 'changed' WHERE id = 1`);
    await guide.caughtUp();
    await expectIdentical(guideDb, guideDb, { source: sourceServer.info, replica: replicaServer.info });
    await guide.stop();

    for (const command of ['snapshot', 'verify']) {
      const result = await guide.cli([command, ...guide.commonArgs, ...(command === 'snapshot' ? ['--drop-existing'] : [])]);
      expect(result.code, command).toBe(1);
      const lines = result.stderr.split('\n').filter((line) => line.startsWith('binlog-sync:'));
      expect(lines, command).toEqual([expect.stringContaining(`GRANT SELECT ON \`${guideDb}\`.* TO the source user`)]);
      expect(result.stderr, command).not.toMatch(/SQL syntax|ER_|command denied/);
    }
  });
});

describe('snapshot with --rewrite-db and --definer', () => {
  const dev = `${db}_dev`;
  let renamed: Replication;

  afterAll(async () => {
    renamed?.dispose();
  });

  it('renames the objects and the database named in their bodies, and puts the account as DEFINER', async () => {
    renamed = new Replication({
      databases: [db],
      source: sourceServer.info,
      replica: replicaServer.info,
      args: ['--rewrite-db', `${db}=${dev}`, '--definer', "'binlog_sync'@'%'"],
    });
    const result = await renamed.cli(['snapshot', ...renamed.commonArgs]);
    expect(result.stderr).not.toMatch(/binlog-sync: /);
    expect(result.code).toBe(0);
    await expectIdentical(db, dev, { source: sourceServer.info, replica: replicaServer.info });
    const rename = (text: string): string => text.replaceAll(`\`${db}\``, `\`${dev}\``).replaceAll(`${db}.`, `\`${dev}\`.`);
    const renamedRows = (list: Array<Record<string, unknown>>): Array<Record<string, unknown>> =>
      list.map((row) =>
        Object.fromEntries(Object.entries(row).map(([k, v]) => [k, k === 'DEFINER' ? 'binlog_sync@%' : typeof v === 'string' ? rename(v) : v])),
      );
    const theirs = await objectsOf(sourceServer, db);
    const ours = await objectsOf(replicaServer, dev);
    // The bodies name the database: the rename did something.
    expect(theirs.views.some((v) => String(v.VIEW_DEFINITION).includes(`\`${db}\``))).toBe(true);
    expect(ours.views).toEqual(renamedRows(theirs.views));
    expect(ours.routines).toEqual(renamedRows(theirs.routines));
    expect(ours.events).toEqual(renamedRows(theirs.events).map((e) => ({ ...e, STATUS: 'SLAVESIDE_DISABLED' })));
    expect(ours.triggers).toEqual([]);
    // verify applies --rewrite-db to the source's definitions, and leaves DEFINER out.
    const verify = await renamed.cli(['verify', '--json', ...renamed.connectionArgs, '--databases', db, '--rewrite-db', `${db}=${dev}`]);
    expect(verify.stderr).toBe('');
    const report = JSON.parse(verify.stdout) as { identical: boolean; objects: Array<{ status: string }> };
    expect(report.objects).toHaveLength(theirs.views.length + theirs.routines.length + theirs.events.length);
    expect(report.objects.every((o) => o.status === 'identical')).toBe(true);
    expect(verify.code).toBe(0);
  });
});
