// The MySQL/MariaDB error numbers and driver error codes binlog-sync acts on,
// in one table, and the one rule that tells a failure worth another try from
// one that will happen again. Pure: no driver is imported here, so the parts
// that decide (checks, the applier's error handling) can use it freely.

/** What a mysql2 (or Node socket) error carries; every field may be missing. */
export interface DriverError {
  /** The server's error number (or the client library's, 2000 and up). */
  errno?: number;
  /** mysql2's name for the errno, or a driver or socket code such as `ECONNRESET`. */
  code?: string;
  /** The server's own message, without the driver's prefix. */
  sqlMessage?: string;
  message?: string;
}

// Server error numbers (errno), named as in the MySQL and MariaDB manuals.
export const ER_DB_CREATE_EXISTS = 1007;
/** Access denied: the user lacks a privilege the statement needs (e.g. BINLOG REPLAY). */
export const ER_SPECIFIC_ACCESS_DENIED = 1227;
export const ER_DB_DROP_EXISTS = 1008;
export const ER_TABLE_EXISTS_ERROR = 1050;
export const ER_BAD_TABLE_ERROR = 1051;
export const ER_SERVER_SHUTDOWN = 1053;
export const ER_BAD_FIELD_ERROR = 1054;
export const ER_DUP_FIELDNAME = 1060;
export const ER_DUP_ENTRY = 1062;
export const ER_DUP_KEYNAME = 1061;
export const ER_CANT_DROP_FIELD_OR_KEY = 1091;
export const ER_NO_SUCH_TABLE = 1146;
export const ER_NOT_ALLOWED_COMMAND = 1148;
export const ER_LOCK_WAIT_TIMEOUT = 1205;
export const ER_LOCK_DEADLOCK = 1213;
/** XA COMMIT/ROLLBACK of an XA transaction the server does not know (already ended, or never prepared). */
export const ER_XAER_NOTA = 1397;
/** A read-only server refusing a write (--read-only, --super-read-only). */
export const ER_OPTION_PREVENTS_STATEMENT = 1290;
/** MariaDB: the connection was killed (KILL, a server shutting down). */
export const ER_CONNECTION_KILLED = 1927;
/** MySQL 8: loading local data is disabled on the client or the server. */
export const ER_CLIENT_LOCAL_FILES_DISABLED = 3948;
/** MariaDB: local infile is disabled on the client or the server. */
export const ER_LOAD_INFILE_CAPABILITY_DISABLED = 4166;
// Client errors: the connection went away under a query.
export const CR_SERVER_GONE_ERROR = 2006;
export const CR_SERVER_LOST = 2013;

/**
 * Error codes (`code`): mysql2's for protocol states, Node's for sockets and
 * TLS, and the server error names mysql2 sets beside the errno where we
 * switch on the name.
 */
export const DriverCode = {
  PROTOCOL_CONNECTION_LOST: 'PROTOCOL_CONNECTION_LOST',
  PROTOCOL_SEQUENCE_TIMEOUT: 'PROTOCOL_SEQUENCE_TIMEOUT',
  HANDSHAKE_NO_SSL_SUPPORT: 'HANDSHAKE_NO_SSL_SUPPORT',
  ECONNRESET: 'ECONNRESET',
  ECONNREFUSED: 'ECONNREFUSED',
  EPIPE: 'EPIPE',
  ETIMEDOUT: 'ETIMEDOUT',
  EHOSTUNREACH: 'EHOSTUNREACH',
  ENETUNREACH: 'ENETUNREACH',
  ENOTFOUND: 'ENOTFOUND',
  EAI_AGAIN: 'EAI_AGAIN',
  ERR_TLS_CERT_ALTNAME_INVALID: 'ERR_TLS_CERT_ALTNAME_INVALID',
  ER_ACCESS_DENIED_ERROR: 'ER_ACCESS_DENIED_ERROR',
  ER_DBACCESS_DENIED_ERROR: 'ER_DBACCESS_DENIED_ERROR',
  ER_ACCESS_DENIED_NO_PASSWORD_ERROR: 'ER_ACCESS_DENIED_NO_PASSWORD_ERROR',
} as const;

/** A stored procedure or function of that name already exists / does not exist. */
const ER_SP_ALREADY_EXISTS = 1304;
const ER_SP_DOES_NOT_EXIST = 1305;
/** An event of that name already exists / does not exist. */
const ER_EVENT_ALREADY_EXISTS = 1537;
const ER_EVENT_DOES_NOT_EXIST = 1539;

/** Errors a re-run DDL gives when its first run already took effect (it exists, or is already gone). */
export const ALREADY_APPLIED_ERRNOS: ReadonlySet<number> = new Set([
  ER_SP_ALREADY_EXISTS,
  ER_SP_DOES_NOT_EXIST,
  ER_EVENT_ALREADY_EXISTS,
  ER_EVENT_DOES_NOT_EXIST,
  ER_DB_CREATE_EXISTS,
  ER_DB_DROP_EXISTS,
  ER_TABLE_EXISTS_ERROR,
  ER_BAD_TABLE_ERROR,
  ER_BAD_FIELD_ERROR,
  ER_DUP_FIELDNAME,
  ER_DUP_KEYNAME,
  ER_CANT_DROP_FIELD_OR_KEY,
  ER_NO_SUCH_TABLE,
]);

/** Errors that mean the server or client does not allow LOAD DATA LOCAL INFILE. */
export const LOAD_DATA_REFUSED: ReadonlySet<number> = new Set([ER_NOT_ALLOWED_COMMAND, ER_CLIENT_LOCAL_FILES_DISABLED, ER_LOAD_INFILE_CAPABILITY_DISABLED]);

// "The connection or the moment was bad", not "the data is": the same
// statement may well succeed on a new connection or a moment later.
const TRANSIENT_ERRNOS: ReadonlySet<number> = new Set([
  ER_SERVER_SHUTDOWN,
  ER_LOCK_WAIT_TIMEOUT,
  ER_LOCK_DEADLOCK,
  ER_CONNECTION_KILLED,
  CR_SERVER_GONE_ERROR,
  CR_SERVER_LOST,
]);
const TRANSIENT_CODES: ReadonlySet<string> = new Set([
  DriverCode.PROTOCOL_CONNECTION_LOST,
  DriverCode.PROTOCOL_SEQUENCE_TIMEOUT,
  DriverCode.ECONNRESET,
  DriverCode.ECONNREFUSED,
  DriverCode.EPIPE,
  DriverCode.ETIMEDOUT,
  DriverCode.EHOSTUNREACH,
  DriverCode.ENETUNREACH,
]);
/** mysql2's words for a connection that died earlier (no code attached). */
const CLOSED = /connection is in closed state|connection lost/i;

/**
 * True when a driver error is transient (a lost or refused connection, a
 * server shutting down, a deadlock or lock wait): trying again may succeed.
 * Anything else, an unknown errno included, is permanent.
 */
export function isTransientDriverError(error: unknown): boolean {
  if (error === null || error === undefined) return false;
  const e = error as DriverError;
  return TRANSIENT_ERRNOS.has(e.errno ?? -1) || TRANSIENT_CODES.has(e.code ?? '') || CLOSED.test(e.message ?? '');
}
