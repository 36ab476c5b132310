// Differential tests: the same SQL on one source, replicated by the server's
// own replica threads and by `binlog-sync start`, and the two copies
// compared exactly. The native replica's result is the expected one, so a
// test proves its expectation too (no hand-written expected rows).
import type { Connection } from 'mysql2/promise';
import mysql from 'mysql2/promise';
import { expect } from 'vitest';
import { compareFilePositions, type BinlogPosition } from '../../src/position.js';
import { imageOf, type DatabaseImage } from './compare.js';
import { EXACT_VALUES } from './context.js';
import { Replication, sourcePosition } from './replication.js';
import { REPL_PASSWORD, REPL_USER, destroyServers, startServer, type ManagedServer, type StartServerOptions } from './servers.js';

export interface DifferentialOptions {
  /** Databases binlog-sync replicates (the native replica takes everything). */
  databases: string[];
  /** Server ids of the source, our replica and the native replica: unique per test file. */
  ids: [number, number, number];
  /** Server options and time zone of the source (e.g. { 'time-zone': ... }). */
  source?: Omit<StartServerOptions, 'role' | 'serverId'>;
  /** Server options of both replicas (e.g. { 'default-storage-engine': 'MyISAM' }, as MariaDB's test suite runs). */
  replicas?: Record<string, string | number>;
  /** Extra `start` flags. */
  args?: string[];
}

export class Differential {
  private constructor(
    readonly source: ManagedServer,
    readonly ours: ManagedServer,
    readonly native: ManagedServer,
    readonly replication: Replication,
    private readonly admin: Connection,
    private readonly nativeAdmin: Connection,
  ) {}

  /** Starts three servers, points the native replica and `binlog-sync start` at the source's current position. */
  static async start(options: DifferentialOptions): Promise<Differential> {
    const [source, ours, native] = await Promise.all([
      startServer({ role: 'source', serverId: options.ids[0], ...options.source }),
      // Each replica in a zone of its own, neither the source's: no zone mistake cancels out.
      startServer({ role: 'replica', serverId: options.ids[1], timeZone: 'Pacific/Auckland', ...(options.replicas ? { options: options.replicas } : {}) }),
      startServer({ role: 'replica', serverId: options.ids[2], timeZone: 'America/Sao_Paulo', ...(options.replicas ? { options: options.replicas } : {}) }),
    ]);
    const admin = await mysql.createConnection({ uri: source.info.adminUrl, ...EXACT_VALUES });
    const nativeAdmin = await mysql.createConnection({ uri: native.info.adminUrl, ...EXACT_VALUES });
    const [rows] = await admin.query('SELECT @@gtid_binlog_pos AS gtid');
    const gtid = String((rows as Array<{ gtid: string }>)[0]!.gtid ?? '');
    await nativeAdmin.query(`SET GLOBAL gtid_slave_pos = '${gtid}'`);
    await nativeAdmin.query(
      `CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=${source.info.port}, MASTER_USER='${REPL_USER}', ` +
        `MASTER_PASSWORD='${REPL_PASSWORD}', MASTER_USE_GTID=slave_pos`,
    );
    await nativeAdmin.query('START SLAVE');
    const replication = new Replication({ databases: options.databases, source: source.info, replica: ours.info, args: options.args ?? [] });
    await replication.setCurrentPosition();
    replication.start();
    return new Differential(source, ours, native, replication, admin, nativeAdmin);
  }

  /** Runs SQL on the source, statement by statement (a string may hold several: multipleStatements). */
  async run(...statements: string[]): Promise<void> {
    for (const sql of statements) await this.admin.query(sql);
  }

  /** An admin connection to the source, for what `run` cannot say. */
  get sourceConnection(): Connection {
    return this.admin;
  }

  /** Waits until both replicas have applied everything the source has written. */
  async synced(timeoutMs = 60_000): Promise<void> {
    const target = await sourcePosition(this.admin);
    await Promise.all([this.nativeApplied(target, timeoutMs), this.replication.caughtUp(timeoutMs)]);
  }

  /** The native replica's last SQL thread error, '' when none. */
  async nativeError(): Promise<string> {
    const [rows] = await this.nativeAdmin.query('SHOW SLAVE STATUS');
    return String((rows as Array<Record<string, string>>)[0]?.Last_SQL_Error ?? '');
  }

  private async nativeApplied(target: BinlogPosition, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const [rows] = await this.nativeAdmin.query('SHOW SLAVE STATUS');
      const s = (rows as Array<Record<string, string>>)[0] ?? {};
      const order = compareFilePositions({ file: s.Relay_Master_Log_File ?? null, position: Number(s.Exec_Master_Log_Pos), gtid: null }, target);
      if (order !== null && order >= 0) return;
      if (s.Last_SQL_Error) throw new Error(`the native replica stopped: ${s.Last_SQL_Error}`);
      if (Date.now() > deadline) throw new Error(`the native replica did not catch up within ${timeoutMs} ms: ${JSON.stringify(s)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Both copies of `database` (binlog-sync's may be renamed with --rewrite-db). */
  async images(database: string, oursDatabase = database): Promise<{ native: DatabaseImage; ours: DatabaseImage }> {
    const native = await mysql.createConnection({ uri: this.native.info.adminUrl, ...EXACT_VALUES });
    const ours = await mysql.createConnection({ uri: this.ours.info.adminUrl, ...EXACT_VALUES });
    try {
      return { native: await imageOf(native, database), ours: await imageOf(ours, oursDatabase) };
    } finally {
      await native.end();
      await ours.end();
    }
  }

  /**
   * Waits for both replicas, then asserts binlog-sync's copy equals the
   * native replica's, table by table. Unless `nativeMayDiffer`, the native
   * copy must equal the source too (so an empty or stalled native replica
   * can never make a test pass).
   */
  async expectSameAsNative(database: string, options: { oursDatabase?: string; nativeMayDiffer?: boolean } = {}): Promise<DatabaseImage> {
    await this.synced();
    const { native, ours } = await this.images(database, options.oursDatabase ?? database);
    if (!options.nativeMayDiffer) {
      // A connection of its own: imaging sets the session's time zone, which `run` must not inherit.
      const source = await mysql.createConnection({ uri: this.source.info.adminUrl, ...EXACT_VALUES });
      try {
        expect(native, 'the native replica equals the source').toEqual(await imageOf(source, database));
      } finally {
        await source.end();
      }
    }
    expect(Object.keys(ours.tables), 'tables').toEqual(Object.keys(native.tables));
    for (const [table, image] of Object.entries(native.tables)) {
      expect(ours.tables[table]!.definition, `definition of ${table}`).toBe(image.definition);
      expect(ours.tables[table]!.rows, `rows of ${table}`).toEqual(image.rows);
    }
    return native;
  }

  /**
   * The row path this run was meant to take was taken: BINLOG statements
   * reached binlog-sync's replica (the privilege probe, the format
   * description and rows), or none did on the SQL path.
   */
  async expectRowPath(): Promise<void> {
    const ours = await mysql.createConnection({ uri: this.ours.info.adminUrl });
    try {
      const [rows] = await ours.query("SHOW GLOBAL STATUS LIKE 'Com_binlog'");
      const count = Number((rows as Array<{ Value: string }>)[0]?.Value ?? 0);
      if (process.env.BINLOG_SYNC_TEST_ROW_APPLIER === 'sql') expect(count, 'BINLOG statements on the SQL path').toBe(0);
      else expect(count, 'BINLOG statements on the BINLOG path').toBeGreaterThanOrEqual(3);
    } finally {
      await ours.end();
    }
  }

  async close(): Promise<void> {
    try {
      await this.expectRowPath();
    } finally {
      await this.replication.close();
      await this.admin.end().catch(() => undefined);
      await this.nativeAdmin.end().catch(() => undefined);
      await destroyServers(this.source, this.ours, this.native);
    }
  }
}
