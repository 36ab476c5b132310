import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import { parseConnectionUrl, type Endpoint, type SslMode } from './connection-url.js';
import type { Settings } from './settings.js';
import { registerSecret } from '../log/secrets.js';

export type Role = 'source' | 'replica';

/**
 * Builds the endpoint for the source or the replica from the settings. A
 * password given on its own (file, then environment/config) overrides one in
 * the URL. Every password seen is registered as a secret, so the logger and
 * the CLI's error printer can scrub it from anything they write.
 */
export function resolveEndpoint(settings: Settings, role: Role): Endpoint {
  const url = role === 'source' ? settings.source : settings.replica;
  const envName = role === 'source' ? 'BINLOG_SYNC_SOURCE' : 'BINLOG_SYNC_REPLICA';
  if (!url) throw new ConfigError(`--${role} is required (or set ${envName})`);
  const parsed = parseConnectionUrl(url, `--${role}`);
  if (parsed.password) registerSecret(parsed.password);

  const passwordFile = role === 'source' ? settings.sourcePasswordFile : settings.replicaPasswordFile;
  const password = role === 'source' ? settings.sourcePassword : settings.replicaPassword;
  const endpoint: Endpoint = {
    ...parsed,
    sslMode: (role === 'source' ? settings.sourceSslMode : settings.replicaSslMode) as SslMode,
  };
  if (passwordFile) endpoint.password = readPasswordFile(passwordFile, role);
  else if (password !== undefined) endpoint.password = password;
  if (endpoint.password) registerSecret(endpoint.password);

  const ca = role === 'source' ? settings.sourceSslCa : settings.replicaSslCa;
  const cert = role === 'source' ? settings.sourceSslCert : settings.replicaSslCert;
  const key = role === 'source' ? settings.sourceSslKey : settings.replicaSslKey;
  if (ca) endpoint.sslCa = ca;
  if (cert) endpoint.sslCert = cert;
  if (key) endpoint.sslKey = key;
  return endpoint;
}

function readPasswordFile(path: string, role: Role): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'does not exist' : 'cannot be read';
    throw new ConfigError(`--${role}-password-file ${path} ${reason}`, { cause: error });
  }
  // One trailing newline is what `echo secret > file` leaves; it is not part of the password.
  return text.replace(/\r?\n$/, '');
}
