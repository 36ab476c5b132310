// Reads the session state a Query event carries in its status variables:
// sql_mode (DDL must be parsed and run with the source session's mode, e.g.
// ANSI_QUOTES or ORACLE), flags2 (foreign_key_checks), the session's time
// zone and the statement's microseconds (MariaDB's Q_HRNOW, MySQL's
// Q_MICROSECONDS): DDL that converts or defaults TIMESTAMPs, or fills
// NOW(6), is only right under the same zone and time.
//
// The adapter hands over the exact bytes (see zongji-raw.ts). A string is
// still accepted (zongji's own UTF-8-decoded form): a byte >= 0x80 that was
// not valid UTF-8 came back as U+FFFD, so re-encoding gives the exact bytes
// everywhere else, and a value touched by a replacement is reported as unknown.

const Q_FLAGS2_CODE = 0;
const Q_SQL_MODE_CODE = 1;
const Q_CATALOG_CODE = 2;
const Q_AUTO_INCREMENT = 3;
const Q_CHARSET_CODE = 4;
const Q_TIME_ZONE_CODE = 5;
const Q_CATALOG_NZ_CODE = 6;
const Q_LC_TIME_NAMES_CODE = 7;
const Q_CHARSET_DATABASE_CODE = 8;
const Q_TABLE_MAP_FOR_UPDATE_CODE = 9;
const Q_MASTER_DATA_WRITTEN_CODE = 10;
const Q_INVOKER = 11;
/** MySQL: the statement's microseconds (3 bytes). */
const Q_MICROSECONDS = 13;
/** MariaDB: the statement's microseconds (3 bytes), written when the statement used them. */
const Q_HRNOW = 128;

/** Fixed sizes of the variables we step over or read. */
const FIXED_SIZES: Record<number, number> = {
  [Q_FLAGS2_CODE]: 4,
  [Q_SQL_MODE_CODE]: 8,
  [Q_AUTO_INCREMENT]: 4,
  [Q_CHARSET_CODE]: 6,
  [Q_LC_TIME_NAMES_CODE]: 2,
  [Q_CHARSET_DATABASE_CODE]: 2,
  [Q_TABLE_MAP_FOR_UPDATE_CODE]: 8,
  [Q_MASTER_DATA_WRITTEN_CODE]: 4,
  [Q_MICROSECONDS]: 3,
  [Q_HRNOW]: 3,
};

const OPTION_NO_FOREIGN_KEY_CHECKS = 1 << 26;
const REPLACEMENT_LEAD = 0xef;

export interface QueryStatus {
  sqlMode?: bigint;
  flags2?: number;
  /** The session's time zone as the server names it ('SYSTEM', '+05:30', 'Europe/Paris'), when the statement used it. */
  timeZone?: string;
  /** The statement time's microseconds, when the server wrote them (the seconds are the event's timestamp). */
  microseconds?: number;
  /**
   * The session's character_set_client, collation_connection and
   * collation_server, as collation ids: views, routines and events keep the
   * first two.
   */
  charset?: { client: number; connection: number; server: number };
  /**
   * The account the statement ran as (Q_INVOKER), written for statements
   * whose object takes it as DEFINER when they name none (ALTER EVENT).
   */
  invoker?: { user: string; host: string };
}

/**
 * The status variables of a Query event: its exact bytes, or (lossy) the
 * string zongji decoded them to. Reads up to the first variable it does not
 * know, or one that is cut short.
 */
export function parseStatusVars(statusVars: Buffer | string): QueryStatus {
  const exact = typeof statusVars !== 'string';
  const bytes = exact ? statusVars : Buffer.from(statusVars, 'utf8');
  /** A replacement inside a decoded string means lost bytes: this value and every offset after it are unknown. */
  const lost = (slice: Buffer): boolean => !exact && slice.includes(REPLACEMENT_LEAD);
  const out: QueryStatus = {};
  let offset = 0;
  while (offset < bytes.length) {
    const code = bytes[offset]!;
    if (!exact && code === REPLACEMENT_LEAD) break; // a code byte was lost; nothing after it is reliable
    offset += 1;
    const fixed = FIXED_SIZES[code];
    if (fixed !== undefined) {
      const slice = bytes.subarray(offset, offset + fixed);
      if (slice.length < fixed || lost(slice)) break;
      if (code === Q_FLAGS2_CODE) out.flags2 = slice.readUInt32LE(0);
      if (code === Q_SQL_MODE_CODE) out.sqlMode = slice.readBigUInt64LE(0);
      if (code === Q_HRNOW || code === Q_MICROSECONDS) out.microseconds = slice.readUIntLE(0, 3);
      if (code === Q_CHARSET_CODE) out.charset = { client: slice.readUInt16LE(0), connection: slice.readUInt16LE(2), server: slice.readUInt16LE(4) };
      offset += fixed;
      continue;
    }
    if (code === Q_CATALOG_CODE) {
      offset += 1 + bytes[offset]! + 1; // length, name, NUL
      continue;
    }
    if (code === Q_TIME_ZONE_CODE || code === Q_CATALOG_NZ_CODE) {
      if (offset >= bytes.length) break;
      const length = bytes[offset]!;
      const value = bytes.subarray(offset + 1, offset + 1 + length);
      if (value.length < length || lost(value)) break;
      if (code === Q_TIME_ZONE_CODE) out.timeZone = value.toString('latin1');
      offset += 1 + length;
      continue;
    }
    if (code === Q_INVOKER) {
      // user and host, each with a one-byte length
      if (offset >= bytes.length) break;
      const hostAt = offset + 1 + bytes[offset]!;
      if (hostAt >= bytes.length) break;
      const end = hostAt + 1 + bytes[hostAt]!;
      const user = bytes.subarray(offset + 1, hostAt);
      const host = bytes.subarray(hostAt + 1, end);
      if (end > bytes.length || lost(user) || lost(host)) break;
      out.invoker = { user: user.toString('utf8'), host: host.toString('utf8') };
      offset = end;
      continue;
    }
    break; // anything else is unknown to us (or comes after all we read)
  }
  return out;
}

export function noForeignKeyChecks(status: QueryStatus): boolean | undefined {
  return status.flags2 === undefined ? undefined : (status.flags2 & OPTION_NO_FOREIGN_KEY_CHECKS) !== 0;
}

/** sql_mode bits in server order (MariaDB and MySQL share the first 31). */
const SQL_MODE_NAMES = [
  'REAL_AS_FLOAT',
  'PIPES_AS_CONCAT',
  'ANSI_QUOTES',
  'IGNORE_SPACE',
  'IGNORE_BAD_TABLE_OPTIONS',
  'ONLY_FULL_GROUP_BY',
  'NO_UNSIGNED_SUBTRACTION',
  'NO_DIR_IN_CREATE',
  'POSTGRESQL',
  'ORACLE',
  'MSSQL',
  'DB2',
  'MAXDB',
  'NO_KEY_OPTIONS',
  'NO_TABLE_OPTIONS',
  'NO_FIELD_OPTIONS',
  'MYSQL323',
  'MYSQL40',
  'ANSI',
  'NO_AUTO_VALUE_ON_ZERO',
  'NO_BACKSLASH_ESCAPES',
  'STRICT_TRANS_TABLES',
  'STRICT_ALL_TABLES',
  'NO_ZERO_IN_DATE',
  'NO_ZERO_DATE',
  'ALLOW_INVALID_DATES',
  'ERROR_FOR_DIVISION_BY_ZERO',
  'TRADITIONAL',
  'NO_AUTO_CREATE_USER',
  'HIGH_NOT_PRECEDENCE',
  'NO_ENGINE_SUBSTITUTION',
  'PAD_CHAR_TO_FULL_LENGTH',
  'EMPTY_STRING_IS_NULL',
  'SIMULTANEOUS_ASSIGNMENT',
  'TIME_ROUND_FRACTIONAL',
];

/**
 * The sql_mode as the comma-separated names SET SESSION sql_mode accepts.
 * Bits that only some servers know (and the composite modes, which the
 * server expands itself) are left out rather than risking an error.
 */
export function sqlModeNames(mode: bigint, flavor: 'mariadb' | 'mysql'): string {
  // Pure composites are already expanded into their bits. MariaDB's ORACLE
  // (and friends) is more than its bits: it switches the parser, so it stays.
  const skip = new Set(['MYSQL323', 'MYSQL40', 'ANSI', 'TRADITIONAL']);
  if (flavor === 'mysql') {
    const mariadbOnly = ['IGNORE_BAD_TABLE_OPTIONS', 'POSTGRESQL', 'ORACLE', 'MSSQL', 'DB2', 'MAXDB', 'NO_KEY_OPTIONS', 'NO_TABLE_OPTIONS'];
    for (const n of [...mariadbOnly, 'NO_FIELD_OPTIONS', 'NO_AUTO_CREATE_USER', 'EMPTY_STRING_IS_NULL', 'SIMULTANEOUS_ASSIGNMENT']) skip.add(n);
  }
  const names: string[] = [];
  SQL_MODE_NAMES.forEach((name, bit) => {
    if ((mode >> BigInt(bit)) & 1n && !skip.has(name)) names.push(name);
  });
  return names.join(',');
}
