import { ConfigError } from '../errors.js';

/** TLS modes with the mysql client's meanings. */
export const SSL_MODES = ['DISABLED', 'PREFERRED', 'REQUIRED', 'VERIFY_CA', 'VERIFY_IDENTITY'] as const;
export type SslMode = (typeof SSL_MODES)[number];

/**
 * Where and how to connect to one server. Driver-neutral: the mysql2 adapter
 * turns it into connection options. `password` is a secret and must never be
 * logged; use `describeEndpoint` for messages.
 */
export interface Endpoint {
  host: string;
  port: number;
  user: string;
  password?: string;
  sslMode: SslMode;
  sslCa?: string;
  sslCert?: string;
  sslKey?: string;
}

const DEFAULT_PORT = 3306;

/**
 * Parses `mysql://user[:password]@host[:port]` (or `mariadb://`). The setting
 * name is part of every error so the user knows which flag to fix; the URL
 * itself is never echoed, because it may hold a password.
 */
export function parseConnectionUrl(text: string, setting: string): Omit<Endpoint, 'sslMode'> {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError(
      `${setting} is not a valid URL; expected mysql://user[:password]@host[:port]`,
    );
  }
  if (url.protocol !== 'mysql:' && url.protocol !== 'mariadb:') {
    throw new ConfigError(
      `${setting} must start with mysql:// or mariadb:// (got ${url.protocol}//)`,
    );
  }
  if (!url.hostname) throw new ConfigError(`${setting} has no host; expected mysql://user@host[:port]`);
  if (!url.username) throw new ConfigError(`${setting} has no user name; expected mysql://user@host[:port]`);
  if (url.pathname && url.pathname !== '/') {
    throw new ConfigError(
      `${setting} names a database (${decodeURIComponent(url.pathname.slice(1))}); ` +
        'leave it out of the URL and choose databases with --databases',
    );
  }
  const port = url.port ? Number(url.port) : DEFAULT_PORT;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ConfigError(`${setting} has an invalid port`);
  }
  // IPv6 literals come back bracketed from URL; the driver wants them bare.
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const endpoint: Omit<Endpoint, 'sslMode'> = {
    host,
    port,
    user: safeDecode(url.username, setting),
  };
  if (url.password) endpoint.password = safeDecode(url.password, setting);
  return endpoint;
}

function safeDecode(part: string, setting: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new ConfigError(`${setting} has a badly percent-encoded user or password`);
  }
}

/** `user@host:port`, safe for logs and messages. */
export function describeEndpoint(endpoint: Pick<Endpoint, 'user' | 'host' | 'port'>): string {
  const host = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host;
  return `${endpoint.user}@${host}:${endpoint.port}`;
}
