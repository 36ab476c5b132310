// The one table of settings: each has a flag, an environment variable and a
// config-file key, so the CLI options, the environment lookup and the config
// file validation can never drift apart. See shared/spec/cli.md.

export type SettingKind = 'string' | 'path' | 'list' | 'pairs' | 'integer' | 'number' | 'choice';

export interface SettingSpec {
  /** Key in the config file (camelCase; kebab-case is accepted too). */
  key: string;
  /** Long flag without the dashes, e.g. `source-ssl-mode`. */
  flag: string;
  /** Environment variable, e.g. `BINLOG_SYNC_SOURCE_SSL_MODE`. */
  env: string;
  kind: SettingKind;
  description: string;
  /** Placeholder shown in --help, e.g. `URL`. */
  valueName: string;
  choices?: readonly string[];
  /** Shown in --help and used when no source gives a value. */
  defaultText?: string;
  /** Never printed (passwords). */
  secret?: boolean;
  /** May be given as a flag more than once. */
  repeatable?: boolean;
}

const envName = (flag: string): string => `BINLOG_SYNC_${flag.toUpperCase().replace(/-/g, '_')}`;
const camel = (flag: string): string => flag.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());

function spec(flag: string, kind: SettingKind, valueName: string, description: string, extra: Partial<SettingSpec> = {}): SettingSpec {
  return { key: camel(flag), flag, env: envName(flag), kind, valueName, description, ...extra };
}

function endpointSpecs(role: 'source' | 'replica', what: string): SettingSpec[] {
  return [
    spec(role, 'string', 'URL', `${what}: mysql://user[:password]@host[:port]`),
    spec(`${role}-password-file`, 'path', 'FILE', `file holding the ${role} password (keeps it out of the URL and process list)`),
    spec(`${role}-password`, 'string', 'PASSWORD', `the ${role} password itself (environment or config file only, never a flag)`, { secret: true }),
    spec(`${role}-ssl-mode`, 'choice', 'MODE', `TLS for the ${role} connection`, {
      choices: ['DISABLED', 'PREFERRED', 'REQUIRED', 'VERIFY_CA', 'VERIFY_IDENTITY'],
      defaultText: 'PREFERRED',
    }),
    spec(`${role}-ssl-ca`, 'path', 'FILE', `CA certificate for VERIFY_CA / VERIFY_IDENTITY on the ${role}`),
    spec(`${role}-ssl-cert`, 'path', 'FILE', `client certificate for the ${role}`),
    spec(`${role}-ssl-key`, 'path', 'FILE', `client certificate key for the ${role}`),
  ];
}

export const SETTING_SPECS: readonly SettingSpec[] = [
  ...endpointSpecs('source', 'the production server whose binlog is read'),
  ...endpointSpecs('replica', 'the local replica the changes are applied to'),
  spec('state', 'path', 'FILE', 'the SQLite state file', { defaultText: './binlog-sync.sqlite' }),
  spec('databases', 'list', 'LIST', 'comma-separated databases to replicate, e.g. themepark_tracker'),
  spec('include-tables', 'list', 'PATTERNS', 'comma-separated db.table patterns to replicate (* and ? wildcards)'),
  spec('exclude-tables', 'list', 'PATTERNS', 'comma-separated db.table patterns to leave out (wins over include)'),
  spec('rewrite-db', 'pairs', 'FROM=TO', 'apply changes of database FROM to database TO on the replica (repeatable)', {
    repeatable: true,
  }),
  spec('definer', 'string', 'ACCOUNT', "'user'@'host' to put as DEFINER of replicated views, routines and events; default: as the source wrote it"),
  spec('mask', 'list', 'DB.TABLE.COLUMN=METHOD', 'mask a column on its way to the replica: null, redact, hash, email or fixed:VALUE; * matches any part of a name (repeatable; comma-separated in the environment)', {
    repeatable: true,
  }),
  spec('mask-key-file', 'path', 'FILE', 'the secret key of the keyed mask methods (hash, email); never logged or stored'),
  spec('server-id', 'integer', 'N', 'server id announced to the source; by default derived from the state file path'),
  spec('lag-threshold', 'number', 'SECONDS', 'HEALTHY below it, LAGGING at or above it', { defaultText: '5' }),
  spec('metrics-port', 'integer', 'N', 'serve a live status page at /, its /status.json, Prometheus /metrics and /healthz on this port (off unless set)'),
  spec('metrics-host', 'string', 'HOST', 'address for the metrics server and status page', { defaultText: '127.0.0.1' }),
  spec('to', 'string', 'URL', "relay: the NATS JetStream stream to keep the binlog in, nats://host[:port][,host:port...]/STREAM (tls:// for TLS)", {
    env: 'BINLOG_SYNC_RELAY_TO',
  }),
  spec('from', 'string', 'URL', "start: apply from a relay's NATS JetStream stream instead of --source, nats://host[:port]/STREAM"),
  spec('retention-age', 'string', 'AGE', 'relay: a stream it creates keeps messages this long (e.g. 7d, 36h, 90m); default: no age limit'),
  spec('retention-bytes', 'string', 'SIZE', 'relay: a stream it creates keeps at most this much (e.g. 50GB, 500MiB), the oldest removed first; default: no size limit'),
  spec('nats-creds', 'path', 'FILE', 'NATS credentials file (JWT and NKey seed, as nsc writes it)'),
  spec('nats-password-file', 'path', 'FILE', 'file holding the NATS password of the user in the nats:// URL'),
  spec('nats-password', 'string', 'PASSWORD', 'the NATS password itself (environment or config file only, never a flag)', { secret: true }),
  spec('nats-token-file', 'path', 'FILE', 'file holding a NATS authentication token'),
  spec('nats-token', 'string', 'TOKEN', 'the NATS token itself (environment or config file only, never a flag)', { secret: true }),
  spec('nats-tls-ca', 'path', 'FILE', 'CA certificate to verify the NATS server with (turns TLS on)'),
  spec('nats-tls-cert', 'path', 'FILE', 'client certificate for NATS (TLS)'),
  spec('nats-tls-key', 'path', 'FILE', 'client certificate key for NATS (TLS)'),
  spec('log-level', 'choice', 'LEVEL', 'log level', {
    choices: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'],
    defaultText: 'info',
  }),
  spec('log-format', 'choice', 'FORMAT', 'log format; by default pretty on a terminal, json otherwise', {
    choices: ['json', 'pretty'],
  }),
];

export function findSpec(key: string): SettingSpec | undefined {
  return SETTING_SPECS.find((s) => s.key === key || s.flag === key);
}
