import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { classifyStatement } from '../../../src/txn/ddl/classify.js';
import { replaceCreateTableName, restrictToTables, rewriteDatabases, rewriteObject } from '../../../src/txn/ddl/rewrite.js';
import { SKIPPED_STATEMENTS } from '../../../src/txn/ddl/skipped.js';
import type { ResolvedTable, StatementInfo } from '../../../src/txn/ddl/statement-info.js';

const DEFAULT_DB = 'themepark';

function tables(verb: string, ...names: [string | undefined, string][]): StatementInfo {
  return { kind: 'ddl', scope: 'table', verb, tables: names.map(([database, table]) => ({ database, table })) };
}

type Name = [string | undefined, string];

/** A rename statement: its pairs in order, both sides among the tables. */
function renamed(verb: string, ...pairs: Array<[Name, Name] | true>): StatementInfo {
  const list = pairs.filter((p): p is [Name, Name] => p !== true);
  const resolved = ([database, table]: Name): ResolvedTable => ({ database, table });
  return {
    ...tables(verb, ...list.flat()),
    renames: list.map(([from, to]) => ({ from: resolved(from), to: resolved(to) })),
    ...(pairs.includes(true) ? { ifExists: true as const } : {}),
  } as StatementInfo;
}

function like(info: StatementInfo, [database, table]: Name): StatementInfo {
  return { ...info, like: { database, table } } as StatementInfo;
}

function database(verb: string, name: string): StatementInfo {
  return { kind: 'ddl', scope: 'database', verb, database: name };
}

/** A database statement that names none: about the default database. */
function defaultDatabaseDdl(verb: string): StatementInfo {
  return { kind: 'ddl', scope: 'database', verb, database: DEFAULT_DB, unnamed: true };
}


describe('classifyStatement: table DDL', () => {
  it.each<[string, StatementInfo]>([
    // CREATE TABLE
    ['CREATE TABLE rides (id INT PRIMARY KEY)', tables('CREATE TABLE', [DEFAULT_DB, 'rides'])],
    ['create table other.rides (id int);', tables('CREATE TABLE', ['other', 'rides'])],
    ['CREATE OR REPLACE TABLE `other`.`rides` (id INT)', tables('CREATE TABLE', ['other', 'rides'])],
    ['CREATE TABLE IF NOT EXISTS `we``ird`.`a b` (id INT)', tables('CREATE TABLE', ['we`ird', 'a b'])],
    ['CREATE TABLE `order` (`select` INT)', tables('CREATE TABLE', [DEFAULT_DB, 'order'])],
    ['CREATE TABLE café.Ärger (x INT)', tables('CREATE TABLE', ['café', 'Ärger'])],
    ['CREATE /* why */ TABLE -- not now\n db /* a */ . /* b */ t (x INT)', tables('CREATE TABLE', ['db', 't'])],
    ['CREATE TABLE db.copy LIKE other.source', like(tables('CREATE TABLE', ['db', 'copy']), ['other', 'source'])],
    ['CREATE TABLE copy (LIKE other.source)', like(tables('CREATE TABLE', [DEFAULT_DB, 'copy']), ['other', 'source'])],
    ['CREATE TABLE IF NOT EXISTS `a b`.`c` LIKE `d``e`', like(tables('CREATE TABLE', ['a b', 'c']), [DEFAULT_DB, 'd`e'])],
    ['CREATE TABLE t2 AS SELECT * FROM other.t1', tables('CREATE TABLE', [DEFAULT_DB, 't2'])],
    ["CREATE TABLE t (c VARCHAR(9) DEFAULT 'x.y') COMMENT 'prod.t'", tables('CREATE TABLE', [DEFAULT_DB, 't'])],
    ['/*!40101 CREATE TABLE t (x INT) */', tables('CREATE TABLE', [DEFAULT_DB, 't'])],
    ['CREATE TABLE t1(id int)', tables('CREATE TABLE', [DEFAULT_DB, 't1'])],
    // Sequences (tables of one row, changed by row events)
    ['CREATE SEQUENCE s', tables('CREATE SEQUENCE', [DEFAULT_DB, 's'])],
    ['CREATE OR REPLACE SEQUENCE IF NOT EXISTS other.`s q` START WITH 10 INCREMENT BY 5', tables('CREATE SEQUENCE', ['other', 's q'])],
    ['ALTER SEQUENCE IF EXISTS s RESTART WITH 500', tables('ALTER SEQUENCE', [DEFAULT_DB, 's'])],
    ['DROP SEQUENCE IF EXISTS s, other.t', tables('DROP SEQUENCE', [DEFAULT_DB, 's'], ['other', 't'])],
    // ALTER TABLE
    ['ALTER TABLE themepark.rides ADD COLUMN x INT', tables('ALTER TABLE', ['themepark', 'rides'])],
    ['alter online ignore table rides drop column x', tables('ALTER TABLE', [DEFAULT_DB, 'rides'])],
    ['ALTER TABLE IF EXISTS `a``b`.`order` ENGINE=InnoDB', tables('ALTER TABLE', ['a`b', 'order'])],
    ['ALTER TABLE t RENAME TO other.u', renamed('ALTER TABLE', [[DEFAULT_DB, 't'], ['other', 'u']])],
    ['ALTER TABLE IF EXISTS t RENAME TO other.u', renamed('ALTER TABLE', [[DEFAULT_DB, 't'], ['other', 'u']], true)],
    ['ALTER TABLE t ADD x INT, RENAME AS u', renamed('ALTER TABLE', [[DEFAULT_DB, 't'], [DEFAULT_DB, 'u']])],
    ['ALTER TABLE t RENAME u', renamed('ALTER TABLE', [[DEFAULT_DB, 't'], [DEFAULT_DB, 'u']])],
    ['ALTER TABLE t RENAME COLUMN a TO b, RENAME INDEX i TO j, RENAME KEY k TO l', tables('ALTER TABLE', [DEFAULT_DB, 't'])],
    ['ALTER TABLE t EXCHANGE PARTITION p0 WITH TABLE db.t_archive', tables('ALTER TABLE', [DEFAULT_DB, 't'], ['db', 't_archive'])],
    [
      'ALTER TABLE child ADD CONSTRAINT fk FOREIGN KEY (p) REFERENCES otherdb.parent (id)',
      tables('ALTER TABLE', [DEFAULT_DB, 'child']),
    ],
    ['/*!40000 ALTER TABLE `t` DISABLE KEYS */', tables('ALTER TABLE', [DEFAULT_DB, 't'])],
    // DROP TABLE
    ['DROP TABLE rides', tables('DROP TABLE', [DEFAULT_DB, 'rides'])],
    ['DROP TABLE IF EXISTS a, other.b, `c` RESTRICT', tables('DROP TABLE', [DEFAULT_DB, 'a'], ['other', 'b'], [DEFAULT_DB, 'c'])],
    [
      'DROP TABLE IF EXISTS `t1`,`db2`.`t2` /* generated by server */',
      tables('DROP TABLE', [DEFAULT_DB, 't1'], ['db2', 't2']),
    ],
    ['drop tables a CASCADE;', tables('DROP TABLE', [DEFAULT_DB, 'a'])],
    // RENAME TABLE
    ['RENAME TABLE a TO b', renamed('RENAME TABLE', [[DEFAULT_DB, 'a'], [DEFAULT_DB, 'b']])],
    [
      'RENAME TABLE db1.a TO db2.b, `c` TO `d`, e TO db3.f',
      renamed('RENAME TABLE', [['db1', 'a'], ['db2', 'b']], [[DEFAULT_DB, 'c'], [DEFAULT_DB, 'd']], [[DEFAULT_DB, 'e'], ['db3', 'f']]),
    ],
    ['RENAME TABLE IF EXISTS a WAIT 5 TO b', renamed('RENAME TABLE', [[DEFAULT_DB, 'a'], [DEFAULT_DB, 'b']], true)],
    // TRUNCATE
    ['TRUNCATE TABLE db.rides', tables('TRUNCATE TABLE', ['db', 'rides'])],
    ['truncate rides', tables('TRUNCATE TABLE', [DEFAULT_DB, 'rides'])],
    ['TRUNCATE `table`', tables('TRUNCATE TABLE', [DEFAULT_DB, 'table'])],
    // CREATE INDEX / DROP INDEX
    ['CREATE INDEX idx ON rides (name)', tables('CREATE INDEX', [DEFAULT_DB, 'rides'])],
    [
      'CREATE OR REPLACE ONLINE UNIQUE INDEX IF NOT EXISTS `i` USING BTREE ON `db`.`rides` (a, b)',
      tables('CREATE INDEX', ['db', 'rides']),
    ],
    ['CREATE FULLTEXT INDEX ft ON db.docs (body)', tables('CREATE INDEX', ['db', 'docs'])],
    ['CREATE SPATIAL INDEX sp ON geo (g)', tables('CREATE INDEX', [DEFAULT_DB, 'geo'])],
    ['DROP INDEX idx ON db.rides', tables('DROP INDEX', ['db', 'rides'])],
    ['DROP INDEX IF EXISTS `PRIMARY` ON `order` ALGORITHM=INPLACE', tables('DROP INDEX', [DEFAULT_DB, 'order'])],
  ])('%s', (sql, expected) => {
    expect(classifyStatement(sql, DEFAULT_DB)).toEqual(expected);
  });

  it('leaves the database undefined for unqualified names without a default database', () => {
    expect(classifyStatement('DROP TABLE a, db.b', undefined)).toEqual(tables('DROP TABLE', [undefined, 'a'], ['db', 'b']));
  });
});

function objects(verb: string, type: 'PROCEDURE' | 'FUNCTION' | 'EVENT', ...names: [string | undefined, string][]): StatementInfo {
  return { kind: 'ddl', scope: 'object', verb, type, objects: names.map(([database, table]) => ({ database, table })) };
}

describe('classifyStatement: views, routines and events', () => {
  it.each<[string, StatementInfo]>([
    ['CREATE VIEW v AS SELECT * FROM t', tables('CREATE VIEW', [DEFAULT_DB, 'v'])],
    [
      'CREATE OR REPLACE ALGORITHM=UNDEFINED DEFINER=`root`@`localhost` SQL SECURITY DEFINER VIEW `prod`.`v` AS select 1 AS `a`',
      tables('CREATE VIEW', ['prod', 'v']),
    ],
    ['/*!50001 CREATE ALGORITHM=UNDEFINED */ /*!50013 DEFINER=`root`@`localhost` */ /*!50001 VIEW `v` AS SELECT 1 */', tables('CREATE VIEW', [DEFAULT_DB, 'v'])],
    ["ALTER DEFINER='u'@'%' SQL SECURITY INVOKER VIEW v AS SELECT 2", tables('ALTER VIEW', [DEFAULT_DB, 'v'])],
    ['CREATE VIEW IF NOT EXISTS prod.v AS SELECT 1', tables('CREATE VIEW', ['prod', 'v'])],
    ['DROP VIEW IF EXISTS v, prod.w CASCADE', tables('DROP VIEW', [DEFAULT_DB, 'v'], ['prod', 'w'])],
    ['CREATE PROCEDURE p() BEGIN CREATE TABLE t (x INT); END', objects('CREATE PROCEDURE', 'PROCEDURE', [DEFAULT_DB, 'p'])],
    [
      'CREATE OR REPLACE DEFINER=`root`@`localhost` PROCEDURE `prod`.`p`(IN a INT) READS SQL DATA BEGIN SELECT a; END',
      objects('CREATE PROCEDURE', 'PROCEDURE', ['prod', 'p']),
    ],
    ['create function f() returns int deterministic return 1', objects('CREATE FUNCTION', 'FUNCTION', [DEFAULT_DB, 'f'])],
    ['CREATE FUNCTION f RETURN INT AS BEGIN RETURN 1; END', objects('CREATE FUNCTION', 'FUNCTION', [DEFAULT_DB, 'f'])],
    ['CREATE DEFINER=CURRENT_USER() AGGREGATE FUNCTION prod.agg(x INT) RETURNS INT BEGIN RETURN 1; END', objects('CREATE FUNCTION', 'FUNCTION', ['prod', 'agg'])],
    ["ALTER PROCEDURE prod.p COMMENT 'x'", objects('ALTER PROCEDURE', 'PROCEDURE', ['prod', 'p'])],
    ['ALTER FUNCTION f SQL SECURITY INVOKER', objects('ALTER FUNCTION', 'FUNCTION', [DEFAULT_DB, 'f'])],
    ['DROP PROCEDURE IF EXISTS prod.p', objects('DROP PROCEDURE', 'PROCEDURE', ['prod', 'p'])],
    ['DROP FUNCTION f', objects('DROP FUNCTION', 'FUNCTION', [DEFAULT_DB, 'f'])],
    ['CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO DELETE FROM t', objects('CREATE EVENT', 'EVENT', [DEFAULT_DB, 'e'])],
    ['CREATE DEFINER=`root`@`%` EVENT IF NOT EXISTS prod.e ON SCHEDULE AT NOW() DO SET @a = 1', objects('CREATE EVENT', 'EVENT', ['prod', 'e'])],
    ['ALTER EVENT prod.e DISABLE', objects('ALTER EVENT', 'EVENT', ['prod', 'e'])],
    ['DROP EVENT IF EXISTS e', objects('DROP EVENT', 'EVENT', [DEFAULT_DB, 'e'])],
  ])('%s', (sql, expected) => {
    expect(classifyStatement(sql, DEFAULT_DB)).toEqual(expected);
  });

  it('an object without a database is ignored', () => {
    expect(classifyStatement('CREATE PROCEDURE p() SELECT 1', undefined)).toMatchObject({ kind: 'ignored' });
  });

  it('DROP VIEW keeps only the views of the replicated tables', () => {
    const sql = 'DROP VIEW IF EXISTS a, `b`, prod.c';
    const info = classifyStatement(sql, 'prod');
    expect(restrictToTables(sql, info, (t) => t.table !== 'b')).toBe('DROP VIEW IF EXISTS a, prod.c');
  });
});

describe('rewriteDatabases: bodies of views, routines and events', () => {
  const prodToDev = (db: string): string => (db === 'prod' ? 'dev' : db);
  it.each<[string, string, string]>([
    ['a view and the tables it reads', 'CREATE VIEW prod.v AS SELECT prod.t.a FROM prod.t JOIN other.u USING (id)',
      'CREATE VIEW `dev`.v AS SELECT `dev`.t.a FROM `dev`.t JOIN other.u USING (id)'],
    ['a compound body, past its first semicolon',
      'CREATE PROCEDURE prod.p() BEGIN DECLARE n INT; SELECT COUNT(*) INTO n FROM prod.t; INSERT INTO `prod`.log VALUES (prod.f(n)); END',
      'CREATE PROCEDURE `dev`.p() BEGIN DECLARE n INT; SELECT COUNT(*) INTO n FROM `dev`.t; INSERT INTO `dev`.log VALUES (`dev`.f(n)); END'],
    ['an event body', 'CREATE EVENT prod.e ON SCHEDULE EVERY 1 HOUR DO DELETE FROM prod.log WHERE at < NOW()',
      'CREATE EVENT `dev`.e ON SCHEDULE EVERY 1 HOUR DO DELETE FROM `dev`.log WHERE at < NOW()'],
  ])('%s', (_name, sql, expected) => {
    expect(rewriteDatabases(sql, prodToDev)).toBe(expected);
  });
});

describe('rewriteObject', () => {
  const definer = "'app'@'%'";
  it.each<[string, string, string]>([
    ['a view DEFINER', 'CREATE ALGORITHM=UNDEFINED DEFINER=`root`@`localhost` SQL SECURITY INVOKER VIEW `v` AS SELECT 1',
      "CREATE ALGORITHM=UNDEFINED DEFINER='app'@'%' SQL SECURITY INVOKER VIEW `v` AS SELECT 1"],
    ['a view without one', 'CREATE OR REPLACE SQL SECURITY INVOKER VIEW v AS SELECT 1', "CREATE OR REPLACE DEFINER='app'@'%' SQL SECURITY INVOKER VIEW v AS SELECT 1"],
    ['a mysqldump view', '/*!50001 CREATE ALGORITHM=UNDEFINED */ /*!50013 DEFINER=`root`@`localhost` */ /*!50001 VIEW `v` AS SELECT 1 */',
      "/*!50001 CREATE ALGORITHM=UNDEFINED */ /*!50013 DEFINER='app'@'%' */ /*!50001 VIEW `v` AS SELECT 1 */"],
    ['a procedure', 'CREATE DEFINER=root@localhost PROCEDURE p() SELECT 1', "CREATE DEFINER='app'@'%' PROCEDURE p() SELECT 1"],
    ['CURRENT_USER', 'CREATE DEFINER = CURRENT_USER() FUNCTION f() RETURNS INT RETURN 1', "CREATE DEFINER = 'app'@'%' FUNCTION f() RETURNS INT RETURN 1"],
    ['an aggregate function without one', 'CREATE AGGREGATE FUNCTION f(x INT) RETURNS INT BEGIN RETURN 1; END',
      "CREATE DEFINER='app'@'%' AGGREGATE FUNCTION f(x INT) RETURNS INT BEGIN RETURN 1; END"],
    ['ALTER VIEW', 'ALTER DEFINER=`a`@`b` VIEW v AS SELECT 2', "ALTER DEFINER='app'@'%' VIEW v AS SELECT 2"],
    ['ALTER PROCEDURE has no DEFINER', "ALTER PROCEDURE p COMMENT 'x'", "ALTER PROCEDURE p COMMENT 'x'"],
  ])('DEFINER: %s', (_name, sql, expected) => {
    expect(rewriteObject(sql, { definer })).toBe(expected);
  });

  it.each<[string, string, string]>([
    ['ENABLE', 'CREATE DEFINER=`r`@`h` EVENT e ON SCHEDULE EVERY 1 DAY ENABLE DO SELECT 1', 'CREATE DEFINER=`r`@`h` EVENT e ON SCHEDULE EVERY 1 DAY DISABLE ON SLAVE DO SELECT 1'],
    ['DISABLE', 'CREATE EVENT e ON SCHEDULE EVERY 1 DAY ON COMPLETION PRESERVE DISABLE COMMENT \'c\' DO SELECT 1',
      'CREATE EVENT e ON SCHEDULE EVERY 1 DAY ON COMPLETION PRESERVE DISABLE ON SLAVE COMMENT \'c\' DO SELECT 1'],
    ['no status (ENABLE by default)', "CREATE EVENT e ON SCHEDULE EVERY 1 DAY COMMENT 'enable' DO UPDATE t SET enable = 1",
      "CREATE EVENT e ON SCHEDULE EVERY 1 DAY DISABLE ON SLAVE COMMENT 'enable' DO UPDATE t SET enable = 1"],
    ['no status, a body that says ENABLE', 'CREATE EVENT e ON SCHEDULE AT NOW() + INTERVAL 1 DAY DO BEGIN ALTER EVENT x ENABLE; END',
      'CREATE EVENT e ON SCHEDULE AT NOW() + INTERVAL 1 DAY DISABLE ON SLAVE DO BEGIN ALTER EVENT x ENABLE; END'],
    ['ALTER EVENT ... ENABLE', 'ALTER EVENT e ENABLE', 'ALTER EVENT e DISABLE ON SLAVE'],
    ['ALTER EVENT without a status', 'ALTER EVENT e ON SCHEDULE EVERY 2 DAY', 'ALTER EVENT e ON SCHEDULE EVERY 2 DAY'],
    ['already DISABLE ON SLAVE', 'ALTER EVENT e DISABLE ON SLAVE', 'ALTER EVENT e DISABLE ON SLAVE'],
  ])('events disabled: %s', (_name, sql, expected) => {
    expect(rewriteObject(sql, { disableEvents: true })).toBe(expected);
  });

  it('leaves other statements alone', () => {
    for (const sql of ['CREATE TABLE t (enable INT)', 'CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET NEW.a = 1', 'DROP EVENT e']) {
      expect(rewriteObject(sql, { definer, disableEvents: true })).toBe(sql);
    }
  });
});

describe('classifyStatement: database DDL', () => {
  it.each<[string, StatementInfo]>([
    ['CREATE DATABASE prod', database('CREATE DATABASE', 'prod')],
    ['create schema if not exists `we``ird` DEFAULT CHARACTER SET utf8mb4', database('CREATE DATABASE', 'we`ird')],
    ['CREATE OR REPLACE DATABASE café', database('CREATE DATABASE', 'café')],
    ['CREATE DATABASE /*!32312 IF NOT EXISTS*/ `prod` /*!40100 DEFAULT CHARACTER SET utf8 */', database('CREATE DATABASE', 'prod')],
    ['DROP DATABASE prod;', database('DROP DATABASE', 'prod')],
    ['DROP SCHEMA IF EXISTS `order`', database('DROP DATABASE', 'order')],
    ['ALTER DATABASE prod CHARACTER SET utf8mb4', database('ALTER DATABASE', 'prod')],
    ['ALTER SCHEMA `a b` COLLATE utf8mb4_bin', database('ALTER DATABASE', 'a b')],
    ['ALTER DATABASE CHARACTER SET utf8mb4', defaultDatabaseDdl('ALTER DATABASE')],
    ['ALTER DATABASE DEFAULT COLLATE = utf8mb4_bin', defaultDatabaseDdl('ALTER DATABASE')],
    ["ALTER DATABASE COMMENT 'hello'", defaultDatabaseDdl('ALTER DATABASE')],
    ['ALTER DATABASE READ ONLY = 1', defaultDatabaseDdl('ALTER DATABASE')],
    ['ALTER DATABASE charset CHARSET utf8', database('ALTER DATABASE', 'charset')],
    ['ALTER DATABASE prod UPGRADE DATA DIRECTORY NAME', database('ALTER DATABASE', 'prod')],
  ])('%s', (sql, expected) => {
    expect(classifyStatement(sql, DEFAULT_DB)).toEqual(expected);
  });

  it('ignores ALTER DATABASE without a name when there is no default database', () => {
    expect(classifyStatement('ALTER DATABASE CHARACTER SET utf8mb4', undefined)).toMatchObject({ kind: 'ignored' });
  });
});

describe('classifyStatement: statements safe to skip', () => {
  it.each<[string, string]>([
    ["GRANT SELECT ON prod.* TO 'u'@'%'", 'GRANT: users and grants'],
    ["REVOKE ALL ON prod.t FROM 'u'@'%'", 'REVOKE: users and grants'],
    ["CREATE USER 'u'@'%' IDENTIFIED BY 'x'", 'CREATE USER: users and grants'],
    ["ALTER USER 'u'@'%' PASSWORD EXPIRE", 'ALTER USER: users and grants'],
    ["DROP USER 'u'@'%'", 'DROP USER: users and grants'],
    ["RENAME USER 'a'@'%' TO 'b'@'%'", 'RENAME USER: users and grants'],
    ['CREATE ROLE r', 'CREATE ROLE: users and grants'],
    ['CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET NEW.a = 1', 'CREATE TRIGGER: triggers are not replicated'],
    [
      'CREATE DEFINER=`root`@`localhost` TRIGGER tr BEFORE INSERT ON prod.t FOR EACH ROW SET NEW.a = 1',
      'CREATE TRIGGER: triggers are not replicated',
    ],
    ["CREATE FUNCTION metaphon RETURNS STRING SONAME 'udf_example.so'", 'CREATE FUNCTION ... SONAME: loadable functions'],
    ["CREATE AGGREGATE FUNCTION IF NOT EXISTS avgcost RETURNS REAL SONAME 'udf.so'", 'CREATE FUNCTION ... SONAME'],
    ['DROP TRIGGER tr', 'DROP TRIGGER: triggers are not replicated'],
    ["SET PASSWORD FOR 'u'@'%' = 'x'", 'SET: server settings'],
    ['SET @@session.sql_mode = 0', 'SET: server settings'],
    ['FLUSH PRIVILEGES', 'FLUSH: server settings'],
    ["INSTALL SONAME 'ha_example'", 'INSTALL: server settings'],
    ['ANALYZE TABLE t', 'ANALYZE TABLE: table maintenance'],
    ['OPTIMIZE NO_WRITE_TO_BINLOG TABLE t', 'OPTIMIZE TABLE: table maintenance'],
    ['repair table prod.t', 'REPAIR TABLE: table maintenance'],
    ["SET STATEMENT max_statement_time=10 FOR GRANT SELECT ON prod.* TO 'u'@'%'", 'GRANT: users and grants'],
    ['CREATE TEMPORARY TABLE tmp (x INT)', 'temporary table'],
    ['CREATE OR REPLACE TEMPORARY TABLE IF NOT EXISTS db.tmp LIKE db.t', 'temporary table'],
    ['DROP TEMPORARY TABLE IF EXISTS tmp', 'temporary table'],
    ['', 'empty statement'],
    ['   ;  ', 'empty statement'],
    ['/* only a comment */ -- and another', 'empty statement'],
  ])('%s → %s', (sql, reason) => {
    const info = classifyStatement(sql, DEFAULT_DB);
    expect(info.kind).toBe('ignored');
    expect(info.kind === 'ignored' && info.reason.startsWith(reason)).toBe(true);
  });

  it('the list of kinds skipped wherever they are is explicit', () => {
    expect(Object.keys(SKIPPED_STATEMENTS).sort()).toEqual([
      'ALTER SERVER', 'ALTER USER', 'ANALYZE TABLE', 'CHECK TABLE', 'CHECKSUM TABLE', 'CREATE PACKAGE', 'CREATE ROLE',
      'CREATE SERVER', 'CREATE TRIGGER', 'CREATE USER', 'DROP PACKAGE', 'DROP ROLE', 'DROP SERVER', 'DROP TRIGGER',
      'DROP USER', 'FLUSH', 'GRANT', 'INSTALL',
      'OPTIMIZE TABLE', 'RENAME USER', 'REPAIR TABLE', 'REVOKE', 'SET', 'UNINSTALL',
    ]);
  });
});

describe('classifyStatement: other statements (stop when they may touch a replicated database)', () => {
  it.each<[string, string, string[]]>([
    ['INSERT INTO t VALUES (1)', 'INSERT', [DEFAULT_DB]],
    ["insert into other.t values ('prod.x')", 'INSERT', ['other', DEFAULT_DB]],
    // Over-approximated: `alias.column` counts as a database too.
    ['UPDATE a.t JOIN b.u ON t.id = u.id SET t.x = 1', 'UPDATE', ['a', 'b', 't', 'u', DEFAULT_DB]],
    ['DELETE FROM `we``ird`.t', 'DELETE', ['we`ird', DEFAULT_DB]],
    ['XA COMMIT 0x31', 'XA', [DEFAULT_DB]],
    ['(SELECT 1)', 'a statement', [DEFAULT_DB]],
    ['SET STATEMENT foreign_key_checks=0 FOR DELETE FROM t', 'DELETE', [DEFAULT_DB]],
    ['CALL p()', 'CALL', [DEFAULT_DB]],
  ])('%s → %s', (sql, statement, databases) => {
    expect(classifyStatement(sql, DEFAULT_DB)).toEqual({ kind: 'other', statement, databases });
  });

  it('names only the qualified databases without a default one', () => {
    expect(classifyStatement('INSERT INTO other.t SELECT * FROM prod.u', undefined)).toEqual({ kind: 'other', statement: 'INSERT', databases: ['other', 'prod'] });
  });
});

describe('classifyStatement: SET STATEMENT ... FOR is the statement it wraps', () => {
  it.each<[string, StatementInfo]>([
    ['SET STATEMENT max_statement_time=60 FOR TRUNCATE TABLE t', tables('TRUNCATE TABLE', [DEFAULT_DB, 't'])],
    ['set statement lock_wait_timeout=5 for alter table t add column q int', tables('ALTER TABLE', [DEFAULT_DB, 't'])],
    ['SET STATEMENT a=1, b=2 FOR DROP TABLE db.t', tables('DROP TABLE', ['db', 't'])],
    ["SET STATEMENT sql_mode='ANSI_QUOTES', max_statement_time=(1+2) FOR CREATE TABLE `x y`.z (id INT)", tables('CREATE TABLE', ['x y', 'z'])],
    ['/* c */ SET /* d */ STATEMENT x=1 -- e\n FOR /*!100000 RENAME TABLE a TO b */', renamed('RENAME TABLE', [[DEFAULT_DB, 'a'], [DEFAULT_DB, 'b']])],
    ["SET STATEMENT sql_mode='FOR' FOR CREATE DATABASE d", database('CREATE DATABASE', 'd')],
    ['SET STATEMENT x=1 FOR SET STATEMENT y=2 FOR TRUNCATE t', tables('TRUNCATE TABLE', [DEFAULT_DB, 't'])],
    ['SET STATEMENT x=1 FOR CREATE TABLE n LIKE other.o', like(tables('CREATE TABLE', [DEFAULT_DB, 'n']), ['other', 'o'])],
  ])('%s', (sql, expected) => {
    expect(classifyStatement(sql, DEFAULT_DB)).toEqual(expected);
  });

  it.each(['SET STATEMENT x=1', 'SET STATEMENT x=1 FOR', 'SET STATEMENT x=(1 FOR TRUNCATE t'])('cannot parse %s', (sql) => {
    expect(classifyStatement(sql, DEFAULT_DB)).toEqual({ kind: 'unparsable', reason: 'could not parse SET STATEMENT' });
  });

  it('rewrites the wrapped statement and keeps the wrapper', () => {
    const sql = 'SET STATEMENT max_statement_time=60 FOR DROP DATABASE prod';
    expect(rewriteDatabases(sql, (db) => (db === 'prod' ? 'dev' : db))).toBe('SET STATEMENT max_statement_time=60 FOR DROP DATABASE `dev`');
    const drop = 'SET STATEMENT a=1 FOR DROP TABLE db2.a, b';
    expect(restrictToTables(drop, classifyStatement(drop, 'main'), (t) => t.database === 'main')).toBe('SET STATEMENT a=1 FOR DROP TABLE b');
  });
});

describe('replaceCreateTableName', () => {
  const target = { database: 'binlog_sync', table: 'create_like_source' };
  it.each<[string, 'created' | 'like', string | undefined]>([
    ['CREATE TABLE `y` (\n  `id` int(11) NOT NULL\n) ENGINE=InnoDB', 'created', 'CREATE TABLE `binlog_sync`.`create_like_source` (\n  `id` int(11) NOT NULL\n) ENGINE=InnoDB'],
    ['CREATE TABLE prod.z LIKE other.y', 'like', 'CREATE TABLE prod.z LIKE `binlog_sync`.`create_like_source`'],
    ['SET STATEMENT x=1 FOR CREATE TABLE IF NOT EXISTS z ( LIKE `o`.`y` )', 'like', 'SET STATEMENT x=1 FOR CREATE TABLE IF NOT EXISTS z ( LIKE `binlog_sync`.`create_like_source` )'],
    ['CREATE TABLE z (id INT)', 'like', undefined],
    ['DROP TABLE z', 'created', undefined],
  ])('%s (%s)', (sql, part, expected) => {
    expect(replaceCreateTableName(sql, part, target)).toBe(expected);
  });

  it('reads ANSI_QUOTES names', () => {
    expect(replaceCreateTableName('CREATE TABLE "y" ("id" int)', 'created', target, { ansiQuotes: true })).toBe(
      'CREATE TABLE `binlog_sync`.`create_like_source` ("id" int)',
    );
  });
});

describe('classifyStatement: unparsable', () => {
  it.each(['CREATE TABLE', 'DROP TABLE IF EXISTS', 'RENAME TABLE a', 'DROP INDEX i', 'CREATE DATABASE', 'ALTER TABLE (x)'])(
    'says it could not parse a truncated DDL: %s',
    (sql) => {
      const info = classifyStatement(sql, DEFAULT_DB);
      expect(info.kind).toBe('unparsable');
      expect(info.kind === 'unparsable' && info.reason).toMatch(/^could not parse /);
    },
  );
});

describe('rewriteDatabases', () => {
  const prodToDev = (db: string): string => (db === 'prod' ? 'dev' : db);

  it.each<[string, string, string]>([
    ['a qualified table', 'ALTER TABLE prod.rides ADD COLUMN x INT', 'ALTER TABLE `dev`.rides ADD COLUMN x INT'],
    ['a quoted qualified table', 'DROP TABLE `prod`.`rides`', 'DROP TABLE `dev`.`rides`'],
    ['spaces and comments around the dot', 'DROP TABLE prod /* c */ . rides', 'DROP TABLE `dev` /* c */ . rides'],
    ['every name in a DROP list', 'DROP TABLE IF EXISTS `t1`,`prod`.`t2`, prod.t3 /* generated by server */',
      'DROP TABLE IF EXISTS `t1`,`dev`.`t2`, `dev`.t3 /* generated by server */'],
    ['both sides of RENAME', 'RENAME TABLE prod.a TO prod.b, other.c TO prod.d', 'RENAME TABLE `dev`.a TO `dev`.b, other.c TO `dev`.d'],
    ['ALTER TABLE ... RENAME TO', 'ALTER TABLE prod.a RENAME TO prod.b', 'ALTER TABLE `dev`.a RENAME TO `dev`.b'],
    ['the source of CREATE TABLE ... LIKE', 'CREATE TABLE prod.copy LIKE prod.src', 'CREATE TABLE `dev`.copy LIKE `dev`.src'],
    ['a REFERENCES clause', 'ALTER TABLE child ADD FOREIGN KEY (p) REFERENCES prod.parent (id) ON DELETE CASCADE',
      'ALTER TABLE child ADD FOREIGN KEY (p) REFERENCES `dev`.parent (id) ON DELETE CASCADE'],
    ['the table of CREATE INDEX', 'CREATE INDEX i ON prod.t (a)', 'CREATE INDEX i ON `dev`.t (a)'],
    ['the table of DROP INDEX', 'DROP INDEX i ON `prod`.t', 'DROP INDEX i ON `dev`.t'],
    ['CREATE DATABASE', 'CREATE DATABASE IF NOT EXISTS prod DEFAULT CHARSET utf8mb4', 'CREATE DATABASE IF NOT EXISTS `dev` DEFAULT CHARSET utf8mb4'],
    ['DROP SCHEMA', 'drop schema `prod`;', 'drop schema `dev`;'],
    ['ALTER DATABASE', 'ALTER DATABASE prod CHARACTER SET utf8mb4', 'ALTER DATABASE `dev` CHARACTER SET utf8mb4'],
    ['mysqldump-style CREATE DATABASE', 'CREATE DATABASE /*!32312 IF NOT EXISTS*/ `prod` /*!40100 DEFAULT CHARACTER SET utf8 */',
      'CREATE DATABASE /*!32312 IF NOT EXISTS*/ `dev` /*!40100 DEFAULT CHARACTER SET utf8 */'],
    ['inside executable comments', 'CREATE TABLE t /*!50100 LIKE prod.src */', 'CREATE TABLE t /*!50100 LIKE `dev`.src */'],
    ['only the database of db.t.col', 'CREATE TABLE prod.t2 AS SELECT prod.t.c FROM prod.t', 'CREATE TABLE `dev`.t2 AS SELECT `dev`.t.c FROM `dev`.t'],
  ])('rewrites %s', (_name, sql, expected) => {
    expect(rewriteDatabases(sql, prodToDev)).toBe(expected);
  });

  it.each<[string, string]>([
    ['strings', "CREATE TABLE prod_t (c VARCHAR(9) DEFAULT 'prod.t', d VARCHAR(9) DEFAULT \"prod.t\") COMMENT 'see prod.t'"],
    ['column defaults like x.y', "ALTER TABLE t ADD c VARCHAR(9) DEFAULT 'x.y'"],
    ['plain comments', 'DROP TABLE t /* was prod.t */ -- prod.t\n'],
    ['unqualified names', 'CREATE TABLE prod (x INT)'],
    ['a database that is not renamed', 'ALTER TABLE other.t ADD x INT'],
    ['CREATE DATABASE of another database', 'CREATE DATABASE production'],
    ['ALTER DATABASE without a name', 'ALTER DATABASE CHARACTER SET utf8mb4'],
    ['a table named like the database', 'ALTER TABLE other.prod ADD x INT'],
    ['system variables', 'SET @@prod.x = 1'],
    ['an empty statement', ''],
  ])('leaves %s alone', (_name, sql) => {
    expect(rewriteDatabases(sql, prodToDev)).toBe(sql);
  });

  it('quotes new names that need it and doubles backticks', () => {
    const rename = (db: string): string => ({ prod: 'we`ird', 'a b': 'Ärger' })[db] ?? db;
    expect(rewriteDatabases('RENAME TABLE prod.t TO `a b`.u', rename)).toBe('RENAME TABLE `we``ird`.t TO `Ärger`.u');
  });

  it('matches quoted database names by their unquoted value', () => {
    const rename = (db: string): string => (db === 'we`ird' ? 'café' : db);
    expect(rewriteDatabases('DROP TABLE `we``ird`.`order`', rename)).toBe('DROP TABLE `café`.`order`');
    expect(rewriteDatabases('DROP DATABASE `we``ird`', rename)).toBe('DROP DATABASE `café`');
  });

  it('preserves case, whitespace and everything else byte for byte', () => {
    const sql = 'alter   TABLE\n\tprod.Rides /* keep */ ADD `Col` int  DEFAULT 1 -- trailing\n';
    expect(rewriteDatabases(sql, prodToDev)).toBe('alter   TABLE\n\t`dev`.Rides /* keep */ ADD `Col` int  DEFAULT 1 -- trailing\n');
  });

  it('renames several databases in one statement', () => {
    const rename = (db: string): string => ({ a: 'x', b: 'y' })[db] ?? db;
    expect(rewriteDatabases('RENAME TABLE a.t TO b.t, b.u TO a.u', rename)).toBe('RENAME TABLE `x`.t TO `y`.t, `y`.u TO `x`.u');
  });
});

describe('restrictToTables', () => {
  const keepDb = (db: string) => (t: ResolvedTable): boolean => t.database === db;
  function restrict(sql: string, keep: (t: ResolvedTable) => boolean, defaultDatabase = 'main'): string | undefined {
    return restrictToTables(sql, classifyStatement(sql, defaultDatabase), keep);
  }

  it.each<[string, string, string | undefined]>([
    ['some kept (server-generated list)', 'DROP TABLE IF EXISTS `t1`,`db2`.`t2`,`main`.`t3` /* generated by server */',
      'DROP TABLE IF EXISTS `t1`,`main`.`t3` /* generated by server */'],
    ['some kept, spaced list', 'drop table a, db2.b, c CASCADE;', 'drop table a, c CASCADE;'],
    ['only the last kept', 'DROP TABLE db2.a, db2.b, main.c RESTRICT', 'DROP TABLE main.c RESTRICT'],
    ['only the first kept', 'DROP TABLE a,db2.b', 'DROP TABLE a'],
    ['all kept', 'DROP TABLE a, main.b', 'DROP TABLE a, main.b'],
    ['none kept', 'DROP TABLE db2.a, db2.b', undefined],
    ['a single kept table', 'DROP TABLE a', 'DROP TABLE a'],
    ['a single dropped table', 'DROP TABLE db2.a', undefined],
  ])('DROP TABLE with %s', (_name, sql, expected) => {
    expect(restrict(sql, keepDb('main'))).toBe(expected);
  });

  it('keeps comments and options around a DROP list', () => {
    const sql = '/* c */ DROP /*!40005 TABLE */ IF EXISTS db2.a, b /* generated by server */';
    expect(restrict(sql, keepDb('main'))).toBe('/* c */ DROP /*!40005 TABLE */ IF EXISTS b /* generated by server */');
  });

  it.each<[string, string, string | undefined]>([
    ['a RENAME with all tables kept', 'RENAME TABLE a TO b, c TO d', 'RENAME TABLE a TO b, c TO d'],
    ['a RENAME out of the kept tables', 'RENAME TABLE a TO db2.b', undefined],
    ['an ALTER TABLE that is kept', 'ALTER TABLE a ADD x INT', 'ALTER TABLE a ADD x INT'],
    ['an ALTER TABLE that is not', 'ALTER TABLE db2.a ADD x INT', undefined],
    ['a database statement (no tables)', 'CREATE DATABASE db2', 'CREATE DATABASE db2'],
    ['an ignored statement', 'GRANT ALL ON db2.* TO u', 'GRANT ALL ON db2.* TO u'],
  ])('other statements: %s', (_name, sql, expected) => {
    expect(restrict(sql, keepDb('main'))).toBe(expected);
  });

  it('passes resolved tables to keep', () => {
    const seen: ResolvedTable[] = [];
    restrict('DROP TABLE a, `db``2`.`b c`', (t) => (seen.push(t), true));
    expect(seen).toEqual([{ database: 'main', table: 'a' }, { database: 'db`2', table: 'b c' }]);
  });

  it('returns undefined when info does not describe sql', () => {
    const info = classifyStatement('DROP TABLE a, b, c', 'main');
    expect(restrictToTables('DROP TABLE a, b', info, (t) => t.table === 'a')).toBeUndefined();
  });
});

describe('on arbitrary input', () => {
  // Keywords, names and the characters that change the lexer's state.
  const piece = fc.constantFrom(
    'CREATE ', 'DROP ', 'ALTER ', 'RENAME ', 'TRUNCATE ', 'TABLE ', 'INDEX ', 'DATABASE ', 'IF EXISTS ', 'ON ', 'TO ',
    'prod', 'db', '.', ',', '`', "'", '"', '\\', '(', ')', ';', '/*', '*/', '/*!', '--', '\n', ' ', '@',
    'VIEW ', 'PROCEDURE ', 'FUNCTION ', 'EVENT ', 'DEFINER=', 'SQL SECURITY INVOKER ', 'ENABLE ', 'DISABLE ', 'DO ', 'COMMENT ',
  );
  const statement = fc.array(piece, { maxLength: 30 }).map((pieces) => pieces.join(''));

  it('never throws', () => {
    fc.assert(
      fc.property(statement, (sql) => {
        const info = classifyStatement(sql, 'main');
        rewriteDatabases(sql, (db) => `${db}_x`);
        restrictToTables(sql, info, () => false);
        rewriteObject(sql, { definer: '`a`@`b`', disableEvents: true });
      }),
    );
  });

  it('rewriteObject changes nothing when asked for nothing, and classifies the same after its rewrite', () => {
    fc.assert(
      fc.property(statement, (sql) => {
        expect(rewriteObject(sql, {})).toBe(sql);
        const rewritten = rewriteObject(sql, { definer: '`a`@`b`', disableEvents: true });
        expect(classifyStatement(rewritten, 'main')).toEqual(classifyStatement(sql, 'main'));
      }),
    );
  });

  it('rewriteDatabases changes nothing when nothing is renamed', () => {
    fc.assert(
      fc.property(statement, (sql) => {
        expect(rewriteDatabases(sql, (db) => db)).toBe(sql);
      }),
    );
  });

  it('a rewritten statement classifies like the original with the database renamed', () => {
    fc.assert(
      fc.property(statement, (sql) => {
        const rename = (db: string): string => (db === 'prod' ? 'dev' : db);
        const before = classifyStatement(sql, undefined);
        const after = classifyStatement(rewriteDatabases(sql, rename), undefined);
        if (before.kind === 'ddl' && before.scope === 'table') {
          const renamed = before.tables.map((t) => ({ ...t, database: t.database === undefined ? undefined : rename(t.database) }));
          expect(after).toEqual({ ...before, tables: renamed });
        } else if (before.kind === 'ddl' && before.scope === 'object') {
          const renamed = before.objects.map((o) => ({ ...o, database: o.database === undefined ? undefined : rename(o.database) }));
          expect(after).toEqual({ ...before, objects: renamed });
        } else if (before.kind === 'ddl') {
          expect(after).toEqual({ ...before, database: rename(before.database) });
        } else {
          expect(after.kind).toBe(before.kind);
        }
      }),
    );
  });
});
