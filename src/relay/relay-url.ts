// Pure: where a relay keeps the binlog, from `--to` / `--from`:
// `nats://[user[:password]@]host[:port][,host[:port]...]/STREAM`. Several
// hosts name the servers of one NATS cluster (the client fails over between
// them); `tls://` asks for TLS. The stream's messages are published on one
// subject of their own (`STREAM.binlog`), so a stream made by hand for other
// subjects is told apart from ours.
import { ConfigError } from '../errors.js';

export interface RelayAddress {
  /** `host:port` of each server given. */
  servers: string[];
  stream: string;
  /** The subject the relay publishes on and consumers read. */
  subject: string;
  /** `tls://`: the connection must be TLS. */
  tls: boolean;
  user?: string;
  /** A password in the URL itself (registered as a secret by whoever reads it). */
  password?: string;
}

export const DEFAULT_NATS_PORT = 4222;

/** JetStream stream names: no whitespace, dots, wildcards or path separators (and not too long for a file name). */
const STREAM_NAME = /^[^\s.*>/\\]{1,200}$/;

export function subjectOf(stream: string): string {
  return `${stream}.binlog`;
}

/** Parses a relay URL; `setting` names the flag in errors (`--to`, `--from`). */
export function parseRelayUrl(text: string, setting: string): RelayAddress {
  const expected = `expected nats://host[:port]/STREAM`;
  const m = /^([a-z]+):\/\/([^/]*)\/([^/?#]*)$/i.exec(text.trim());
  if (!m) throw new ConfigError(`${setting} is not a relay URL; ${expected}`);
  const scheme = m[1]!.toLowerCase();
  if (scheme !== 'nats' && scheme !== 'tls') throw new ConfigError(`${setting} must start with nats:// or tls:// (got ${scheme}://)`);
  let authority = m[2]!;
  const address: RelayAddress = { servers: [], stream: decodePart(m[3]!, setting), subject: '', tls: scheme === 'tls' };
  const at = authority.lastIndexOf('@');
  if (at >= 0) {
    const userInfo = authority.slice(0, at);
    authority = authority.slice(at + 1);
    const colon = userInfo.indexOf(':');
    const user = decodePart(colon >= 0 ? userInfo.slice(0, colon) : userInfo, setting);
    if (user) address.user = user;
    if (colon >= 0) address.password = decodePart(userInfo.slice(colon + 1), setting);
  }
  for (const part of authority.split(',')) {
    const hp = /^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::(\d+))?$/i.exec(part.trim());
    if (!hp) throw new ConfigError(`${setting} has an invalid server '${part}'; ${expected}`);
    const port = hp[2] === undefined ? DEFAULT_NATS_PORT : Number(hp[2]);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new ConfigError(`${setting} has an invalid port in '${part}'`);
    address.servers.push(`${hp[1]}:${port}`);
  }
  if (!STREAM_NAME.test(address.stream)) {
    throw new ConfigError(`${setting} must end with a stream name (no spaces, dots, *, > or slashes), e.g. nats://127.0.0.1:4222/BINLOG`);
  }
  address.subject = subjectOf(address.stream);
  return address;
}

/** `nats://host:port/STREAM`, without credentials: for logs and messages. */
export function describeRelay(address: RelayAddress): string {
  return `${address.tls ? 'tls' : 'nats'}://${address.servers.join(',')}/${address.stream}`;
}

function decodePart(part: string, setting: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new ConfigError(`${setting} has a badly escaped part (use %XX escapes)`);
  }
}
