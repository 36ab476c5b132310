// The relay's settings as the relay and its consumers use them: the stream's
// address and credentials (`--to` / `--from`, passwords and tokens from files
// or the environment, registered as secrets the moment they are read), and
// the retention of a stream the relay creates. Parsing is pure and refuses
// bad input with the setting to fix.
import { readFileSync } from 'node:fs';
import type { Settings } from '../config/settings.js';
import { ConfigError } from '../errors.js';
import { registerSecret } from '../log/secrets.js';
import type { NatsOptions, Retention } from './nats-stream.js';
import { parseRelayUrl } from './relay-url.js';

/** The NATS stream of `--to` (relay) or `--from` (start), with its credentials. */
export function resolveNats(settings: Settings, which: 'to' | 'from', name: string): NatsOptions {
  const url = which === 'to' ? settings.to : settings.from;
  if (!url) throw new ConfigError(`--${which} is required (or set ${which === 'to' ? 'BINLOG_SYNC_RELAY_TO' : 'BINLOG_SYNC_FROM'}), e.g. --${which} nats://127.0.0.1:4222/BINLOG`);
  const address = parseRelayUrl(url, `--${which}`);
  registerSecret(address.password);
  const options: NatsOptions = { address, name };
  const password = settings.natsPasswordFile ? readSecretFile(settings.natsPasswordFile, '--nats-password-file') : settings.natsPassword ?? address.password;
  if (password !== undefined) {
    registerSecret(password);
    options.password = password;
  }
  const token = settings.natsTokenFile ? readSecretFile(settings.natsTokenFile, '--nats-token-file') : settings.natsToken;
  if (token !== undefined) {
    registerSecret(token);
    options.token = token;
  }
  if (settings.natsCreds) options.credsFile = settings.natsCreds;
  const tls = {
    ...(settings.natsTlsCa ? { caFile: settings.natsTlsCa } : {}),
    ...(settings.natsTlsCert ? { certFile: settings.natsTlsCert } : {}),
    ...(settings.natsTlsKey ? { keyFile: settings.natsTlsKey } : {}),
  };
  if (Object.keys(tls).length > 0) options.tls = tls;
  return options;
}

/** `--retention-age` and `--retention-bytes`. */
export function resolveRetention(settings: Pick<Settings, 'retentionAge' | 'retentionBytes'>): Retention {
  const retention: Retention = {};
  if (settings.retentionAge !== undefined) retention.maxAgeSeconds = parseAge(settings.retentionAge, '--retention-age');
  if (settings.retentionBytes !== undefined) retention.maxBytes = parseSize(settings.retentionBytes, '--retention-bytes');
  return retention;
}

const AGE_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };

/** `7d`, `36h`, `90m`, `3600s` (or plain seconds) to seconds. */
export function parseAge(text: string, setting: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([smhdw]?)$/i.exec(text.trim());
  const seconds = m ? Number(m[1]) * AGE_UNITS[(m[2] || 's').toLowerCase()]! : Number.NaN;
  if (!(seconds >= 1)) throw new ConfigError(`${setting} must be a duration like 7d, 36h, 90m or 3600s (got '${text}')`);
  return Math.round(seconds);
}

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40 };

/** `50GB`, `500MiB`, `1048576` to bytes. */
export function parseSize(text: string, setting: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  const unit = m ? SIZE_UNITS[m[2]!.toLowerCase()] : undefined;
  const bytes = m && unit !== undefined ? Math.round(Number(m[1]) * unit) : Number.NaN;
  if (!(bytes >= 1)) throw new ConfigError(`${setting} must be a size like 50GB, 500MiB or a number of bytes (got '${text}')`);
  return bytes;
}

function readSecretFile(path: string, setting: string): string {
  try {
    return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : 'cannot be read';
    throw new ConfigError(`${setting} ${path} ${reason}`, { cause: error });
  }
}
