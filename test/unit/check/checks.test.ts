import { describe, expect, it } from 'vitest';
import {
  checkObjects,
  quotedAccount,
  checkReplica,
  checkSourceSettings,
  checkSnapshotPrivilege,
  checkSourceUser,
  checkStoredPosition,
  globalPrivileges,
  type CheckItem,
  type ReplicaFacts,
  type SourceFacts,
} from '../../../src/check/checks.js';

const REPL = "'repl_user'@'%'";
const APPLIER = "'u'@'%'";
const GRANT_FIX = `GRANT REPLICATION SLAVE, REPLICATION CLIENT, SELECT ON *.* TO ${REPL};`;

// SHOW GRANTS lines as the servers print them.
const MARIADB_REPL = "GRANT SELECT, REPLICATION SLAVE, BINLOG MONITOR ON *.* TO `repl_user`@`%` IDENTIFIED BY PASSWORD '*ABC'";
const MYSQL_REPL = 'GRANT SELECT, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO `repl_user`@`%`';

const GOOD_VARIABLES: Record<SourceFacts['flavor'], Record<string, string>> = {
  mariadb: { log_bin: 'ON', binlog_format: 'ROW', binlog_row_image: 'FULL', binlog_row_metadata: 'FULL' },
  mysql: {
    log_bin: 'ON',
    binlog_format: 'ROW',
    binlog_row_image: 'FULL',
    binlog_row_metadata: 'FULL',
    binlog_transaction_compression: 'OFF',
    binlog_row_value_options: '',
    gtid_mode: 'ON',
  },
};

function sourceFacts(flavor: SourceFacts['flavor'], overrides: Partial<SourceFacts> = {}): SourceFacts {
  return {
    flavor,
    version: flavor === 'mariadb' ? '10.11.8-MariaDB' : '8.0.36',
    serverId: 1,
    variables: { ...GOOD_VARIABLES[flavor] },
    grants: [flavor === 'mariadb' ? MARIADB_REPL : MYSQL_REPL],
    user: REPL,
    binlogFiles: ['mysql-bin.000001', 'mysql-bin.000002'],
    expireSeconds: 604_800,
    ...overrides,
  };
}

/** The facts with some variables changed; `undefined` removes one. */
function withVariables(flavor: SourceFacts['flavor'], changes: Record<string, string | undefined>): SourceFacts {
  const variables: Record<string, string> = { ...GOOD_VARIABLES[flavor] };
  for (const [name, value] of Object.entries(changes)) {
    if (value === undefined) delete variables[name];
    else variables[name] = value;
  }
  return sourceFacts(flavor, { variables });
}

function item(items: CheckItem[], name: string): CheckItem {
  const found = items.filter((i) => i.name === name);
  if (found.length !== 1) throw new Error(`expected exactly one item ${name}, got ${found.length}`);
  return found[0]!;
}

function setting(name: string, value: string): string {
  return `SET GLOBAL ${name} = '${value}'; and in my.cnf [mysqld]: ${name} = ${value}`;
}

describe('checkSourceSettings', () => {
  it('passes a well configured MariaDB source, in order, the MySQL-only items not applicable', () => {
    const items = checkSourceSettings(sourceFacts('mariadb'), 2, 1001);
    expect(items.map((i) => i.name)).toEqual([
      'log_bin',
      'binlog_format',
      'binlog_row_image',
      'binlog_row_metadata',
      'binlog_transaction_compression',
      'binlog_row_value_options',
      'server_id',
      'gtid',
      'binlog retention',
    ]);
    for (const i of items) {
      expect(i.status, i.name).toBe('ok');
      expect(i.fix, i.name).toBeUndefined();
    }
    expect(item(items, 'gtid').detail).toBe('MariaDB GTIDs: positions survive binlog rotation and server moves');
    expect(item(items, 'binlog_transaction_compression').detail).toBe('not applicable: MariaDB has no binlog_transaction_compression');
    expect(item(items, 'binlog_row_value_options').detail).toBe('not applicable: MariaDB has no binlog_row_value_options');
  });

  it('passes a well configured MySQL source, with its compression and JSON items', () => {
    const items = checkSourceSettings(sourceFacts('mysql'), 2, 1001);
    expect(items.map((i) => i.name)).toEqual([
      'log_bin',
      'binlog_format',
      'binlog_row_image',
      'binlog_row_metadata',
      'binlog_transaction_compression',
      'binlog_row_value_options',
      'server_id',
      'gtid',
      'binlog retention',
    ]);
    expect(items.map((i) => i.status)).toEqual(items.map(() => 'ok'));
    expect(item(items, 'binlog_transaction_compression').detail).toBe('OFF');
    expect(item(items, 'binlog_row_value_options').detail).toBe('full JSON values');
    expect(item(items, 'gtid').detail).toBe('gtid_mode ON');
  });

  const METADATA_NEED = 'binlog-sync needs FULL (MySQL 8.0+, MariaDB 10.5+) to decode rows with the schema in force when they were written';

  it.each<[string, SourceFacts['flavor'], Record<string, string | undefined>, string, CheckItem]>([
    [
      'log_bin OFF',
      'mariadb',
      { log_bin: 'OFF' },
      'log_bin',
      {
        name: 'log_bin',
        status: 'fail',
        detail: 'the binary log is off',
        fix: 'in my.cnf [mysqld]: log_bin = mysql-bin (and server_id = 1), then restart the server',
      },
    ],
    [
      'log_bin missing',
      'mysql',
      { log_bin: undefined },
      'log_bin',
      {
        name: 'log_bin',
        status: 'fail',
        detail: 'the binary log is off',
        fix: 'in my.cnf [mysqld]: log_bin = mysql-bin (and server_id = 1), then restart the server',
      },
    ],
    ['log_bin 1', 'mysql', { log_bin: '1' }, 'log_bin', { name: 'log_bin', status: 'ok', detail: 'the binary log is on' }],
    ['log_bin on (lower case)', 'mariadb', { log_bin: 'on' }, 'log_bin', { name: 'log_bin', status: 'ok', detail: 'the binary log is on' }],
    [
      'binlog_format STATEMENT',
      'mariadb',
      { binlog_format: 'STATEMENT' },
      'binlog_format',
      { name: 'binlog_format', status: 'fail', detail: 'STATEMENT; binlog-sync needs ROW', fix: setting('binlog_format', 'ROW') },
    ],
    [
      'binlog_format MIXED',
      'mysql',
      { binlog_format: 'MIXED' },
      'binlog_format',
      { name: 'binlog_format', status: 'fail', detail: 'MIXED; binlog-sync needs ROW', fix: setting('binlog_format', 'ROW') },
    ],
    [
      'binlog_format mixed (lower case)',
      'mariadb',
      { binlog_format: 'mixed' },
      'binlog_format',
      { name: 'binlog_format', status: 'fail', detail: 'MIXED; binlog-sync needs ROW', fix: setting('binlog_format', 'ROW') },
    ],
    [
      'binlog_format missing',
      'mariadb',
      { binlog_format: undefined },
      'binlog_format',
      { name: 'binlog_format', status: 'fail', detail: 'unknown; binlog-sync needs ROW', fix: setting('binlog_format', 'ROW') },
    ],
    ['binlog_format row (lower case)', 'mysql', { binlog_format: 'row' }, 'binlog_format', { name: 'binlog_format', status: 'ok', detail: 'ROW' }],
    [
      'binlog_row_image MINIMAL',
      'mysql',
      { binlog_row_image: 'MINIMAL' },
      'binlog_row_image',
      {
        name: 'binlog_row_image',
        status: 'warn',
        detail: 'MINIMAL: replicated, but rows are located by key and verify cannot re-check changed columns',
        fix: setting('binlog_row_image', 'FULL'),
      },
    ],
    [
      'binlog_row_image NOBLOB',
      'mariadb',
      { binlog_row_image: 'noblob' },
      'binlog_row_image',
      {
        name: 'binlog_row_image',
        status: 'warn',
        detail: 'NOBLOB: replicated, but rows are located by key and verify cannot re-check changed columns',
        fix: setting('binlog_row_image', 'FULL'),
      },
    ],
    ['binlog_row_image missing (FULL)', 'mariadb', { binlog_row_image: undefined }, 'binlog_row_image', { name: 'binlog_row_image', status: 'ok', detail: 'FULL' }],
    [
      'binlog_row_metadata MINIMAL',
      'mysql',
      { binlog_row_metadata: 'MINIMAL' },
      'binlog_row_metadata',
      { name: 'binlog_row_metadata', status: 'fail', detail: `MINIMAL; ${METADATA_NEED}`, fix: setting('binlog_row_metadata', 'FULL') },
    ],
    [
      'binlog_row_metadata missing (older server)',
      'mariadb',
      { binlog_row_metadata: undefined },
      'binlog_row_metadata',
      { name: 'binlog_row_metadata', status: 'fail', detail: `not supported by this server; ${METADATA_NEED}`, fix: setting('binlog_row_metadata', 'FULL') },
    ],
    [
      'binlog_row_metadata NO_LOG (MariaDB)',
      'mariadb',
      { binlog_row_metadata: 'NO_LOG' },
      'binlog_row_metadata',
      { name: 'binlog_row_metadata', status: 'fail', detail: `NO_LOG; ${METADATA_NEED}`, fix: setting('binlog_row_metadata', 'FULL') },
    ],
    [
      'binlog_transaction_compression ON',
      'mysql',
      { binlog_transaction_compression: 'ON' },
      'binlog_transaction_compression',
      {
        name: 'binlog_transaction_compression',
        status: 'ok',
        detail: 'ON: compressed transactions (zstd) are decompressed and applied as the events they hold',
      },
    ],
    [
      'binlog_row_value_options PARTIAL_JSON',
      'mysql',
      { binlog_row_value_options: 'PARTIAL_JSON' },
      'binlog_row_value_options',
      {
        name: 'binlog_row_value_options',
        status: 'ok',
        detail: "PARTIAL_JSON: partial JSON updates are applied as changes to the replica's documents (refused for a masked column)",
      },
    ],
    [
      'binlog_row_value_options partial_json (lower case)',
      'mysql',
      { binlog_row_value_options: 'partial_json' },
      'binlog_row_value_options',
      {
        name: 'binlog_row_value_options',
        status: 'ok',
        detail: "PARTIAL_JSON: partial JSON updates are applied as changes to the replica's documents (refused for a masked column)",
      },
    ],
    [
      'MySQL gtid_mode OFF',
      'mysql',
      { gtid_mode: 'OFF' },
      'gtid',
      {
        name: 'gtid',
        status: 'warn',
        detail: 'gtid_mode is OFF: binlog-sync resumes by file and offset',
        fix: 'in my.cnf [mysqld]: gtid_mode = ON and enforce_gtid_consistency = ON (a rolling change on a running server)',
      },
    ],
    [
      'MySQL gtid_mode OFF_PERMISSIVE',
      'mysql',
      { gtid_mode: 'OFF_PERMISSIVE' },
      'gtid',
      {
        name: 'gtid',
        status: 'warn',
        detail: 'gtid_mode is OFF: binlog-sync resumes by file and offset',
        fix: 'in my.cnf [mysqld]: gtid_mode = ON and enforce_gtid_consistency = ON (a rolling change on a running server)',
      },
    ],
    [
      'MySQL gtid_mode missing',
      'mysql',
      { gtid_mode: undefined },
      'gtid',
      {
        name: 'gtid',
        status: 'warn',
        detail: 'gtid_mode is OFF: binlog-sync resumes by file and offset',
        fix: 'in my.cnf [mysqld]: gtid_mode = ON and enforce_gtid_consistency = ON (a rolling change on a running server)',
      },
    ],
    [
      'MariaDB ignores gtid_mode',
      'mariadb',
      { gtid_mode: 'OFF' },
      'gtid',
      { name: 'gtid', status: 'ok', detail: 'MariaDB GTIDs: positions survive binlog rotation and server moves' },
    ],
  ])('%s', (_label, flavor, changes, name, expected) => {
    const items = checkSourceSettings(withVariables(flavor, changes), 2, 1001);
    expect(item(items, name)).toEqual(expected);
    // Nothing else is affected.
    for (const other of items.filter((i) => i.name !== name)) expect(other.status, other.name).toBe('ok');
  });

  it('says the compression and JSON items are not applicable on a MySQL without those variables', () => {
    const items = checkSourceSettings(
      { ...withVariables('mysql', { binlog_transaction_compression: undefined, binlog_row_value_options: undefined }), version: '8.0.2' },
      2,
      1001,
    );
    expect(item(items, 'binlog_transaction_compression')).toEqual({
      name: 'binlog_transaction_compression',
      status: 'ok',
      detail: 'not applicable: MySQL 8.0.2 has no binlog_transaction_compression (MySQL 8.0.20 and later have it)',
    });
    expect(item(items, 'binlog_row_value_options')).toEqual({
      name: 'binlog_row_value_options',
      status: 'ok',
      detail: 'not applicable: MySQL 8.0.2 has no binlog_row_value_options (MySQL 8.0.3 and later have it)',
    });
  });

  it.each<[string, number, number | null, number, CheckItem]>([
    [
      'source and replica clash',
      1,
      1,
      1001,
      {
        name: 'server_id',
        status: 'fail',
        detail: 'source and replica both have server_id 1',
        fix: 'in the replica my.cnf [mysqld]: server_id = 2 (any id the source does not use), then restart it',
      },
    ],
    [
      'source and binlog-sync clash',
      7,
      2,
      7,
      { name: 'server_id', status: 'fail', detail: "binlog-sync would announce the source's own server_id 7", fix: 'pass another --server-id' },
    ],
    [
      'all three equal: ours is reported first',
      5,
      5,
      5,
      { name: 'server_id', status: 'fail', detail: "binlog-sync would announce the source's own server_id 5", fix: 'pass another --server-id' },
    ],
    [
      'source 0',
      0,
      2,
      1001,
      { name: 'server_id', status: 'fail', detail: 'the source has server_id 0, which cannot replicate', fix: 'in my.cnf [mysqld]: server_id = 1, then restart' },
    ],
    [
      'source 0 wins over a clash',
      0,
      0,
      0,
      { name: 'server_id', status: 'fail', detail: 'the source has server_id 0, which cannot replicate', fix: 'in my.cnf [mysqld]: server_id = 1, then restart' },
    ],
    ['distinct', 1, 2, 1001, { name: 'server_id', status: 'ok', detail: 'source 1, replica 2, binlog-sync 1001: all distinct' }],
    ['no replica known', 1, null, 1001, { name: 'server_id', status: 'ok', detail: 'source 1, binlog-sync 1001: all distinct' }],
    ['32-bit ids', 4_294_967_295, 2, 4_294_967_294, { name: 'server_id', status: 'ok', detail: 'source 4294967295, replica 2, binlog-sync 4294967294: all distinct' }],
  ])('server_id: %s', (_label, source, replica, ours, expected) => {
    const items = checkSourceSettings(sourceFacts('mariadb', { serverId: source }), replica, ours);
    expect(item(items, 'server_id')).toEqual(expected);
  });

  const RETENTION_FIX = setting('binlog_expire_logs_seconds', '604800');

  it.each<[number | null, CheckItem]>([
    [
      null,
      {
        name: 'binlog retention',
        status: 'warn',
        detail: 'binlogs are kept forever (disk use grows without bound)',
        fix: 'SET GLOBAL binlog_expire_logs_seconds = 604800; and in my.cnf [mysqld]: binlog_expire_logs_seconds = 604800',
      },
    ],
    [
      3600,
      {
        name: 'binlog retention',
        status: 'warn',
        detail: 'binlogs are kept 1 h: a replicator stopped longer than that must snapshot again',
        fix: RETENTION_FIX,
      },
    ],
    [
      43_200,
      {
        name: 'binlog retention',
        status: 'warn',
        detail: 'binlogs are kept 12 h: a replicator stopped longer than that must snapshot again',
        fix: RETENTION_FIX,
      },
    ],
    [
      86_399,
      {
        name: 'binlog retention',
        status: 'warn',
        detail: 'binlogs are kept 24 h: a replicator stopped longer than that must snapshot again',
        fix: RETENTION_FIX,
      },
    ],
    [86_400, { name: 'binlog retention', status: 'ok', detail: 'binlogs are kept 1.0 days' }],
    [129_600, { name: 'binlog retention', status: 'ok', detail: 'binlogs are kept 1.5 days' }],
    [604_800, { name: 'binlog retention', status: 'ok', detail: 'binlogs are kept 7.0 days' }],
    [2_592_000, { name: 'binlog retention', status: 'ok', detail: 'binlogs are kept 30 days' }],
  ])('binlog retention of %j s', (expireSeconds, expected) => {
    const items = checkSourceSettings(sourceFacts('mysql', { expireSeconds }), 2, 1001);
    expect(item(items, 'binlog retention')).toEqual(expected);
  });
});

describe('checkStoredPosition', () => {
  it.each<[string | null, string[], CheckItem]>([
    [null, ['mysql-bin.000001'], { name: 'stored position', status: 'ok', detail: 'no position is stored yet (run `position set` or `snapshot`)' }],
    ['mysql-bin.000002', ['mysql-bin.000001', 'mysql-bin.000002'], { name: 'stored position', status: 'ok', detail: 'mysql-bin.000002 is still on the source' }],
    [
      'mysql-bin.000001',
      ['mysql-bin.000002', 'mysql-bin.000003'],
      { name: 'stored position', status: 'fail', detail: 'mysql-bin.000001 has been purged on the source', fix: 'run `binlog-sync snapshot` to start over' },
    ],
    [
      'mysql-bin.000001',
      [],
      { name: 'stored position', status: 'fail', detail: 'mysql-bin.000001 has been purged on the source', fix: 'run `binlog-sync snapshot` to start over' },
    ],
  ])('%j among %j', (file, files, expected) => {
    expect(checkStoredPosition(file, files)).toEqual(expected);
  });
});

describe('globalPrivileges', () => {
  it.each<[string, string[], string[]]>([
    ['MariaDB 10.11 replication user', [MARIADB_REPL], ['SELECT', 'REPLICATION SLAVE', 'BINLOG MONITOR']],
    ['MySQL 8 replication user', [MYSQL_REPL], ['SELECT', 'REPLICATION SLAVE', 'REPLICATION CLIENT']],
    ['USAGE only', ["GRANT USAGE ON *.* TO `nobody`@`%` IDENTIFIED BY PASSWORD '*ABC'"], ['USAGE']],
    ['lower case, upper-cased', ["grant select, replication slave on *.* to 'r'@'%'"], ['SELECT', 'REPLICATION SLAVE']],
    [
      'database-level grants are ignored',
      ['GRANT USAGE ON *.* TO `repl_user`@`%`', 'GRANT ALL PRIVILEGES ON `app`.* TO `repl_user`@`%`', 'GRANT SELECT, INSERT ON `app`.`t` TO `repl_user`@`%`'],
      ['USAGE'],
    ],
    [
      'several global lines are merged; dynamic privileges without spaces',
      ['GRANT SELECT, RELOAD ON *.* TO `u`@`%`', 'GRANT BACKUP_ADMIN,REPLICATION_SLAVE_ADMIN ON *.* TO `u`@`%`'],
      ['SELECT', 'RELOAD', 'BACKUP_ADMIN', 'REPLICATION_SLAVE_ADMIN'],
    ],
    ['ALL PRIVILEGES WITH GRANT OPTION', ['GRANT ALL PRIVILEGES ON *.* TO `root`@`localhost` WITH GRANT OPTION'], ['ALL PRIVILEGES']],
    ['role and proxy grants are ignored', ['GRANT `r1`@`%` TO `u`@`%`', "GRANT PROXY ON ''@'%' TO 'root'@'localhost' WITH GRANT OPTION"], []],
    ['no lines', [], []],
  ])('%s', (_label, grants, expected) => {
    expect([...globalPrivileges(grants)].sort()).toEqual([...expected].sort());
  });
});

describe('checkSourceUser', () => {
  const allOk = (items: CheckItem[]): void => {
    expect(items.map((i) => i.name)).toEqual(['REPLICATION SLAVE', 'REPLICATION CLIENT', 'SELECT', 'least privilege']);
    expect(items.map((i) => i.status)).toEqual(['ok', 'ok', 'ok', 'ok']);
  };

  it('accepts the MariaDB 10.11 replication user (BINLOG MONITOR stands for REPLICATION CLIENT)', () => {
    const items = checkSourceUser(sourceFacts('mariadb'));
    allOk(items);
    expect(items).toEqual([
      { name: 'REPLICATION SLAVE', status: 'ok', detail: `${REPL} may read the binlog` },
      { name: 'REPLICATION CLIENT', status: 'ok', detail: `${REPL} may see binlog positions` },
      { name: 'SELECT', status: 'ok', detail: `${REPL} may read tables (snapshot, verify)` },
      { name: 'least privilege', status: 'ok', detail: `${REPL} holds no write privileges on the source` },
    ]);
  });

  it('accepts the MySQL 8 replication user', () => {
    allOk(checkSourceUser(sourceFacts('mysql')));
  });

  it('accepts REPLICATION REPLICA as REPLICATION SLAVE', () => {
    allOk(checkSourceUser(sourceFacts('mariadb', { grants: ['GRANT SELECT, REPLICATION REPLICA, BINLOG MONITOR ON *.* TO `repl_user`@`%`'] })));
  });

  it('warns about a user with ALL PRIVILEGES, which otherwise passes', () => {
    const user = "'root'@'%'";
    const items = checkSourceUser(
      sourceFacts('mariadb', { user, grants: ["GRANT ALL PRIVILEGES ON *.* TO `root`@`%` IDENTIFIED BY PASSWORD '*ABC' WITH GRANT OPTION"] }),
    );
    expect(items.slice(0, 3).map((i) => i.status)).toEqual(['ok', 'ok', 'ok']);
    expect(item(items, 'least privilege')).toEqual({
      name: 'least privilege',
      status: 'warn',
      detail: `${user} holds far more than replication needs: ALL PRIVILEGES`,
      fix: `REVOKE ALL PRIVILEGES, GRANT OPTION FROM ${user}; GRANT REPLICATION SLAVE, REPLICATION CLIENT, SELECT ON *.* TO ${user};`,
    });
  });

  it('lists the write privileges of a MySQL 8 user in a fixed order', () => {
    const items = checkSourceUser(
      sourceFacts('mysql', { grants: ['GRANT UPDATE, SELECT, INSERT, REPLICATION SLAVE, REPLICATION CLIENT, SUPER ON *.* TO `repl_user`@`%`'] }),
    );
    expect(items.slice(0, 3).map((i) => i.status)).toEqual(['ok', 'ok', 'ok']);
    expect(item(items, 'least privilege')).toEqual({
      name: 'least privilege',
      status: 'warn',
      detail: `${REPL} holds far more than replication needs: SUPER, INSERT, UPDATE`,
      fix: `REVOKE ALL PRIVILEGES, GRANT OPTION FROM ${REPL}; ${GRANT_FIX}`,
    });
  });

  it.each<[string, string[], Array<[string, CheckItem['status']]>]>([
    [
      'missing REPLICATION SLAVE',
      ['GRANT SELECT, REPLICATION CLIENT ON *.* TO `repl_user`@`%`'],
      [
        ['REPLICATION SLAVE', 'fail'],
        ['REPLICATION CLIENT', 'ok'],
        ['SELECT', 'ok'],
        ['least privilege', 'ok'],
      ],
    ],
    [
      'missing REPLICATION CLIENT / BINLOG MONITOR',
      ["GRANT SELECT, REPLICATION SLAVE ON *.* TO `repl_user`@`%` IDENTIFIED BY PASSWORD '*ABC'"],
      [
        ['REPLICATION SLAVE', 'ok'],
        ['REPLICATION CLIENT', 'fail'],
        ['SELECT', 'ok'],
        ['least privilege', 'ok'],
      ],
    ],
    [
      'missing SELECT',
      ['GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO `repl_user`@`%`'],
      [
        ['REPLICATION SLAVE', 'ok'],
        ['REPLICATION CLIENT', 'ok'],
        ['SELECT', 'warn'],
        ['least privilege', 'ok'],
      ],
    ],
    [
      'only database-level grants, however broad',
      ['GRANT USAGE ON *.* TO `repl_user`@`%`', 'GRANT ALL PRIVILEGES ON `app`.* TO `repl_user`@`%`'],
      [
        ['REPLICATION SLAVE', 'fail'],
        ['REPLICATION CLIENT', 'fail'],
        ['SELECT', 'warn'],
        ['least privilege', 'ok'],
      ],
    ],
    [
      'no grants at all',
      [],
      [
        ['REPLICATION SLAVE', 'fail'],
        ['REPLICATION CLIENT', 'fail'],
        ['SELECT', 'warn'],
        ['least privilege', 'ok'],
      ],
    ],
  ])('%s', (_label, grants, expected) => {
    const items = checkSourceUser(sourceFacts('mysql', { grants }));
    expect(items.map((i) => [i.name, i.status])).toEqual(expected);
    for (const i of items.filter((x) => x.status !== 'ok' && x.name !== 'least privilege')) expect(i.fix, i.name).toBe(GRANT_FIX);
  });

  it('names what is missing', () => {
    const items = checkSourceUser(sourceFacts('mysql', { grants: ['GRANT USAGE ON *.* TO `repl_user`@`%`'] }));
    expect(item(items, 'REPLICATION SLAVE')).toEqual({ name: 'REPLICATION SLAVE', status: 'fail', detail: `${REPL} may not read the binlog`, fix: GRANT_FIX });
    expect(item(items, 'REPLICATION CLIENT')).toEqual({
      name: 'REPLICATION CLIENT',
      status: 'fail',
      detail: `${REPL} may not see binlog positions (SHOW MASTER STATUS)`,
      fix: GRANT_FIX,
    });
    expect(item(items, 'SELECT')).toEqual({
      name: 'SELECT',
      status: 'warn',
      detail: `${REPL} may not read tables: snapshot and verify will not work`,
      fix: GRANT_FIX,
    });
  });
});

describe('checkReplica', () => {
  function replicaFacts(overrides: Partial<ReplicaFacts> = {}): ReplicaFacts {
    return { flavor: 'mariadb', serverId: 2, readOnly: true, localInfile: true, user: APPLIER, write: { ok: true }, ...overrides };
  }

  it.each<[boolean, CheckItem]>([
    [true, { name: 'read_only', status: 'ok', detail: 'the replica is read-only: nothing but binlog-sync can change it' }],
    [
      false,
      {
        name: 'read_only',
        status: 'warn',
        detail: 'the replica is writable: tests or people can make it drift from the source',
        fix: setting('read_only', 'ON'),
      },
    ],
  ])('read_only %j', (readOnly, expected) => {
    expect(item(checkReplica(replicaFacts({ readOnly })), 'read_only')).toEqual(expected);
  });

  it.each<[boolean, CheckItem]>([
    [true, { name: 'local_infile', status: 'ok', detail: 'large inserts are loaded as files (LOAD DATA LOCAL INFILE), the fastest way in' }],
    [
      false,
      {
        name: 'local_infile',
        status: 'warn',
        detail: 'off: large inserts are applied as INSERT statements, which costs the replica about a third more',
        fix: setting('local_infile', 'ON'),
      },
    ],
  ])('local_infile %j', (localInfile, expected) => {
    expect(item(checkReplica(replicaFacts({ localInfile })), 'local_infile')).toEqual(expected);
  });

  const ALL_FIX = `GRANT ALL PRIVILEGES ON *.* TO ${APPLIER}; (at least CREATE, DROP, ALTER, INDEX, INSERT, UPDATE, DELETE, REFERENCES on the replicated databases and binlog_sync)`;
  const READ_ONLY_MESSAGE = 'The MariaDB server is running with the --read-only option so it cannot execute this statement';

  it.each<[string, Partial<ReplicaFacts>, CheckItem]>([
    ['write ok on a read-only replica', {}, { name: 'applier can write', status: 'ok', detail: `${APPLIER} can write to the replica despite read_only` }],
    ['write ok on a writable replica', { readOnly: false }, { name: 'applier can write', status: 'ok', detail: `${APPLIER} can write to the replica` }],
    [
      'errno 1290 on MariaDB',
      { write: { ok: false, errno: 1290, message: READ_ONLY_MESSAGE } },
      {
        name: 'applier can write',
        status: 'fail',
        detail: `${APPLIER} cannot write to the read-only replica: it lacks the READ_ONLY ADMIN privilege (${READ_ONLY_MESSAGE})`,
        fix: "GRANT READ_ONLY ADMIN ON *.* TO 'u'@'%';",
      },
    ],
    [
      'errno 1290 on MySQL',
      { flavor: 'mysql', write: { ok: false, errno: 1290, message: 'The MySQL server is running with the --read-only option' } },
      {
        name: 'applier can write',
        status: 'fail',
        detail: `${APPLIER} cannot write to the read-only replica: it lacks the CONNECTION_ADMIN privilege (The MySQL server is running with the --read-only option)`,
        fix: "GRANT CONNECTION_ADMIN ON *.* TO 'u'@'%';",
      },
    ],
    [
      'no errno, but a read-only message',
      { flavor: 'mysql', write: { ok: false, errno: undefined, message: 'server is READ ONLY' } },
      {
        name: 'applier can write',
        status: 'fail',
        detail: `${APPLIER} cannot write to the read-only replica: it lacks the CONNECTION_ADMIN privilege (server is READ ONLY)`,
        fix: "GRANT CONNECTION_ADMIN ON *.* TO 'u'@'%';",
      },
    ],
    [
      'another error',
      { write: { ok: false, errno: 1142, message: "INSERT command denied to user 'u'@'%' for table 'positions'" } },
      {
        name: 'applier can write',
        status: 'fail',
        detail: `${APPLIER} cannot write to the replica: INSERT command denied to user 'u'@'%' for table 'positions'`,
        fix: ALL_FIX,
      },
    ],
    [
      'an error without errno',
      { flavor: 'mysql', write: { ok: false, errno: undefined, message: 'connection lost' } },
      { name: 'applier can write', status: 'fail', detail: `${APPLIER} cannot write to the replica: connection lost`, fix: ALL_FIX },
    ],
  ])('%s', (_label, overrides, expected) => {
    const items = checkReplica(replicaFacts(overrides));
    expect(items.map((i) => i.name)).toEqual(['read_only', 'local_infile', 'applier can write']);
    expect(item(items, 'applier can write')).toEqual(expected);
  });
});

describe('the row applier', () => {
  const facts = (binlogStatements: ReplicaFacts['binlogStatements'], flavor: 'mariadb' | 'mysql' = 'mariadb'): ReplicaFacts => ({
    flavor,
    serverId: 2,
    readOnly: true,
    localInfile: true,
    user: APPLIER,
    write: { ok: true },
    binlogStatements,
  });

  it("is ok when the replica's user may send BINLOG statements", () => {
    expect(item(checkReplica(facts({ ok: true })), 'row applier')).toMatchObject({ status: 'ok', detail: expect.stringContaining("replica's own row code") });
  });

  it('warns with the grant, and what going without it costs, when the user lacks it', () => {
    const missing = { ok: false as const, privilege: true, message: 'Access denied; you need (at least one of) the SUPER, BINLOG REPLAY privilege(s)' };
    expect(item(checkReplica(facts(missing)), 'row applier')).toEqual({
      name: 'row applier',
      status: 'warn',
      detail: expect.stringMatching(/lacks BINLOG REPLAY: row events are applied as SQL statements .* more slowly/),
      fix: `GRANT BINLOG REPLAY ON *.* TO ${APPLIER};`,
    });
    expect(item(checkReplica(facts(missing, 'mysql')), 'row applier')?.fix).toBe(`GRANT BINLOG_ADMIN ON *.* TO ${APPLIER};`);
  });

  it('is not told when the replica was not asked', () => {
    expect(checkReplica(facts(undefined)).map((i) => i.name)).not.toContain('row applier');
  });
});

describe('server ids of the replica and binlog-sync', () => {
  it('fails when binlog-sync would announce the replica server id', () => {
    const items = checkSourceSettings(
      { flavor: 'mariadb', version: '10.11', serverId: 1, variables: { log_bin: 'ON', binlog_format: 'ROW', binlog_row_metadata: 'FULL' }, grants: [], user: "'u'@'%'", binlogFiles: [], expireSeconds: 86400 * 7 },
      7,
      7,
    );
    expect(items.find((i) => i.name === 'server_id')).toMatchObject({ status: 'fail', fix: 'pass another --server-id' });
  });
});

describe('checkSnapshotPrivilege', () => {
  const facts = (flavor: 'mariadb' | 'mysql', grants: string[]) => ({
    flavor,
    version: 'x',
    serverId: 1,
    variables: {},
    grants,
    user: "'repl_user'@'%'",
    binlogFiles: [],
    expireSeconds: null,
  });

  it.each([
    ['mariadb', ['GRANT SELECT, REPLICATION SLAVE ON *.* TO `repl_user`@`%`'], 'ok', undefined],
    ['mysql', ['GRANT SELECT, REPLICATION SLAVE, REPLICATION CLIENT, BACKUP_ADMIN ON *.* TO `repl_user`@`%`'], 'ok', undefined],
    ['mysql', ['GRANT SELECT, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO `repl_user`@`%`'], 'warn', "GRANT BACKUP_ADMIN ON *.* TO 'repl_user'@'%';"],
  ] as const)('%s with %j: %s', (flavor, grants, status, fix) => {
    const item = checkSnapshotPrivilege(facts(flavor, [...grants]));
    expect(item.status).toBe(status);
    expect(item.fix).toBe(fix);
  });
});

describe('checkObjects', () => {
  it('lists the triggers as deliberately not copied (informational)', () => {
    const [triggers] = checkObjects({ triggers: ['park.rides_ai', 'park.rides_bu'], definers: [], missingOnReplica: [] });
    expect(triggers).toEqual({
      name: 'triggers',
      status: 'ok',
      detail: expect.stringMatching(/^2 trigger\(s\) deliberately not copied, as their effects arrive as rows .*: park\.rides_ai, park\.rides_bu$/),
    });
  });

  it('warns about each DEFINER account the replica lacks, with the fix', () => {
    const [, definers] = checkObjects({ triggers: [], definers: ['root@localhost', "o'neil@10.0.0.%"], missingOnReplica: ["o'neil@10.0.0.%"] });
    expect(definers).toMatchObject({ name: 'definers', status: 'warn' });
    expect(definers!.detail).toContain("'o''neil'@'10.0.0.%'");
    expect(definers!.detail).toContain('error 1449');
    expect(definers!.fix).toBe(
      "on the replica: CREATE USER 'o''neil'@'10.0.0.%'; (and GRANT them what the objects use); or run with --definer 'user'@'host' naming an account of the replica",
    );
  });

  it('is content when every definer exists', () => {
    expect(checkObjects({ triggers: [], definers: ['root@localhost'], missingOnReplica: [] })[1]).toMatchObject({ name: 'definers', status: 'ok' });
  });

  it('with --definer, checks that account instead', () => {
    expect(checkObjects({ triggers: [], definers: ['x@y'], missingOnReplica: [], definer: '`app`@`%`' })[1]).toMatchObject({ status: 'ok' });
    expect(checkObjects({ triggers: [], definers: ['x@y'], missingOnReplica: ['app@%'], definer: '`app`@`%`' })[1]).toMatchObject({
      status: 'fail',
      fix: expect.stringMatching(/^on the replica: CREATE USER `app`@`%`;/),
    });
  });

  it('quotedAccount splits at the last @', () => {
    expect(quotedAccount('a@b@c')).toBe("'a@b'@'c'");
  });
});
