// Views, stored routines and events, replicated by the server's own replica
// and by `binlog-sync start` from one source, and compared in
// information_schema (the native replica is the expectation). Triggers stay
// off binlog-sync's replica: the source logs what they did as row events.
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXACT_VALUES } from '../support/context.js';
import { Differential } from '../support/differential.js';
import { objectsOf, type Objects } from '../support/objects.js';

const db = 'objs_park';
const rw = 'objs_rw';
const rwTarget = 'objs_rw_dev';
let diff: Differential;

/**
 * Waits for both replicas, then asserts binlog-sync's tables equal the
 * native replica's, and its views, routines and events too (with `rename`
 * applied to the native text, for --rewrite-db); binlog-sync has no
 * triggers where the native replica has the source's.
 */
async function expectObjectsAsNative(
  database: string,
  options: { oursDatabase?: string; rename?: (text: string) => string } = {},
): Promise<Objects> {
  await diff.expectSameAsNative(database, options.oursDatabase ? { oursDatabase: options.oursDatabase } : {});
  const native = await objectsOf(diff.native, database);
  const ours = await objectsOf(diff.ours, options.oursDatabase ?? database);
  const rename = options.rename ?? ((text: string): string => text);
  const renamed = (list: Array<Record<string, unknown>>): Array<Record<string, unknown>> =>
    list.map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === 'string' ? rename(v) : v])));
  expect(ours.views, 'views').toEqual(renamed(native.views));
  expect(ours.routines, 'routines').toEqual(renamed(native.routines));
  expect(ours.parameters, 'routine parameters').toEqual(renamed(native.parameters));
  expect(ours.events, 'events').toEqual(renamed(native.events));
  // The native replica has the source's triggers (the expectation is not empty); ours has none.
  const source = await objectsOf(diff.source, database);
  expect(native.triggers).toEqual(source.triggers);
  expect(ours.triggers, 'no trigger on binlog-sync replica').toEqual([]);
  return native;
}

/** A query's result on both replicas (the objects are usable, not just present). */
async function expectSameResult(sql: string): Promise<void> {
  const results = [];
  for (const server of [diff.native, diff.ours]) {
    const conn = await mysql.createConnection({ uri: server.info.adminUrl, ...EXACT_VALUES });
    try {
      results.push((await conn.query(sql))[0]);
    } finally {
      await conn.end();
    }
  }
  expect(results[1], sql).toEqual(results[0]);
}

beforeAll(async () => {
  diff = await Differential.start({
    databases: [db, rw],
    ids: [131, 132, 133],
    source: { timeZone: 'Asia/Kolkata' },
    args: ['--rewrite-db', `${rw}=${rwTarget}`],
  });
  await diff.run(`CREATE DATABASE ${db}`, `CREATE DATABASE ${rw}`);
});

afterAll(async () => {
  await diff?.close();
});

describe('views, routines and events: the same as the server own replica', () => {
  it('creates views (on a view, calling a function, SQL SECURITY INVOKER), routines with their characteristics and sql_mode, and a disabled event; no triggers', async () => {
    await diff.run(
      `CREATE TABLE ${db}.rides (id INT PRIMARY KEY, name VARCHAR(40), wait INT)`,
      `CREATE TABLE ${db}.ride_log (id INT AUTO_INCREMENT PRIMARY KEY, ride INT, what VARCHAR(10))`,
      `CREATE TABLE ${db}.totals (k VARCHAR(10) PRIMARY KEY, n INT)`,
      `INSERT INTO ${db}.totals VALUES ('rides', 0)`,
      // Triggers that write other tables: their effects arrive as rows.
      `CREATE TRIGGER ${db}.rides_ai AFTER INSERT ON ${db}.rides FOR EACH ROW
         BEGIN INSERT INTO ${db}.ride_log (ride, what) VALUES (NEW.id, 'insert'); UPDATE ${db}.totals SET n = n + 1 WHERE k = 'rides'; END`,
      `CREATE TRIGGER ${db}.rides_bu BEFORE UPDATE ON ${db}.rides FOR EACH ROW INSERT INTO ${db}.ride_log (ride, what) VALUES (OLD.id, 'update')`,
      `SET SESSION sql_mode = 'STRICT_ALL_TABLES,PIPES_AS_CONCAT,NO_ZERO_DATE'`,
      `CREATE FUNCTION ${db}.label(n VARCHAR(40), w INT) RETURNS VARCHAR(80) DETERMINISTIC NO SQL
         COMMENT 'name and wait' RETURN n || ' (' || w || ' min)'`,
      `CREATE DEFINER = CURRENT_USER PROCEDURE ${db}.longest(IN lim INT, OUT total INT) READS SQL DATA SQL SECURITY INVOKER
         BEGIN
           DECLARE n INT DEFAULT 0;
           SELECT COUNT(*) INTO n FROM ${db}.rides WHERE wait > lim;
           SET total = n;
           SELECT id, name FROM ${db}.rides WHERE wait > lim ORDER BY wait DESC;
         END`,
      `SET SESSION sql_mode = DEFAULT`,
      `CREATE VIEW ${db}.ride_list AS SELECT id, name, wait FROM ${db}.rides WHERE wait IS NOT NULL`,
      `CREATE VIEW ${db}.long_rides AS SELECT id, name FROM ${db}.ride_list WHERE wait > 30 WITH CHECK OPTION`,
      `USE ${db}; CREATE SQL SECURITY INVOKER VIEW labels AS SELECT id, label(name, wait) AS label FROM rides`,
      `SET SESSION time_zone = '+05:30'`,
      `CREATE EVENT ${db}.cleanup ON SCHEDULE EVERY 1 DAY STARTS '2030-01-01 03:00:00'
         COMMENT 'nightly' DO DELETE FROM ${db}.ride_log WHERE id < 0`,
      `CREATE EVENT ${db}.once ON SCHEDULE AT '2031-06-01 00:00:00' ON COMPLETION PRESERVE DISABLE DO UPDATE ${db}.totals SET n = 0`,
      `INSERT INTO ${db}.rides VALUES (1, 'Coaster', 45), (2, 'Carousel', 5), (3, 'Log flume', 35)`,
      `UPDATE ${db}.rides SET wait = 50 WHERE id = 1`,
    );
    const native = await expectObjectsAsNative(db);
    expect(native.views.map((v) => v.TABLE_NAME)).toEqual(['labels', 'long_rides', 'ride_list']);
    expect(native.routines.map((r) => r.ROUTINE_NAME)).toEqual(['label', 'longest']);
    expect(native.events.map((e) => [e.EVENT_NAME, e.STATUS])).toEqual([['cleanup', 'SLAVESIDE_DISABLED'], ['once', 'SLAVESIDE_DISABLED']]);
    await expectSameResult(`SELECT * FROM ${db}.labels ORDER BY id`);
    await expectSameResult(`SELECT * FROM ${db}.long_rides ORDER BY id`);
    await expectSameResult(`CALL ${db}.longest(10, @t); SELECT @t`);
  });

  it('CREATE OR REPLACE, ALTER and DROP of each kind', async () => {
    await diff.run(
      `CREATE TABLE ${db}.shows (id INT PRIMARY KEY, title VARCHAR(40), at TIME)`,
      `INSERT INTO ${db}.shows VALUES (1, 'Parade', '15:00:00'), (2, 'Fireworks', '21:30:00')`,
      `CREATE VIEW ${db}.v_shows AS SELECT id, title FROM ${db}.shows`,
      `CREATE OR REPLACE VIEW ${db}.v_shows AS SELECT id, title, at FROM ${db}.shows WHERE at > '12:00:00'`,
      `ALTER SQL SECURITY INVOKER VIEW ${db}.v_shows AS SELECT title FROM ${db}.shows`,
      `CREATE VIEW ${db}.v_gone AS SELECT 1 AS one`,
      `DROP VIEW ${db}.v_gone`,
      `CREATE FUNCTION ${db}.f_gone() RETURNS INT DETERMINISTIC RETURN 1`,
      `DROP FUNCTION ${db}.f_gone`,
      `CREATE PROCEDURE ${db}.p_show(IN i INT) SELECT title FROM ${db}.shows WHERE id = i`,
      `CREATE OR REPLACE PROCEDURE ${db}.p_show(IN i INT) MODIFIES SQL DATA UPDATE ${db}.shows SET title = UPPER(title) WHERE id = i`,
      `ALTER PROCEDURE ${db}.p_show COMMENT 'shouts' SQL SECURITY INVOKER`,
      `CREATE FUNCTION ${db}.f_keep() RETURNS INT NOT DETERMINISTIC NO SQL RETURN 7`,
      `ALTER FUNCTION ${db}.f_keep READS SQL DATA COMMENT 'seven'`,
      `CREATE PROCEDURE ${db}.p_gone() BEGIN END`,
      `DROP PROCEDURE IF EXISTS ${db}.p_gone`,
      `CREATE EVENT ${db}.e_alter ON SCHEDULE EVERY 1 HOUR DO UPDATE ${db}.shows SET at = at`,
      `ALTER EVENT ${db}.e_alter ON SCHEDULE EVERY 2 HOUR ENABLE COMMENT 'twice as slow'`,
      `CREATE OR REPLACE EVENT ${db}.e_replace ON SCHEDULE EVERY 5 MINUTE DO SELECT 1`,
      `CREATE OR REPLACE EVENT ${db}.e_replace ON SCHEDULE EVERY 10 MINUTE ENABLE DO SELECT 2`,
      `CREATE EVENT ${db}.e_gone ON SCHEDULE EVERY 1 DAY DO SELECT 1`,
      `DROP EVENT ${db}.e_gone`,
      `DROP TRIGGER IF EXISTS ${db}.rides_bu`,
      `CALL ${db}.p_show(2)`,
    );
    const native = await expectObjectsAsNative(db);
    expect(native.routines.map((r) => r.ROUTINE_NAME)).toEqual(expect.arrayContaining(['f_keep', 'p_show']));
    expect(native.routines.map((r) => r.ROUTINE_NAME)).not.toContain('f_gone');
    expect(native.events.map((e) => e.EVENT_NAME)).toEqual(['cleanup', 'e_alter', 'e_replace', 'once']);
    await expectSameResult(`SELECT * FROM ${db}.v_shows ORDER BY title`);
  });

  it('--rewrite-db renames the objects and the database named in their bodies', async () => {
    await diff.run(
      `CREATE TABLE ${rw}.guests (id INT PRIMARY KEY, name VARCHAR(20))`,
      `INSERT INTO ${rw}.guests VALUES (1, 'Ann'), (2, 'Bo')`,
      `CREATE VIEW ${rw}.guest_names AS SELECT ${rw}.guests.name FROM ${rw}.guests`,
      `USE ${rw}; CREATE VIEW named_again AS SELECT name FROM \`${rw}\`.guest_names`,
      `CREATE FUNCTION ${rw}.guest_count() RETURNS INT READS SQL DATA RETURN (SELECT COUNT(*) FROM ${rw}.guests)`,
      `CREATE PROCEDURE ${rw}.add_guest(IN n VARCHAR(20))
         BEGIN
           DECLARE next INT;
           SELECT COALESCE(MAX(id), 0) + 1 INTO next FROM ${rw}.guests;
           INSERT INTO ${rw}.guests VALUES (next, n);
         END`,
      `CREATE VIEW ${rw}.counted AS SELECT ${rw}.guest_count() AS n`,
      `CREATE EVENT ${rw}.tidy ON SCHEDULE EVERY 1 DAY DO DELETE FROM ${rw}.guests WHERE name = ''`,
      `CALL ${rw}.add_guest('Cy')`,
    );
    // binlog-sync writes the new name in backticks where the source wrote a bare one.
    const rename = (text: string): string => text.replaceAll(`\`${rw}\``, `\`${rwTarget}\``).replaceAll(`${rw}.`, `\`${rwTarget}\`.`);
    const native = await expectObjectsAsNative(rw, { oursDatabase: rwTarget, rename });
    // The bodies name the database: the rename did something.
    expect(native.views.some((v) => String(v.VIEW_DEFINITION).includes(`\`${rw}\``))).toBe(true);
    const conn = await mysql.createConnection({ uri: diff.ours.info.adminUrl, ...EXACT_VALUES });
    try {
      const [[counted]] = (await conn.query(`SELECT n FROM ${rwTarget}.counted`)) as unknown as [[{ n: number }]];
      expect(counted.n).toBe(3);
      const [names] = await conn.query(`SELECT name FROM ${rwTarget}.named_again ORDER BY name`);
      expect(names).toEqual([{ name: 'Ann' }, { name: 'Bo' }, { name: 'Cy' }]);
    } finally {
      await conn.end();
    }
  });
});

describe('--definer', () => {
  const defDb = 'objs_definer';
  let other: Differential;

  beforeAll(async () => {
    other = await Differential.start({ databases: [defDb], ids: [134, 135, 136], args: ['--definer', "'app_owner'@'%'"] });
    await other.run(`CREATE DATABASE ${defDb}`);
    for (const server of [other.ours, other.native]) {
      const conn = await mysql.createConnection({ uri: server.info.adminUrl, multipleStatements: true });
      await conn.query(`CREATE USER 'app_owner'@'%'; GRANT SELECT ON ${defDb}.* TO 'app_owner'@'%'`).finally(() => conn.end());
    }
  });

  afterAll(async () => {
    await other?.close();
  });

  it('puts the account as DEFINER of views, routines and events; everything else as the native replica', async () => {
    await other.run(
      `CREATE USER 'prod_owner'@'10.0.0.%'`,
      `CREATE TABLE ${defDb}.t (id INT PRIMARY KEY)`,
      `INSERT INTO ${defDb}.t VALUES (1), (2)`,
      `CREATE DEFINER = 'prod_owner'@'10.0.0.%' SQL SECURITY DEFINER VIEW ${defDb}.v AS SELECT id FROM ${defDb}.t`,
      `CREATE DEFINER = 'prod_owner'@'10.0.0.%' FUNCTION ${defDb}.f() RETURNS INT DETERMINISTIC RETURN 1`,
      `CREATE PROCEDURE ${defDb}.p() SELECT 1`,
      `SET SESSION time_zone = '+00:00'`,
      `CREATE EVENT ${defDb}.e ON SCHEDULE EVERY 1 DAY STARTS '2030-01-01 00:00:00' DO SELECT 1`,
      `ALTER EVENT ${defDb}.e COMMENT 'altered'`,
    );
    await other.expectSameAsNative(defDb);
    const [native, ours] = [await objectsOf(other.native, defDb), await objectsOf(other.ours, defDb)];
    const definers = (o: Objects): unknown[] => [...o.views, ...o.routines, ...o.events].map((x) => x.DEFINER);
    expect(definers(native)).toEqual(['prod_owner@10.0.0.%', 'prod_owner@10.0.0.%', 'root@127.0.0.1', 'root@127.0.0.1']);
    expect(definers(ours)).toEqual(['app_owner@%', 'app_owner@%', 'app_owner@%', 'app_owner@%']);
    const withoutDefiner = (o: Objects): Objects => ({
      ...o,
      views: o.views.map(({ DEFINER: _d, ...rest }) => rest),
      routines: o.routines.map(({ DEFINER: _d, ...rest }) => rest),
      events: o.events.map(({ DEFINER: _d, ...rest }) => rest),
    });
    expect(withoutDefiner(ours)).toEqual({ ...withoutDefiner(native), triggers: [] });
    // The view works on ours (its definer exists there); on the native replica it fails with 1449.
    const conn = await mysql.createConnection({ uri: other.ours.info.adminUrl });
    try {
      const [rows] = await conn.query(`SELECT id FROM ${defDb}.v ORDER BY id`);
      expect(rows).toEqual([{ id: 1 }, { id: 2 }]);
    } finally {
      await conn.end();
    }
  });
});
