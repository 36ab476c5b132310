// Proves the test servers are what replication needs: a ROW binlog with full
// metadata that zongji can read as the least-privilege repl_user, a read-only
// replica the applier can still write to, and dedicated servers that can run
// other options and restart.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import ZongJi, { type AnyBinlogEvent, type WriteRowsEvent } from '@vlasky/zongji';
import mysql from 'mysql2/promise';
import { adminConnection, dropDatabases, testServers, uniqueName, EXACT_VALUES } from '../support/context.js';
import { APPLIER_PASSWORD, APPLIER_USER, REPL_USER, startServer, type ManagedServer } from '../support/servers.js';

const db = uniqueName('harness');

afterAll(async () => {
  await dropDatabases([db]);
});

describe('the shared source', () => {
  it('writes a ROW binlog with full row metadata and has its own server id', async () => {
    const conn = await adminConnection('source');
    const [rows] = await conn.query(
      'SELECT @@log_bin AS logBin, @@binlog_format AS format, @@binlog_row_image AS image, ' +
        '@@binlog_row_metadata AS metadata, @@server_id AS serverId, @@character_set_server AS charset',
    );
    await conn.end();
    const vars = (rows as Array<Record<string, unknown>>)[0]!;
    expect(vars).toMatchObject({ format: 'ROW', image: 'FULL', metadata: 'FULL', charset: 'utf8mb4' });
    expect(Number(vars.logBin)).toBe(1);
    expect(Number(vars.serverId)).not.toBe(testServers().replica.serverId);
  });

  it('gives repl_user replication and SELECT privileges and nothing more', async () => {
    const conn = await mysql.createConnection({ uri: testServers().source.userUrl });
    const [rows] = await conn.query('SHOW GRANTS');
    await conn.end();
    const grants = (rows as Array<Record<string, string>>).map((r) => Object.values(r)[0]!).join('\n');
    expect(grants).toMatch(new RegExp(`GRANT (SELECT, )?.*REPLICATION SLAVE.* ON \\*\\.\\* TO \`${REPL_USER}\``));
    expect(grants).not.toMatch(/INSERT|UPDATE|DELETE|CREATE|DROP|SUPER|ALL PRIVILEGES/);
  });

  it('streams a committed change to zongji connected as repl_user', async () => {
    const admin = await adminConnection('source');
    await admin.query(`CREATE DATABASE \`${db}\``);
    await admin.query(
      `CREATE TABLE \`${db}\`.parks (id BIGINT UNSIGNED PRIMARY KEY, name VARCHAR(50), opened DATETIME(6), price DECIMAL(65,30))`,
    );
    const [status] = await admin.query('SHOW MASTER STATUS');
    const { File: file, Position: position } = (status as Array<{ File: string; Position: number }>)[0]!;

    const received = new Promise<WriteRowsEvent>((resolve, reject) => {
      const source = testServers().source;
      const url = new URL(source.userUrl);
      const zongji = new ZongJi({
        host: source.host,
        port: source.port,
        user: decodeURIComponent(url.username),
        password: decodeURIComponent(url.password),
        ...EXACT_VALUES,
      });
      const timer = setTimeout(() => {
        zongji.stop();
        reject(new Error('no WriteRows event within 20 s'));
      }, 20_000);
      zongji.on('error', (error: Error) => {
        clearTimeout(timer);
        reject(error);
      });
      zongji.on('binlog', (event: AnyBinlogEvent) => {
        if (event.getTypeName() !== 'WriteRows') return;
        const rows = event as WriteRowsEvent;
        if (rows.tableMap[rows.tableId]?.parentSchema !== db) return;
        clearTimeout(timer);
        zongji.stop();
        resolve(rows);
      });
      zongji.start({
        serverId: 900 + Math.floor(Math.random() * 1000),
        filename: file,
        position,
        includeEvents: ['tablemap', 'writerows'],
      });
    });

    await admin.query(`INSERT INTO \`${db}\`.parks VALUES (18446744073709551615, 'Efteling ☃', '2026-11-26 12:34:56.123456', -12345678901234567890.123456789012345678901234567890)`);
    await admin.end();

    const event = await received;
    expect(event.rows).toEqual([
      {
        id: '18446744073709551615',
        name: 'Efteling ☃',
        opened: '2026-11-26 12:34:56.123456',
        price: '-12345678901234567890.123456789012345678901234567890',
      },
    ]);
  });
});

describe('the shared replica', () => {
  it('is read-only, yet the applier user can write to it', async () => {
    const replica = testServers().replica;
    const admin = await adminConnection('replica');
    const [rows] = await admin.query('SELECT @@read_only AS readOnly');
    expect(Number((rows as Array<{ readOnly: string }>)[0]!.readOnly)).toBe(1);
    await admin.query(`CREATE DATABASE IF NOT EXISTS \`${db}\``);
    await admin.end();

    const applier = await mysql.createConnection({ host: replica.host, port: replica.port, user: APPLIER_USER, password: APPLIER_PASSWORD });
    await applier.query(`CREATE TABLE \`${db}\`.t (id INT PRIMARY KEY)`);
    await applier.query(`INSERT INTO \`${db}\`.t VALUES (1)`);
    const [count] = await applier.query(`SELECT COUNT(*) AS n FROM \`${db}\`.t`);
    await applier.end();
    expect((count as Array<{ n: number }>)[0]!.n).toBe(1);
  });
});

describe('a dedicated server', () => {
  let server: ManagedServer;

  beforeAll(async () => {
    server = await startServer({ role: 'source', serverId: 77, options: { 'binlog-row-image': 'MINIMAL' } });
  });

  afterAll(async () => {
    await server?.destroy();
  });

  it('runs with the options the test asked for and keeps its data across a restart', async () => {
    let conn = await mysql.createConnection({ uri: server.info.adminUrl });
    const [vars] = await conn.query('SELECT @@binlog_row_image AS image, @@server_id AS id');
    expect((vars as Array<Record<string, unknown>>)[0]).toMatchObject({ image: 'MINIMAL', id: 77 });
    await conn.query('CREATE DATABASE kept');
    await conn.query('CREATE TABLE kept.t (id INT PRIMARY KEY)');
    await conn.query('INSERT INTO kept.t VALUES (42)');
    await conn.end();

    await server.restart();

    conn = await mysql.createConnection({ uri: server.info.adminUrl });
    const [rows] = await conn.query('SELECT id FROM kept.t');
    await conn.end();
    expect(rows).toEqual([{ id: 42 }]);
  });
});
