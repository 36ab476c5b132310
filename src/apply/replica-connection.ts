// The apply session's connection to the replica, and one owner for what
// belongs to it: opening it set up for applying (and again, as a new
// connection, once the packet limit was raised or a prepared XA transaction
// must be let go), running statements with driver errors turned into ours
// (where and what failed), and the replica's max_allowed_packet (measured,
// raised to take every row the source accepted, checked before a large
// statement goes).
import type { Endpoint } from '../config/connection-url.js';
import { connect } from '../db/connect.js';
import { isTransientDriverError, type DriverError } from '../db/server-errors.js';
import { ApplyError, PacketLimitError, PacketLimitRaisedError, TransientApplyError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { partBytes } from '../db/large-query.js';
import { describeBytes, MAX_PACKET_LIMIT, packetLimitFix, PACKET_SLACK } from '../db/packet-limit.js';
import { raisePacketLimit, sessionPacketLimit } from '../db/replica-packet-limit.js';
import { formatApplyQuery, inlineParts, type BatchingOptions } from '../sql/prepare.js';
import { binlogStatementBytes } from '../binlog/event-bytes.js';
import type { SqlConnection } from './checkpoint.js';
import type { LocalFiles } from './local-files.js';
import { applySessionStatement } from './session-context.js';
import { estimateBytes, type ApplyContext, type Buffered } from './statement-buffer.js';
import { describeContext, locationOf } from './apply-errors.js';

/** What the applier needs of a connection (mysql2's promise connection has it; so can a test's). */
export interface ApplyConnection extends SqlConnection {
  end(): Promise<void>;
  destroy(): void;
}

/** Got a packet bigger than 'max_allowed_packet' bytes. */
const ER_NET_PACKET_TOO_LARGE = 1153;

/** A statement from this estimated size is measured exactly against the replica's max_allowed_packet before it goes. */
const MEASURED_STATEMENT_BYTES = 256 * 1024;

/** What a new apply connection found out about the replica. */
export interface ReplicaInfo {
  flavor: BatchingOptions['flavor'];
  version: string;
  localInfile: boolean;
}

/**
 * A connection for applying: several statements per round trip (values
 * escaped into the text, see formatQuery), UTC, an sql_mode that accepts
 * what the source stored, and autocommit off: statements are pipelined, and
 * should the server roll a transaction back on its own (a deadlock), what is
 * still on its way must not commit piecemeal. Every write is committed explicitly.
 */
async function openApplyConnection(endpoint: Endpoint, files: LocalFiles): Promise<{ conn: ApplyConnection } & ReplicaInfo> {
  const conn = await connect(endpoint, 'replica', {
    multipleStatements: true,
    queryFormat: formatApplyQuery,
    // No stack captured per query (our errors say where they come from): it costs on every batch.
    trace: false,
    infileStreamFactory: files.open,
  });
  const [rows] = await conn.query('SELECT VERSION() AS version, @@local_infile AS localInfile');
  const info = (rows as Array<{ version: string; localInfile: number | string }>)[0];
  const flavor = /mariadb/i.test(String(info?.version ?? '')) ? 'mariadb' : 'mysql';
  const [versioning] = await conn.query("SHOW VARIABLES WHERE Variable_name IN ('system_versioning_insert_history', 'system_versioning_alter_history')");
  const has = (name: string): boolean => (versioning as Array<{ Variable_name: string }>).some((v) => v.Variable_name === name);
  await conn.query(applySessionStatement({ flavor, insertHistory: has('system_versioning_insert_history'), alterHistory: has('system_versioning_alter_history') }));
  return { conn, flavor, version: String(info?.version ?? ''), localInfile: Number(info?.localInfile) === 1 };
}

export class ReplicaConnection {
  /** The replica's max_allowed_packet as this session sees it (0 until known), and the source's. */
  maxPacket = 0;
  sourcePacket = 0;
  /** Whether this user may raise the replica's max_allowed_packet (until it is refused). */
  private mayRaisePacket = true;
  private readonly replacedListeners: Array<() => void> = [];

  constructor(
    private conn: ApplyConnection,
    /** A new connection set up like the first; absent for a connection that cannot be replaced (a test's). */
    private readonly reopen?: () => Promise<ApplyConnection>,
  ) {}

  static async open(endpoint: Endpoint, files: LocalFiles): Promise<{ replica: ReplicaConnection; info: ReplicaInfo }> {
    const { conn, ...info } = await openApplyConnection(endpoint, files);
    const replica = new ReplicaConnection(conn, async () => (await openApplyConnection(endpoint, files)).conn);
    replica.maxPacket = await sessionPacketLimit(conn);
    return { replica, info };
  }

  /** The connection in use now (a new one after replace()). */
  get current(): ApplyConnection {
    return this.conn;
  }

  get replaceable(): boolean {
    return this.reopen !== undefined;
  }

  /** A statement as it is, its errors the driver's (for the applier's own bookkeeping). */
  query(sql: string, params?: unknown[]): Promise<[unknown, unknown]> {
    return this.conn.query(sql, params);
  }

  /** Calls `listener` whenever the connection is replaced: what the old session held (its settings) is gone. */
  onReplaced(listener: () => void): void {
    this.replacedListeners.push(listener);
  }

  /**
   * Runs `sql` over a new connection of its own, then closes it: for a
   * write that must commit while the apply connection holds an open
   * transaction.
   */
  async runSeparately(sql: string, params: unknown[]): Promise<unknown> {
    if (!this.reopen) throw new Error('internal: this replica connection cannot open another');
    const conn = await this.reopen();
    try {
      const [result] = await conn.query(sql, params);
      return result;
    } finally {
      await conn.end().catch(() => conn.destroy());
    }
  }

  /** Goes on over a new connection, set up like the first; the old one is closed. */
  async replace(): Promise<void> {
    if (!this.reopen) throw new Error('internal: this replica connection cannot be replaced');
    const previous = this.conn;
    this.conn = await this.reopen();
    await previous.end().catch(() => previous.destroy());
    for (const listener of this.replacedListeners) listener();
  }

  async end(): Promise<void> {
    await this.conn.end().catch(() => this.conn.destroy());
  }

  /**
   * Makes the replica take every row the source accepted (`sourceBytes`, the
   * source's max_allowed_packet), as the server's own replica does with its
   * slave_max_allowed_packet: raises the replica's global limit when this
   * user may, and goes on over a new connection, which sees it (true then).
   * When it may not, says so once; a row too large then stops replication
   * before any of its transaction is applied (see checkFits), with the fix.
   */
  async fitPacketLimit(sourceBytes: number, logger: Logger): Promise<boolean> {
    if (!(sourceBytes > 0) || !this.reopen) return false;
    this.sourcePacket = sourceBytes;
    const result = await raisePacketLimit(this.conn, this.maxPacket, sourceBytes);
    if (result.outcome === 'refused') {
      this.mayRaisePacket = false;
      logger.warn({ replicaMaxAllowedPacket: this.maxPacket, sourceMaxAllowedPacket: sourceBytes }, result.message);
    }
    if (result.outcome !== 'raised') return false;
    await this.replace();
    this.maxPacket = await sessionPacketLimit(this.conn);
    logger.info({ replicaMaxAllowedPacket: this.maxPacket, sourceMaxAllowedPacket: sourceBytes }, result.message);
    return true;
  }

  /**
   * A large statement is measured (its values escaped in) before it is
   * queued. One larger than the replica's max_allowed_packet (the source's,
   * raised at start, may not be enough: an update of a row without a key
   * carries both images, and its texts twice) raises the replica's limit to
   * 1 GB, as the server's own replica may take, when this user may,
   * and its transaction runs again over a new connection, which takes the
   * new limit. When it may not, or past 1 GB, replication stops before
   * anything of the transaction commits, with the fix, rather than fail on
   * the replica with error 1153.
   */
  /** Whether a statement is large enough to be measured by checkFits before it is queued. */
  measures(statement: Buffered): boolean {
    return this.maxPacket > 0 && estimateBytes(statement) >= MEASURED_STATEMENT_BYTES;
  }

  async checkFits(statement: Buffered): Promise<void> {
    if (this.maxPacket <= 0 || estimateBytes(statement) < MEASURED_STATEMENT_BYTES) return;
    if (statement.binlog) return this.checkBytesFit(statement, binlogStatementBytes(statement.binlog.bytes) + 1);
    if (statement.params.length > 0) {
      const inline = inlineParts(statement.sql, statement.params);
      statement.sql = inline.sql;
      statement.params = [];
      if (inline.blobs.length) statement.blobs = inline.blobs;
      // (Its list's own texts still have their placeholders: a statement this large joins none.)
      statement.keyList = undefined;
    }
    return this.checkBytesFit(statement, partBytes(statement) + 1);
  }

  /** A statement of `bytes` on the wire takes the replica's max_allowed_packet, raised when it must be (see checkFits). */
  private async checkBytesFit(statement: Buffered, bytes: number): Promise<void> {
    if (bytes <= this.maxPacket) return;
    const where = `a row ${statement.kind} on ${statement.table} at ${describeContext(statement.context)}`;
    const location = locationOf(statement.context, statement.table ?? null, statement.kind);
    // Straight to the most a server takes, as the server's own replica may
    // (slave_max_allowed_packet): the next such row then needs no new connection.
    const wanted = MAX_PACKET_LIMIT;
    if (this.mayRaisePacket && bytes + PACKET_SLACK <= MAX_PACKET_LIMIT) {
      const raised = await this.conn.query(`SET GLOBAL max_allowed_packet = ${wanted}`).then(
        () => true,
        () => false,
      );
      if (raised) {
        throw new PacketLimitRaisedError(
          `${where} is ${describeBytes(bytes)} as a statement: raised the replica's max_allowed_packet from ${describeBytes(this.maxPacket)} to ${describeBytes(wanted)} ` +
            `and applying its transaction again over a new connection; to keep it over a replica restart, in its my.cnf [mysqld]: max_allowed_packet=${describeBytes(wanted)}`,
          { location },
        );
      }
      this.mayRaisePacket = false;
    }
    throw new PacketLimitError(
      `${where} is ${describeBytes(bytes)} as a statement, ` +
        `more than the replica's max_allowed_packet of ${describeBytes(this.maxPacket)}${this.sourcePacket ? ` (the source accepts ${describeBytes(this.sourcePacket)})` : ''}; ` +
        (bytes + PACKET_SLACK > MAX_PACKET_LIMIT
          ? `no server takes a statement past ${describeBytes(MAX_PACKET_LIMIT)}: nothing of this transaction was applied; skip it with \`binlog-sync skip\` or make the row smaller on the source`
          : `nothing of this transaction was applied: on the replica ${packetLimitFix(Math.max(bytes, this.sourcePacket) + PACKET_SLACK)}, then start again`),
      { location },
    );
  }

  /** Runs one statement, turning driver errors into ours with where and what failed. */
  async run(sql: string | Buffer, params: unknown[], context: ApplyContext, kind: string, table?: string): Promise<unknown> {
    try {
      // (A query of bytes goes through formatQuery as it is: see db/large-query.ts.)
      // (mysql2 reads an object as the query's options: a query of bytes goes as `{ sql }`.)
      const [result] = await this.conn.query((typeof sql === 'string' ? sql : { sql }) as string, params);
      return result;
    } catch (error) {
      const e = error as DriverError & { sql?: unknown };
      // The error keeps the query, which may be megabytes (it is never shown).
      if (typeof e === 'object' && e !== null && Buffer.isBuffer(e.sql)) e.sql = '(large query)';
      const detail = `${e.sqlMessage ?? e.message ?? String(error)}${e.errno ? ` (error ${e.errno})` : ''}`;
      const where = `${kind}${table ? ` on ${table}` : ''} at ${describeContext(context)}`;
      const location = locationOf(context, table ?? null, kind);
      if (e.errno === ER_NET_PACKET_TOO_LARGE) {
        const size = typeof sql === 'string' ? Buffer.byteLength(sql) : sql.length;
        throw new PacketLimitError(
          `applying ${where} failed: a statement of ${describeBytes(size)} is more than the replica's max_allowed_packet of ${describeBytes(this.maxPacket)} (error 1153); ` +
            `on the replica ${packetLimitFix(Math.max(size, this.sourcePacket) + PACKET_SLACK)}, then start again`,
          { cause: error, location },
        );
      }
      if (isTransientDriverError(error)) {
        throw new TransientApplyError(`applying ${where} failed: ${detail}`, { cause: error, location });
      }
      throw new ApplyError(`applying ${where} failed on the replica: ${detail}${e.errno === ER_PARSE_ERROR || e.errno === ER_UNKNOWN_DATA_TYPE ? vectorHint(sql) : ''}`, { cause: error, location });
    }
  }
}

const ER_PARSE_ERROR = 1064;
/** MariaDB 10.5+: "Unknown data type: 'VECTOR'". */
const ER_UNKNOWN_DATA_TYPE = 4161;

/**
 * What to do when a statement the replica cannot parse declares a VECTOR
 * column (MySQL 9.0+; MariaDB has the type from 11.7): the replica can hold
 * the values as their bytes (4 per dimension, float32) in a VARBINARY.
 */
function vectorHint(sql: string | Buffer): string {
  const text = typeof sql === 'string' ? sql : sql.subarray(0, 65536).toString('latin1');
  if (!/\bVECTOR\s*\(\s*\d+\s*\)/i.test(text)) return '';
  return (
    '; the statement declares a VECTOR column (MySQL 9), a type this replica does not have (MariaDB has it from 11.7): ' +
    'create the table on the replica by hand with each VECTOR(n) column as VARBINARY(4*n), which holds its values as their bytes, ' +
    'then `binlog-sync position set` past the statement'
  );
}
