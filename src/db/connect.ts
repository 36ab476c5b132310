// The mysql2 adapter for ordinary (non-binlog) connections: turns an Endpoint
// into driver options and driver errors into ours, with messages that say what
// to do and never carry a password.
import { readFileSync } from 'node:fs';
import mysql, { type Connection, type ConnectionOptions } from 'mysql2/promise';
import type { Connection as CoreConnection, QueryOptions } from 'mysql2';
import { describeEndpoint, type Endpoint } from '../config/connection-url.js';
import { AuthenticationError, ConfigError, ConnectionError } from '../errors.js';

export type { Connection } from 'mysql2/promise';

/** mysql2 options that return values exactly: big integers, decimals and dates as strings. */
export const EXACT_VALUE_OPTIONS = {
  supportBigNumbers: true,
  bigNumberStrings: true,
  decimalNumbers: false,
  dateStrings: true,
  jsonStrings: true,
  timezone: 'Z',
  charset: 'UTF8MB4_GENERAL_CI',
} as const;

function readPem(path: string, setting: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`${setting} ${path} cannot be read`, { cause: error });
  }
}

/** TLS options for the mysql client's ssl modes. */
export function sslOptions(endpoint: Endpoint, role: string): ConnectionOptions['ssl'] | undefined {
  const ca = endpoint.sslCa ? readPem(endpoint.sslCa, `--${role}-ssl-ca`) : undefined;
  const cert = endpoint.sslCert ? readPem(endpoint.sslCert, `--${role}-ssl-cert`) : undefined;
  const key = endpoint.sslKey ? readPem(endpoint.sslKey, `--${role}-ssl-key`) : undefined;
  const identity = { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) };
  switch (endpoint.sslMode) {
    case 'DISABLED':
      return undefined;
    case 'PREFERRED':
      // PREFERRED is plaintext when the server offers no TLS; mysql2 cannot
      // negotiate "TLS if offered", so it connects in plaintext unless a CA is given.
      return ca ? { ...identity, rejectUnauthorized: false } : undefined;
    case 'REQUIRED':
      return { ...identity, rejectUnauthorized: false };
    case 'VERIFY_CA':
      if (!ca) throw new ConfigError(`--${role}-ssl-mode VERIFY_CA needs --${role}-ssl-ca`);
      // Chain verified, host name not: checkServerIdentity accepts any name.
      return { ...identity, rejectUnauthorized: true, checkServerIdentity: () => undefined } as ConnectionOptions['ssl'];
    case 'VERIFY_IDENTITY':
      if (!ca) throw new ConfigError(`--${role}-ssl-mode VERIFY_IDENTITY needs --${role}-ssl-ca`);
      return { ...identity, rejectUnauthorized: true };
  }
}

/** mysql2 connection options for an endpoint. */
export function connectionOptions(endpoint: Endpoint, role: string, extra: ConnectionOptions = {}): ConnectionOptions {
  const ssl = sslOptions(endpoint, role);
  return {
    host: endpoint.host,
    port: endpoint.port,
    user: endpoint.user,
    ...(endpoint.password !== undefined ? { password: endpoint.password } : {}),
    ...(ssl ? { ssl } : {}),
    connectTimeout: 10_000,
    ...EXACT_VALUE_OPTIONS,
    ...extra,
  };
}

/** Opens a connection, mapping failures to ConnectionError / AuthenticationError. */
export async function connect(endpoint: Endpoint, role: string, extra: ConnectionOptions = {}): Promise<Connection> {
  try {
    const conn = await mysql.createConnection(connectionOptions(endpoint, role, extra));
    // A connection that dies between queries emits 'error'; the next query
    // reports it, so the event itself must not crash the process.
    conn.on('error', () => undefined);
    return conn;
  } catch (error) {
    throw connectionFailure(error, endpoint, role);
  }
}

interface DriverError {
  code?: string;
  errno?: number;
  message?: string;
}

/** A driver error from connecting, as one of ours with a hint. */
export function connectionFailure(error: unknown, endpoint: Endpoint, role: string): Error {
  if (error instanceof ConfigError) return error;
  const e = error as DriverError;
  const where = `${role} ${describeEndpoint(endpoint)}`;
  switch (e.code) {
    case 'ER_ACCESS_DENIED_ERROR':
    case 'ER_DBACCESS_DENIED_ERROR':
    case 'ER_ACCESS_DENIED_NO_PASSWORD_ERROR':
      return new AuthenticationError(
        `the ${where} refused the user name or password; check --${role} and its password (--${role}-password-file or BINLOG_SYNC_${role.toUpperCase()}_PASSWORD)`,
        { cause: error },
      );
    case 'ECONNREFUSED':
      return new ConnectionError(`cannot connect to the ${where}: connection refused (is the server running and the port right?)`, {
        cause: error,
      });
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new ConnectionError(`cannot connect to the ${where}: unknown host ${endpoint.host}`, { cause: error });
    case 'ETIMEDOUT':
      return new ConnectionError(`cannot connect to the ${where}: timed out`, { cause: error });
    default:
      return new ConnectionError(`cannot connect to the ${where}: ${e.message ?? String(error)}`, { cause: error });
  }
}

/** First row of a query, typed loosely. */
export async function queryOne<T = Record<string, unknown>>(conn: Connection, sql: string, params: unknown[] = []): Promise<T | undefined> {
  const [rows] = await conn.query(sql, params);
  return (rows as T[])[0];
}

/** All rows of a query. */
export async function queryAll<T = Record<string, unknown>>(conn: Connection, sql: string, params: unknown[] = []): Promise<T[]> {
  const [rows] = await conn.query(sql, params);
  return rows as T[];
}

/**
 * The callback-API connection under a promise one, for what only it offers:
 * a query as a stream (rows flow with backpressure instead of being buffered).
 * mysql2's promise wrapper keeps it as `.connection` without declaring it.
 */
export function streamingQuery(conn: Connection, options: QueryOptions, highWaterMark: number): AsyncIterable<unknown> & { destroy(): void } {
  const core = (conn as unknown as { connection: CoreConnection }).connection;
  return core.query(options).stream({ highWaterMark }) as unknown as AsyncIterable<unknown> & { destroy(): void };
}
