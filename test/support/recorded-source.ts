// A test source that serves a recorded MySQL binlog file over the real
// replication protocol (mysql2's server side: handshake, queries,
// COM_REGISTER_SLAVE, COM_BINLOG_DUMP / COM_BINLOG_DUMP_GTID), so that
// `binlog-sync start` decodes the bytes a MySQL 8 server wrote, end to end,
// through zongji and its own socket: no MySQL server runs on these machines.
// It answers the few queries a replica asks a MySQL source (version,
// variables, binlog status, collations) as that server would, from the
// file's own format description; a dump streams an artificial rotate, the
// format description and the file's events from the asked position, then
// heartbeats (v2, MySQL 8.0.26+'s, when the replica asks for them with the
// dump flag 0x02, else v1) while it idles, as a source's dump thread does.
// A transform may change the events on their way (a compressed transaction
// made of a recorded one, see compressTransaction).
// What mysql2's server side (3.x) gives and what is made here: it does the
// handshake (any user is let in), parses COM_QUERY, hands other commands
// over raw (the 'packet' event: COM_REGISTER_SLAVE, the dumps, COM_STMT_CLOSE)
// and writes OK, error, column and text row packets. It does not reset the
// sequence id between commands (responded() does), hands SET queries over as
// prepared statements, has no COM_STMT_PREPARE answer (prepareOk) and a
// binary row writer without a real NULL bitmap (binaryRow); its
// writeTextResult puts each row's values after as many empty ones (writeRows).
// Binlog events go as raw packets (0, then the event), split by mysql2 past 16 MB.
import { readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import mysql from 'mysql2';
import mysqlPromise from 'mysql2/promise';

// (mysql2's Packet class, by its file's real path: the package's export map does not list it.)
const require = createRequire(import.meta.url);
const MYSQL2 = dirname(realpathSync(require.resolve('mysql2')));
const Packet = require(join(MYSQL2, 'lib', 'packets', 'packet.js')) as new (id: number, buffer: Buffer, start: number, end: number) => object;
const ColumnDefinition = require(join(MYSQL2, 'lib', 'packets', 'column_definition.js')) as { toPacket(column: object, sequenceId: number): object };

const COM_REGISTER_SLAVE = 0x15;
const COM_BINLOG_DUMP = 0x12;
const COM_BINLOG_DUMP_GTID = 0x1e;
const COM_STMT_CLOSE = 0x19;
/** What zongji asks of information_schema.COLUMNS for a table map without column names. */
const INFORMATION_SCHEMA_COLUMNS = ['COLUMN_NAME', 'COLLATION_NAME', 'CHARACTER_SET_NAME', 'COLUMN_COMMENT', 'COLUMN_TYPE'];
const HEADER = 19;
const ROTATE = 4;
const FORMAT_DESCRIPTION = 15;
const HEARTBEAT = 27;
const HEARTBEAT_V2 = 41;
const TRANSACTION_PAYLOAD = 40;
const GTID = 33;
const ARTIFICIAL = 0x20;
/** The dump flag of a replica that takes heartbeats v2 (MySQL's USE_HEARTBEAT_EVENT_V2). */
const DUMP_HEARTBEAT_V2 = 0x02;

/** MySQL's protocol capabilities this source offers: 4.1 protocol, plugin auth, transactions, multi results; no TLS. */
const CAPABILITIES = 0x1 | 0x2 | 0x4 | 0x8 | 0x200 | 0x2000 | 0x8000 | 0x10000 | 0x20000 | 0x80000;

export interface RecordedSourceOptions {
  /** The binlog file served, by its name. */
  path: string;
  name: string;
  /** The events of the file (each header to checksum) as they are to be sent; default: as recorded. */
  transform?: (events: Buffer[]) => Buffer[];
  /** Heartbeat period (ms) when the replica sets none. */
  heartbeatMs?: number;
  /** Serve the events that end at or before this offset only (the server had written no more yet). */
  upTo?: number;
  /** Send heartbeats v2 even to a replica that did not ask for them (zongji never does). */
  heartbeatV2?: boolean;
  /** Server variables that differ from a well-configured MySQL 8 source's (binlog_transaction_compression: 'ON'...). */
  variables?: Record<string, string>;
  /**
   * A table's columns as the server's information_schema.COLUMNS has them
   * (COLUMN_NAME, COLLATION_NAME, CHARACTER_SET_NAME, COLUMN_COMMENT,
   * COLUMN_TYPE), for a file written without binlog_row_metadata=FULL: zongji
   * asks for them with a prepared statement, answered so.
   */
  tableColumns?: (database: string, table: string) => Rows | undefined;
  /**
   * A server that answers the queries that are not about the binlog (the
   * clock, time zones), as a MySQL server would answer them alike: the
   * harness's MariaDB source (its admin URL).
   */
  backing: string;
}

export interface RecordedSource {
  port: number;
  url: (user?: string) => string;
  /** Queries received, in order (for a test to see what a replica asked). */
  queries: string[];
  /** Heartbeats sent, by kind. */
  heartbeats: { v1: number; v2: number };
  /** Dump requests received: the command, flags and the file and position (or GTID set) asked for. */
  dumps: Array<{ command: 'dump' | 'dump-gtid'; flags: number; file: string; position: number; gtids?: string }>;
  close: () => Promise<void>;
}

/** The events of a binlog file, each its bytes (header to checksum). */
export function fileEvents(bytes: Buffer): Buffer[] {
  const events: Buffer[] = [];
  for (let at = 4; at + HEADER <= bytes.length; at += bytes.readUInt32LE(at + 9)) events.push(bytes.subarray(at, at + bytes.readUInt32LE(at + 9)));
  return events;
}

/** CRC32 (the binlog's checksum). */
function crc32(bytes: Buffer): number {
  let crc = ~0;
  for (const b of bytes) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return ~crc >>> 0;
}

/** An event made for the stream (not in the file): header, body, a checksum. */
function madeEvent(type: number, body: Buffer, position: number, flags = 0): Buffer {
  const event = Buffer.alloc(HEADER + body.length + 4);
  event[4] = type;
  event.writeUInt32LE(1, 5);
  event.writeUInt32LE(event.length, 9);
  event.writeUInt32LE(position, 13);
  event.writeUInt16LE(flags, 17);
  body.copy(event, HEADER);
  event.writeUInt32LE(crc32(event.subarray(0, event.length - 4)), event.length - 4);
  return event;
}

function lengthEncoded(n: number): Buffer {
  if (n < 251) return Buffer.from([n]);
  const b = Buffer.alloc(4);
  b[0] = 0xfd;
  b.writeUIntLE(n, 1, 3);
  return b;
}

/**
 * A recorded transaction (its events from BEGIN to XID, after its GTID
 * event) as MySQL writes it with binlog_transaction_compression=ON: one
 * TRANSACTION_PAYLOAD event holding them zstd-compressed (the zstd command
 * line tool), each without its checksum and with end position 0, ending
 * where the transaction ended. The events before and after are unchanged.
 */
export function compressTransaction(events: Buffer[], first: number, last: number): Buffer[] {
  const inner = events.slice(first, last + 1).map((e) => {
    const copy = Buffer.from(e.subarray(0, e.length - 4));
    copy.writeUInt32LE(copy.length, 9);
    copy.writeUInt32LE(0, 13);
    return copy;
  });
  const raw = Buffer.concat(inner);
  const compressed = execFileSync('zstd', ['-q', '-c', '--no-check'], { input: raw });
  const fields = Buffer.concat([
    lengthEncoded(2), lengthEncoded(1), Buffer.from([0]), // compression type: zstd
    lengthEncoded(3), lengthEncoded(lengthEncoded(raw.length).length), lengthEncoded(raw.length), // uncompressed size
    lengthEncoded(1), lengthEncoded(lengthEncoded(compressed.length).length), lengthEncoded(compressed.length), // payload size
    lengthEncoded(0),
  ]);
  const end = events[last]!.readUInt32LE(13);
  const payload = madeEvent(TRANSACTION_PAYLOAD, Buffer.concat([fields, compressed]), end);
  payload.writeUInt32LE(events[first]!.readUInt32LE(0), 0);
  payload.writeUInt32LE(crc32(payload.subarray(0, payload.length - 4)), payload.length - 4);
  return [...events.slice(0, first), payload, ...events.slice(last + 1)];
}

/** A GTID event's GTID, `uuid:n`. */
function gtidOf(event: Buffer): string {
  const hex = event.toString('hex', HEADER + 1, HEADER + 17);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}:${event.readBigUInt64LE(HEADER + 17)}`;
}

/** The GTIDs of a COM_BINLOG_DUMP_GTID's set (untagged: the recorded files have no tags), each `uuid:n`. */
function decodeGtidSet(data: Buffer): Set<string> {
  const gtids = new Set<string>();
  const sids = Number(data.readBigUInt64LE(0));
  let at = 8;
  for (let i = 0; i < sids; i++) {
    const hex = data.toString('hex', at, at + 16);
    const uuid = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
    const intervals = Number(data.readBigUInt64LE(at + 16));
    at += 24;
    for (let k = 0; k < intervals; k++, at += 16) {
      for (let n = data.readBigUInt64LE(at); n < data.readBigUInt64LE(at + 8); n++) gtids.add(`${uuid}:${n}`);
    }
  }
  return gtids;
}

/** The server version the file's format description names. */
function serverVersion(events: Buffer[]): string {
  const format = events.find((e) => e[4] === FORMAT_DESCRIPTION)!;
  const raw = format.subarray(HEADER + 2, HEADER + 52);
  return raw.toString('latin1', 0, raw.indexOf(0));
}

interface ServerConnection {
  serverHandshake(args: object): void;
  on(event: string, listener: (...args: never[]) => void): void;
  writeOk(args?: object): void;
  writeError(args: { message: string; code: number }): void;
  writeColumns(columns: object[]): void;
  writeTextRow(values: unknown[]): void;
  writeEof(): void;
  writePacket(packet: object): void;
  close(): void;
  stream: { destroyed: boolean; on(event: string, listener: () => void): void };
}

export type Rows = Array<Record<string, string | number | null>>;

function column(name: string): object {
  return { catalog: 'def', schema: '', table: '', orgTable: '', name, orgName: name, characterSet: 33, columnLength: 255, columnType: 253, flags: 0, decimals: 0 };
}

function writeRows(conn: ServerConnection, names: string[], rows: Rows): void {
  conn.writeColumns(names.map(column));
  for (const row of rows) conn.writeTextRow(names.map((n) => (row[n] === undefined ? null : row[n])));
  conn.writeEof();
}

/** COM_STMT_PREPARE's answer: statement 1, its parameters' and columns' definitions (strings). */
function prepareOk(conn: ServerConnection, params: number, columns: string[]): void {
  const ok = Buffer.alloc(4 + 12);
  ok.writeUInt32LE(1, 5);
  ok.writeUInt16LE(columns.length, 9);
  ok.writeUInt16LE(params, 11);
  conn.writePacket(new Packet(0, ok, 0, ok.length));
  if (params > 0) {
    for (let i = 0; i < params; i++) conn.writePacket(ColumnDefinition.toPacket(column('?'), 0));
    conn.writeEof();
  }
  for (const name of columns) conn.writePacket(ColumnDefinition.toPacket(column(name), 0));
  conn.writeEof();
}

/** A row of a binary result set: 0, the NULL bitmap (offset by 2 bits), then each value that is not NULL as a length-encoded string. */
function binaryRow(values: Array<string | number | null>): object {
  const bitmap = Buffer.alloc((values.length + 7 + 2) >> 3);
  const parts: Buffer[] = [];
  values.forEach((v, i) => {
    if (v === null) bitmap[(i + 2) >> 3]! |= 1 << ((i + 2) & 7);
    else {
      const text = Buffer.from(String(v));
      parts.push(lengthEncoded(text.length), text);
    }
  });
  const buffer = Buffer.concat([Buffer.alloc(4), Buffer.from([0]), bitmap, ...parts]);
  return new Packet(0, buffer, 0, buffer.length);
}

/** A response is complete: the client's next command starts its packets at sequence 0 (mysql2's server side does not reset it). */
function responded(conn: ServerConnection): void {
  (conn as unknown as { sequenceId: number }).sequenceId = 0;
}

export async function startRecordedSource(options: RecordedSourceOptions): Promise<RecordedSource> {
  const recorded = fileEvents(readFileSync(options.path));
  const all = options.transform ? options.transform(recorded) : recorded;
  const version = serverVersion(all);
  const events = all.filter((e) => e[4] === FORMAT_DESCRIPTION || options.upTo === undefined || e.readUInt32LE(13) <= options.upTo);
  const end = events.at(-1)!.readUInt32LE(13);
  const queries: string[] = [];
  const heartbeats = { v1: 0, v2: 0 };
  const dumps: RecordedSource['dumps'] = [];
  const open = new Set<ServerConnection>();
  const timers = new Set<NodeJS.Timeout>();
  const variables: Record<string, string> = {
    log_bin: 'ON',
    binlog_format: 'ROW',
    binlog_row_image: 'FULL',
    binlog_row_metadata: 'FULL',
    binlog_transaction_compression: 'OFF',
    binlog_row_value_options: '',
    gtid_mode: 'ON',
    max_allowed_packet: '67108864',
    binlog_checksum: 'CRC32',
    binlog_expire_logs_seconds: '2592000',
    ...options.variables,
  };

  /** Answers a query as the recorded server would; false when it has no answer. */
  const backing = await mysqlPromise.createConnection({ uri: options.backing, supportBigNumbers: true, bigNumberStrings: true, dateStrings: true });
  /** A query that is not about the binlog, answered by the backing server. */
  const forward = async (conn: ServerConnection, sql: string): Promise<void> => {
    try {
      const [rows, fields] = await backing.query({ sql, rowsAsArray: true });
      if (!Array.isArray(rows)) {
        conn.writeOk();
        return;
      }
      const names = (fields ?? []).map((f) => f.name);
      writeRows(conn, names, (rows as unknown[][]).map((r) => Object.fromEntries(names.map((n, i) => [n, r[i] === null ? null : Buffer.isBuffer(r[i]) ? r[i].toString('utf8') : String(r[i])]))));
    } catch (error) {
      const e = error as { message: string; errno?: number };
      conn.writeError({ message: e.message, code: e.errno ?? 1064 });
    }
  };

  const answer = (conn: ServerConnection, sql: string, heartbeat: { ms: number }): boolean => {
    const q = sql.trim();
    let m: RegExpExecArray | null;
    if (/^SET\b/i.test(q)) {
      m = /@(?:master|source)_heartbeat_period\s*=\s*(\d+)/i.exec(q);
      if (m) heartbeat.ms = Math.max(1, Number(BigInt(m[1]!) / 1_000_000n));
      conn.writeOk();
      return true;
    }
    if ((m = /^SELECT\s+VERSION\(\)\s+AS\s+(\w+)\s*,\s*@@server_id\s+AS\s+(\w+)\s*$/i.exec(q))) {
      writeRows(conn, [m[1]!, m[2]!], [{ [m[1]!]: version, [m[2]!]: 1 }]);
      return true;
    }
    if ((m = /^SELECT\s+VERSION\(\)\s+AS\s+(\w+)\s*$/i.exec(q)) || (m = /^SELECT\s+VERSION\(\)()\s*$/i.exec(q))) {
      const name = m[1] || 'VERSION()';
      writeRows(conn, [name], [{ [name]: version }]);
      return true;
    }
    if ((m = /^select\s+@@GLOBAL\.binlog_checksum\s+as\s+(\w+)/i.exec(q))) {
      writeRows(conn, [m[1]!], [{ [m[1]!]: 'CRC32' }]);
      return true;
    }
    if ((m = /^SELECT\s+@@(?:global\.)?(\w+)\s+AS\s+(\w+)\s*$/i.exec(q))) {
      writeRows(conn, [m[2]!], [{ [m[2]!]: variables[m[1]!.toLowerCase()] ?? null }]);
      return true;
    }
    if (/^SHOW\s+GLOBAL\s+VARIABLES\s+WHERE\s+Variable_name\s+IN/i.test(q)) {
      const names = [...q.matchAll(/'([^']+)'/g)].map((x) => x[1]!);
      writeRows(conn, ['Variable_name', 'Value'], names.filter((n) => variables[n] !== undefined).map((n) => ({ Variable_name: n, Value: variables[n]! })));
      return true;
    }
    if (/^SHOW\s+(BINARY\s+LOG|MASTER)\s+STATUS/i.test(q)) {
      writeRows(conn, ['File', 'Position', 'Binlog_Do_DB', 'Binlog_Ignore_DB', 'Executed_Gtid_Set'], [{ File: options.name, Position: end, Binlog_Do_DB: '', Binlog_Ignore_DB: '', Executed_Gtid_Set: '' }]);
      return true;
    }
    if (/^SHOW\s+(BINARY|MASTER)\s+LOGS/i.test(q)) {
      writeRows(conn, ['Log_name', 'File_size', 'Encrypted'], [{ Log_name: options.name, File_size: end, Encrypted: 'No' }]);
      return true;
    }
    if (/information_schema\.COLLATION_CHARACTER_SET_APPLICABILITY/i.test(q)) {
      // (MariaDB 10.10+'s columns: MySQL has no ID there.)
      conn.writeError({ message: "Unknown column 'ID' in 'field list'", code: 1054 });
      return true;
    }
    if ((m = /^SELECT\s+UNIX_TIMESTAMP\(NOW\(6\)\)\s*\*\s*1000\s+AS\s+(\w+)\s*$/i.exec(q))) {
      writeRows(conn, [m[1]!], [{ [m[1]!]: Date.now().toFixed(3) }]);
      return true;
    }
    if (/information_schema\.COLLATIONS/i.test(q)) {
      // MySQL 8's collations of the file's text columns (ids as its information_schema numbers them).
      writeRows(conn, ['id', 'name', 'charset'], [
        { id: 8, name: 'latin1_swedish_ci', charset: 'latin1' },
        { id: 33, name: 'utf8mb3_general_ci', charset: 'utf8mb3' },
        { id: 45, name: 'utf8mb4_general_ci', charset: 'utf8mb4' },
        { id: 63, name: 'binary', charset: 'binary' },
        { id: 255, name: 'utf8mb4_0900_ai_ci', charset: 'utf8mb4' },
      ]);
      return true;
    }
    if ((m = /^SELECT\s+(?:UTC_TIMESTAMP|NOW|UNIX_TIMESTAMP)\((\d?)\)\s+AS\s+(\w+)\s*$/i.exec(q))) {
      writeRows(conn, [m[2]!], [{ [m[2]!]: /UNIX/i.test(q) ? Date.now() / 1000 : new Date().toISOString().replace('T', ' ').replace('Z', '') }]);
      return true;
    }
    return false;
  };

  const server = mysql.createServer((raw: unknown) => {
    const conn = raw as ServerConnection;
    open.add(conn);
    const heartbeat = { ms: options.heartbeatMs ?? 1000 };
    conn.stream.on('close', () => open.delete(conn));
    // (A replica that goes away is no error here.)
    conn.on('error', () => undefined);
    conn.serverHandshake({ protocolVersion: 10, serverVersion: version, connectionId: 1, statusFlags: 2, characterSet: 255, capabilityFlags: CAPABILITIES,
      // (Any user: after the OK, the client's first command starts at sequence 0.)
      authCallback: (_params: unknown, done: (error: null) => void) => {
        done(null);
        responded(conn);
      },
    });
    const onQuery = (sql: string): void => {
      queries.push(sql);
      if (answer(conn, sql, heartbeat)) responded(conn);
      else void forward(conn, sql).then(() => responded(conn));
    };
    conn.on('query', onQuery as (...args: never[]) => void);
    // (mysql2's server hands SET statements sent as queries over as prepared statements too: a SELECT is a real one.)
    conn.on('stmt_prepare', ((sql: string) => {
      if (!/^\s*SELECT\b/i.test(sql)) return onQuery(sql);
      queries.push(`PREPARE ${sql}`);
      prepareOk(conn, (sql.match(/\?/g) ?? []).length, INFORMATION_SCHEMA_COLUMNS);
      responded(conn);
    }) as (...args: never[]) => void);
    conn.on('stmt_execute', ((_id: number, _flags: number, _iterations: number, values: unknown[] | null) => {
      const [database, table] = (values ?? []).map(String);
      const rows = options.tableColumns?.(database ?? '', table ?? '') ?? [];
      conn.writeColumns(INFORMATION_SCHEMA_COLUMNS.map(column));
      for (const row of rows) conn.writePacket(binaryRow(INFORMATION_SCHEMA_COLUMNS.map((n) => row[n] ?? null)));
      conn.writeEof();
      responded(conn);
    }) as (...args: never[]) => void);
    conn.on('packet', ((packet: { buffer: Buffer; start: number; end: number }, known: boolean, command: number) => {
      if (known) return;
      // (COM_STMT_CLOSE and COM_STMT_RESET of the prepared statement above: no answer is awaited for a close.)
      if (command === COM_STMT_CLOSE) return;
      if (command === COM_REGISTER_SLAVE) {
        conn.writeOk();
        responded(conn);
        return;
      }
      if (command !== COM_BINLOG_DUMP && command !== COM_BINLOG_DUMP_GTID) {
        conn.writeError({ message: `the recorded source does not take command ${command}`, code: 1047 });
        responded(conn);
        return;
      }
      // (The packet's body from its command byte: after the 4-byte header.)
      const body = packet.buffer.subarray(packet.start + 4 + 1, packet.end);
      let flags = 0;
      let file = '';
      let position = 4;
      if (command === COM_BINLOG_DUMP) {
        position = body.readUInt32LE(0);
        flags = body.readUInt16LE(4);
        file = body.toString('utf8', 10).replace(/\0.*$/s, '');
      }
      let executed: Set<string> | undefined;
      if (command === COM_BINLOG_DUMP_GTID) {
        flags = body.readUInt16LE(0);
        const nameLength = body.readUInt32LE(6);
        file = body.toString('utf8', 10, 10 + nameLength);
        position = Number(body.readBigUInt64LE(10 + nameLength));
        executed = decodeGtidSet(body.subarray(10 + nameLength + 8 + 4));
      }
      dumps.push({ command: command === COM_BINLOG_DUMP ? 'dump' : 'dump-gtid', flags, file, position, ...(executed ? { gtids: [...executed].join(',') } : {}) });
      stream(conn, options.heartbeatV2 === true || (flags & DUMP_HEARTBEAT_V2) !== 0, file || options.name, Math.max(4, position), heartbeat, executed);
    }) as (...args: never[]) => void);
  });

  const send = (conn: ServerConnection, event: Buffer): void => {
    const buffer = Buffer.alloc(4 + 1 + event.length);
    event.copy(buffer, 5);
    conn.writePacket(new Packet(0, buffer, 0, buffer.length));
  };

  /**
   * Streams the file from `from`; with a GTID set (COM_BINLOG_DUMP_GTID),
   * from its start, leaving out the transactions the set holds, as MySQL does.
   */
  function stream(conn: ServerConnection, v2: boolean, file: string, from: number, heartbeat: { ms: number }, executed?: Set<string>): void {
    if (file !== options.name) {
      conn.writeError({ message: `Could not find first log file name in binary log index file (${file})`, code: 1236 });
      return;
    }
    const name = Buffer.from(options.name);
    send(conn, madeEvent(ROTATE, Buffer.concat([Buffer.from(new BigUint64Array([BigInt(from)]).buffer), name]), 0, ARTIFICIAL));
    let offset = 4;
    let skipping = false;
    for (const event of events) {
      if (event[4] === GTID) skipping = executed?.has(gtidOf(event)) ?? false;
      if (event[4] === FORMAT_DESCRIPTION || (offset >= from && !skipping)) send(conn, event);
      offset = event.readUInt32LE(13);
    }
    // Idle: heartbeats, at the end of the file, as the dump thread sends them.
    const beat = (): void => {
      if (conn.stream.destroyed) return;
      if (v2) {
        const body = Buffer.concat([lengthEncoded(1), lengthEncoded(name.length), name, lengthEncoded(2), lengthEncoded(lengthEncoded(end).length), lengthEncoded(end), lengthEncoded(0)]);
        send(conn, madeEvent(HEARTBEAT_V2, body, 0));
        heartbeats.v2++;
      } else {
        send(conn, madeEvent(HEARTBEAT, name, end));
        heartbeats.v1++;
      }
      const timer = setTimeout(beat, heartbeat.ms);
      timers.add(timer);
    };
    beat();
  }

  await new Promise<void>((resolve) => (server as unknown as { listen(port: number, host: string, ready: () => void): void }).listen(0, '127.0.0.1', resolve));
  const port = ((server as unknown as { _server: { address(): AddressInfo } })._server.address()).port;
  return {
    port,
    url: (user = 'repl') => `mysql://${user}@127.0.0.1:${port}`,
    queries,
    heartbeats,
    dumps,
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      for (const conn of open) conn.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await backing.end().catch(() => undefined);
    },
  };
}
