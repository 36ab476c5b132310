// DDL of the replicated databases in stream order, with the target database
// taken from the statement or else its default database, rewritten by
// --rewrite-db; nothing about other databases, users, grants or settings.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection } from 'mysql2/promise';
import { adminConnection, dropDatabases, uniqueName } from '../support/context.js';
import { expectIdentical, userDatabases } from '../support/compare.js';
import { startReplication, type Replication } from '../support/replication.js';

const prod = uniqueName('ddl_prod');
const dev = uniqueName('ddl_dev');
const other = uniqueName('ddl_other');
const weird = uniqueName('we`ird db ä');
let source: Connection;
let replication: Replication;
const user = uniqueName('u').slice(0, 16);

beforeAll(async () => {
  source = await adminConnection('source');
  // prod lands on the replica as dev; weird keeps its name.
  replication = await startReplication({ databases: [prod, weird], args: ['--rewrite-db', `${prod}=${dev}`] });
});

afterAll(async () => {
  await replication?.close();
  await source?.query(`DROP USER IF EXISTS '${user}'@'%'`);
  await source?.end();
  await dropDatabases([prod, dev, other, weird]);
});

const qi = (name: string): string => '`' + name.replace(/`/g, '``') + '`';

describe('DDL', () => {
  it('creates databases and tables, by qualified name and by default database, under the rewritten name', async () => {
    await source.query(`CREATE DATABASE ${qi(prod)} CHARACTER SET utf8mb4`);
    await source.query(`CREATE DATABASE ${qi(other)}`);
    await source.query(`CREATE TABLE ${qi(prod)}.parks (id INT PRIMARY KEY, name VARCHAR(40))`);
    await source.query(`USE ${qi(prod)}`);
    await source.query('CREATE TABLE rides (id INT PRIMARY KEY, park_id INT, name VARCHAR(40), KEY park (park_id))');
    await source.query(`CREATE TABLE ${qi(other)}.secret (id INT)`);
    await source.query('INSERT INTO parks VALUES (1, "Efteling")');
    await source.query('INSERT INTO rides VALUES (1, 1, "Baron")');
    await replication.caughtUp();
    await expectIdentical(prod, dev);
    const replica = await adminConnection('replica');
    const databases = await userDatabases(replica);
    await replica.end();
    expect(databases).toContain(dev);
    expect(databases).not.toContain(prod);
    expect(databases).not.toContain(other);
  });

  it('applies large row changes under the rewritten name (loaded inserts, joined updates and deletes, a composite key)', async () => {
    await source.query(`CREATE TABLE ${qi(prod)}.waits (park_id INT, ride_id INT, minutes INT, note VARCHAR(40), PRIMARY KEY (park_id, ride_id))`);
    await source.query(`INSERT INTO ${qi(prod)}.waits SELECT seq % 7, seq, seq % 90, CONCAT('wait ', seq) FROM mysql.seq_1_to_6000`);
    await source.query(`UPDATE ${qi(prod)}.waits SET minutes = minutes + 5, note = CONCAT(note, '!') WHERE ride_id % 3 <> 0`);
    await source.query(`DELETE FROM ${qi(prod)}.waits WHERE ride_id % 4 = 0`);
    await replication.caughtUp();
    const image = await expectIdentical(prod, dev);
    expect(image.tables.waits!.rows).toHaveLength(4500);
    expect(await replication.reconnects()).toBe(0); // no group had to be applied again one transaction at a time
    await source.query(`DROP TABLE ${qi(prod)}.waits`);
  });

  it('alters, indexes, renames, truncates and drops tables in stream order', async () => {
    await source.query('ALTER TABLE rides ADD COLUMN height_cm SMALLINT UNSIGNED DEFAULT 120 AFTER name, ADD INDEX by_name (name)');
    await source.query('INSERT INTO rides VALUES (2, 1, "Python", 132)');
    await source.query(`CREATE UNIQUE INDEX name_unique ON ${qi(prod)}.parks (name)`);
    await source.query('DROP INDEX by_name ON rides');
    await source.query('ALTER TABLE rides MODIFY name VARCHAR(80) NOT NULL, DROP COLUMN height_cm');
    await source.query(`RENAME TABLE ${qi(prod)}.rides TO ${qi(prod)}.attractions`);
    await source.query('CREATE TABLE tmp_stage LIKE parks');
    await source.query('INSERT INTO tmp_stage VALUES (9, "Staged")');
    await source.query('TRUNCATE TABLE tmp_stage');
    await source.query('INSERT INTO tmp_stage VALUES (10, "After truncate")');
    await source.query('CREATE TABLE gone (id INT)');
    await source.query(`DROP TABLE IF EXISTS gone, ${qi(other)}.secret`);
    await source.query('ALTER TABLE attractions ADD CONSTRAINT fk_park FOREIGN KEY (park_id) REFERENCES parks (id)');
    await source.query('INSERT INTO attractions VALUES (3, 1, "Joris")');
    await replication.caughtUp();
    const image = await expectIdentical(prod, dev);
    expect(Object.keys(image.tables).sort()).toEqual(['attractions', 'parks', 'tmp_stage']);
    expect(image.tables.tmp_stage!.rows).toHaveLength(1);
    const check = await adminConnection('source');
    const [secret] = await check.query('SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?', [other]);
    await check.end();
    expect(secret).toEqual([]); // dropped on the source by the same statement
  });

  it("runs DDL with the source session's sql_mode, and CREATE TABLE ... SELECT", async () => {
    await source.query("SET SESSION sql_mode = 'ANSI_QUOTES,NO_ENGINE_SUBSTITUTION'");
    await source.query('CREATE TABLE "ansi quoted" ("id" INT PRIMARY KEY, "v" VARCHAR(10) DEFAULT \'it\'\'s\')');
    await source.query('INSERT INTO "ansi quoted" ("id") VALUES (1)');
    await source.query("SET SESSION sql_mode = DEFAULT");
    await source.query('CREATE TABLE copied SELECT id, name FROM parks');
    await source.query('INSERT INTO copied VALUES (2, "Second")');
    await replication.caughtUp();
    const image = await expectIdentical(prod, dev);
    expect(image.tables['ansi quoted']!.rows).toHaveLength(1);
    expect(image.tables.copied!.rows).toHaveLength(2);
  });

  it('quotes identifiers with backticks, spaces, reserved words and non-ASCII letters', async () => {
    await source.query(`CREATE DATABASE ${qi(weird)}`);
    const table = `${qi(weird)}.${qi('order by`s täble')}`;
    await source.query(`CREATE TABLE ${table} (${qi('select')} INT PRIMARY KEY, ${qi('col `quoted` ü')} VARCHAR(20), ${qi('key')} INT)`);
    await source.query(`INSERT INTO ${table} VALUES (1, 'a', 1), (2, 'b', 2)`);
    await source.query(`UPDATE ${table} SET ${qi('col `quoted` ü')} = 'c' WHERE ${qi('select')} = 2`);
    await source.query(`DELETE FROM ${table} WHERE ${qi('key')} = 1`);
    await source.query(`ALTER TABLE ${table} ADD COLUMN ${qi('größe')} INT`);
    await source.query(`INSERT INTO ${table} VALUES (3, 'd', 3, 42)`);
    await replication.caughtUp();
    const image = await expectIdentical(weird);
    expect(image.tables['order by`s täble']!.rows).toHaveLength(2);
  });

  it('creates a table whose foreign key refers to a table of a database not replicated, which the source created with its checks on', async () => {
    await source.query(`CREATE TABLE ${qi(other)}.owners (id INT PRIMARY KEY) ENGINE=InnoDB`);
    await source.query(
      `CREATE TABLE ${qi(prod)}.tickets (id INT PRIMARY KEY, owner INT, CONSTRAINT fk_owner FOREIGN KEY (owner) REFERENCES ${qi(other)}.owners (id)) ENGINE=InnoDB`,
    );
    await source.query(`CREATE TABLE ${qi(prod)}.after_tickets (id INT PRIMARY KEY)`);
    await replication.caughtUp();
    // The replica has no parent table: the checks the source ran it with refuse it, so it runs without them, saying so.
    expect(replication.output?.stderr).toContain('CREATE TABLE failed with foreign key checks on, as the source ran it');
    const replica = await adminConnection('replica');
    try {
      const [rows] = await replica.query(`SHOW CREATE TABLE ${qi(dev)}.tickets`);
      expect((rows as Array<Record<string, string>>)[0]!['Create Table']).toContain(`CONSTRAINT \`fk_owner\` FOREIGN KEY (\`owner\`) REFERENCES \`${other}\`.\`owners\``);
      const [after] = await replica.query(`SHOW TABLES FROM ${qi(dev)} LIKE 'after_tickets'`);
      expect(after).toHaveLength(1);
    } finally {
      await replica.end();
    }
    // (Dropped with checks on too, on the replica where its parent is missing.)
    await source.query(`DROP TABLE ${qi(prod)}.tickets`);
    await replication.caughtUp();
  });

  it('ignores users, grants, settings and other databases, and drops a replicated database', async () => {
    await source.query(`CREATE USER '${user}'@'%' IDENTIFIED BY 'Pw-1234'`);
    await source.query(`GRANT SELECT ON ${qi(prod)}.* TO '${user}'@'%'`);
    await source.query(`DROP DATABASE ${qi(other)}`);
    await source.query('FLUSH PRIVILEGES');
    await source.query(`CREATE VIEW ${qi(prod)}.park_names AS SELECT name FROM ${qi(prod)}.parks`);
    await source.query(`DROP DATABASE ${qi(weird)}`);
    await replication.caughtUp();
    const replica = await adminConnection('replica');
    const [users] = await replica.query('SELECT User FROM mysql.user WHERE User = ?', [user]);
    const databases = await userDatabases(replica);
    await replica.end();
    expect(users).toEqual([]);
    expect(databases).not.toContain(weird);
    expect(databases).toContain(dev);
    await expectIdentical(prod, dev);
  });
});
