// The mysql2 adapter for ordinary (non-binlog) connections: turns an Endpoint
// into driver options and driver errors into ours, with messages that say what
// to do and never carry a password.
import { readFileSync } from 'node:fs';
import mysql, { type Connection, type ConnectionOptions } from 'mysql2/promise';
import type { Connection as CoreConnection, QueryOptions } from 'mysql2';
import { describeEndpoint, type Endpoint } from '../config/connection-url.js';
import { AuthenticationError, ConfigError, ConnectionError, TlsError } from '../errors.js';
import { installLargeQueries } from './large-query.js';
import { DriverCode, type DriverError } from './server-errors.js';

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
    case 'PREFERRED': // TLS when the server offers it (see connect(): falls back to plaintext)
    case 'REQUIRED':
      return { ...identity, rejectUnauthorized: false };
    // mysql2's own switches: rejectUnauthorized checks the chain, verifyIdentity
    // the host name or IP against the certificate.
    case 'VERIFY_CA':
      if (!ca) throw new ConfigError(`--${role}-ssl-mode VERIFY_CA needs --${role}-ssl-ca`);
      return { ...identity, rejectUnauthorized: true, verifyIdentity: false } as ConnectionOptions['ssl'];
    case 'VERIFY_IDENTITY':
      if (!ca) throw new ConfigError(`--${role}-ssl-mode VERIFY_IDENTITY needs --${role}-ssl-ca`);
      return { ...identity, rejectUnauthorized: true, verifyIdentity: true } as ConnectionOptions['ssl'];
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

/** Endpoints whose server turned out to offer no TLS (PREFERRED then means plaintext). */
const plaintextServers = new Set<string>();
const endpointKey = (e: Endpoint): string => `${e.host}:${e.port}`;

/**
 * Driver options for an endpoint as connections should really use them: for
 * PREFERRED, plaintext once the server is known to offer no TLS. Used for
 * the binlog stream too, after connect() has found out.
 */
export function effectiveOptions(endpoint: Endpoint, role: string, extra: ConnectionOptions = {}): ConnectionOptions {
  return connectionOptions(settledEndpoint(endpoint), role, extra);
}

/** The endpoint with PREFERRED settled as connect() found it (for a thread that has not connected itself). */
export function settledEndpoint(endpoint: Endpoint): Endpoint {
  const plaintext = endpoint.sslMode === 'PREFERRED' && plaintextServers.has(endpointKey(endpoint));
  return plaintext ? { ...endpoint, sslMode: 'DISABLED' } : endpoint;
}

/** Opens a connection, mapping failures to ConnectionError / AuthenticationError / TlsError. */
export async function connect(endpoint: Endpoint, role: string, extra: ConnectionOptions = {}): Promise<Connection> {
  try {
    return await open(effectiveOptions(endpoint, role, extra));
  } catch (error) {
    // PREFERRED, as the mysql client means it: TLS if the server offers it, else plaintext.
    if (endpoint.sslMode === 'PREFERRED' && (error as DriverError).code === DriverCode.HANDSHAKE_NO_SSL_SUPPORT) {
      plaintextServers.add(endpointKey(endpoint));
      try {
        return await open(effectiveOptions(endpoint, role, extra));
      } catch (retryError) {
        throw connectionFailure(retryError, endpoint, role);
      }
    }
    throw connectionFailure(error, endpoint, role);
  }
}

async function open(options: ConnectionOptions): Promise<Connection> {
  installLargeQueries();
  const conn = await mysql.createConnection(options);
  // A connection that dies between queries emits 'error'; the next query
  // reports it, so the event itself must not crash the process.
  conn.on('error', () => undefined);
  return conn;
}

/** A driver error from connecting, as one of ours with a hint. */
export function connectionFailure(error: unknown, endpoint: Endpoint, role: string): Error {
  if (error instanceof ConfigError) return error;
  const e = error as DriverError;
  const where = `${role} ${describeEndpoint(endpoint)}`;
  const tls = tlsFailure(e, where, role);
  if (tls) return tls;
  switch (e.code) {
    case DriverCode.ER_ACCESS_DENIED_ERROR:
    case DriverCode.ER_DBACCESS_DENIED_ERROR:
    case DriverCode.ER_ACCESS_DENIED_NO_PASSWORD_ERROR:
      return new AuthenticationError(
        `the ${where} refused the user name or password; check --${role} and its password (--${role}-password-file or BINLOG_SYNC_${role.toUpperCase()}_PASSWORD)`,
        { cause: error },
      );
    case DriverCode.ECONNREFUSED:
      return new ConnectionError(`cannot connect to the ${where}: connection refused (is the server running and the port right?)`, {
        cause: error,
      });
    case DriverCode.ENOTFOUND:
    case DriverCode.EAI_AGAIN:
      return new ConnectionError(`cannot connect to the ${where}: unknown host ${endpoint.host}`, { cause: error });
    case DriverCode.ETIMEDOUT:
      return new ConnectionError(`cannot connect to the ${where}: timed out`, { cause: error });
    default:
      return new ConnectionError(`cannot connect to the ${where}: ${e.message ?? String(error)}`, { cause: error });
  }
}

/** Certificate and TLS negotiation failures, named so the user knows which setting to change. */
function tlsFailure(e: DriverError, where: string, role: string): Error | undefined {
  const code = e.code ?? '';
  if (code === DriverCode.HANDSHAKE_NO_SSL_SUPPORT) {
    return new TlsError(`the ${where} does not offer TLS, which --${role}-ssl-mode requires (plaintext refused)`, { cause: e });
  }
  if (code === DriverCode.ERR_TLS_CERT_ALTNAME_INVALID || /does not match certificate's altnames|altname/i.test(e.message ?? '')) {
    return new TlsError(`the ${where} presented a certificate for another host name (${e.message}); VERIFY_IDENTITY refuses it`, { cause: e });
  }
  if (
    /^(CERT_|UNABLE_TO_|SELF_SIGNED_CERT|DEPTH_ZERO_SELF_SIGNED_CERT|ERR_SSL_|ERR_TLS_)/.test(code) ||
    /certificate|self.signed/i.test(e.message ?? '')
  ) {
    return new TlsError(
      `the ${where} presented a certificate that is not trusted (${code || 'TLS'}: ${e.message}); check --${role}-ssl-ca`,
      { cause: e },
    );
  }
  return undefined;
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
