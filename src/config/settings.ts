import { resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { readConfigFile, type ConfigFile } from './config-file.js';
import { SETTING_SPECS, type SettingSpec } from './setting-specs.js';

/** Every setting after precedence and validation; frozen, read-only everywhere. */
export interface Settings {
  readonly source?: string;
  readonly sourcePasswordFile?: string;
  readonly sourcePassword?: string;
  readonly sourceSslMode: string;
  readonly sourceSslCa?: string;
  readonly sourceSslCert?: string;
  readonly sourceSslKey?: string;
  readonly replica?: string;
  readonly replicaPasswordFile?: string;
  readonly replicaPassword?: string;
  readonly replicaSslMode: string;
  readonly replicaSslCa?: string;
  readonly replicaSslCert?: string;
  readonly replicaSslKey?: string;
  readonly state: string;
  readonly databases: readonly string[];
  readonly includeTables: readonly string[];
  readonly excludeTables: readonly string[];
  readonly rewriteDb: Readonly<Record<string, string>>;
  /** `'user'@'host'` (as validated: quoted parts) for the DEFINER of replicated objects. */
  readonly definer?: string;
  /** `--mask` rules as written (see mask/rules.ts). */
  readonly mask: readonly string[];
  readonly maskKeyFile?: string;
  readonly serverId?: number;
  readonly lagThreshold: number;
  readonly metricsPort?: number;
  readonly metricsHost: string;
  readonly logLevel: string;
  readonly logFormat?: 'json' | 'pretty';
  /** The config file the settings were read from, if any. */
  readonly configFile?: string;
}

export interface SettingInputs {
  /** Values given on the command line, keyed by camelCase setting key. */
  flags?: Record<string, unknown>;
  /** The process environment. */
  env?: Record<string, string | undefined>;
  /** `--config FILE`; else `BINLOG_SYNC_CONFIG` from env is used. */
  configPath?: string;
  /** Directory relative paths are resolved against (default: cwd). */
  cwd?: string;
}

const DEFAULTS: Record<string, unknown> = {
  sourceSslMode: 'PREFERRED',
  replicaSslMode: 'PREFERRED',
  state: './binlog-sync.sqlite',
  databases: [],
  includeTables: [],
  excludeTables: [],
  rewriteDb: {},
  mask: [],
  lagThreshold: 5,
  metricsHost: '127.0.0.1',
  logLevel: 'info',
};

const INTEGER_RANGES: Record<string, [number, number]> = {
  serverId: [1, 4294967295],
  metricsPort: [1, 65535],
};

const nonEmpty = z.string().trim().min(1, 'must not be empty');

const listSchema = z
  .union([z.string(), z.array(z.string())])
  .transform((v) => (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter((s) => s.length > 0));

const pairsSchema = z
  .union([z.string(), z.array(z.string()), z.record(z.string(), z.string())])
  .transform((v, ctx) => {
    if (!Array.isArray(v) && typeof v === 'object') return { ...v };
    const items = (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter(Boolean);
    const out: Record<string, string> = {};
    for (const item of items) {
      const m = /^([^=]+)=([^=]+)$/.exec(item);
      if (!m) {
        ctx.addIssue({ code: 'custom', message: `expected FROM=TO, got '${item}'` });
        return z.NEVER;
      }
      out[m[1]!.trim()] = m[2]!.trim();
    }
    return out;
  });

/** Strings from flags and the environment become numbers; anything else fails the number check. */
const toNumber = (pattern: RegExp) => (v: unknown): unknown => (typeof v === 'string' && pattern.test(v.trim()) ? Number(v) : v);

function integerSchema(key: string): z.ZodType<number> {
  const [min, max] = INTEGER_RANGES[key] ?? [0, Number.MAX_SAFE_INTEGER];
  const message = `must be a whole number from ${min} to ${max}`;
  return z.preprocess(
    toNumber(/^\d+$/),
    z.number({ error: message }).int(message).min(min, `must be from ${min} to ${max}`).max(max, `must be from ${min} to ${max}`),
  );
}

const positiveNumber = z.preprocess(
  toNumber(/^\d+(\.\d+)?$/),
  z.number({ error: 'must be a positive number' }).positive('must be a positive number'),
);

function choiceSchema(spec: SettingSpec): z.ZodType<string> {
  const choices = spec.choices ?? [];
  const upper = choices.every((c) => c === c.toUpperCase());
  return z
    .string()
    .trim()
    .transform((v) => (upper ? v.toUpperCase() : v.toLowerCase()))
    .pipe(z.enum(choices as [string, ...string[]], { message: `must be one of ${choices.join(', ')}` }));
}

/**
 * Reads one part of an account at `at`: quoted ('u', "u", `u`, a doubled
 * quote standing for itself) or bare (letters, digits, `_ $ . - %`).
 */
function accountPart(v: string, at: number): { name: string; end: number } | undefined {
  const quote = v[at];
  if (quote === "'" || quote === '"' || quote === '`') {
    let name = '';
    for (let i = at + 1; i < v.length; i++) {
      if (v[i] !== quote) {
        if (v[i] === '\\' && quote !== '`') return undefined; // escapes mean different things per sql_mode
        name += v[i];
      } else if (v[i + 1] === quote) {
        name += quote;
        i++;
      } else {
        return { name, end: i + 1 };
      }
    }
    return undefined;
  }
  const bare = /^[A-Za-z0-9_$.%-]+/.exec(v.slice(at));
  return bare ? { name: bare[0], end: at + bare[0].length } : undefined;
}

/**
 * An account as DEFINER takes it ('user'@'host'), written back with
 * backticks whatever quoting it came with: they mean the same under every
 * sql_mode.
 */
const accountSchema = nonEmpty.transform((v, ctx) => {
  const user = accountPart(v, 0);
  const host = user && v[user.end] === '@' ? accountPart(v, user.end + 1) : undefined;
  if (!user || !host || host.end !== v.length || user.name === '') {
    ctx.addIssue({ code: 'custom', message: `must be an account like 'user'@'host', got ${v}` });
    return z.NEVER;
  }
  const q = (name: string): string => `\`${name.replaceAll('`', '``')}\``;
  return `${q(user.name)}@${q(host.name)}`;
});

function schemaFor(spec: SettingSpec): z.ZodType<unknown> {
  if (spec.key === 'definer') return accountSchema;
  switch (spec.kind) {
    case 'string':
    case 'path':
      return nonEmpty;
    case 'list':
      return listSchema;
    case 'pairs':
      return pairsSchema;
    case 'integer':
      return integerSchema(spec.key);
    case 'number':
      return positiveNumber;
    case 'choice':
      return choiceSchema(spec);
  }
}

interface Candidate {
  value: unknown;
  /** Names where the value came from, for error messages. */
  origin: string;
  fromFile?: boolean;
}

/**
 * Resolves every setting with the contract's precedence
 * (flag > environment > config file > default), validates each value once
 * and returns a frozen object. Errors name the flag, variable or file key to fix.
 */
export function loadSettings(inputs: SettingInputs = {}): Settings {
  const flags = inputs.flags ?? {};
  const env = inputs.env ?? {};
  const cwd = inputs.cwd ?? process.cwd();
  const configPath = inputs.configPath ?? nonBlank(env.BINLOG_SYNC_CONFIG);
  const file = configPath ? readConfigFile(resolve(cwd, configPath)) : undefined;

  const out: Record<string, unknown> = { ...DEFAULTS };
  for (const spec of SETTING_SPECS) {
    const candidate = pick(spec, flags, env, file);
    if (!candidate) continue;
    const parsed = schemaFor(spec).safeParse(candidate.value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]?.message ?? 'is invalid';
      throw new ConfigError(`${candidate.origin} ${issue}`);
    }
    out[spec.key] = spec.kind === 'path' ? resolve(candidate.fromFile && file ? file.dir : cwd, parsed.data as string) : parsed.data;
  }
  if (configPath) out.configFile = resolve(cwd, configPath);
  out.state = resolve(cwd, out.state as string);
  return Object.freeze(out) as unknown as Settings;
}

function pick(
  spec: SettingSpec,
  flags: Record<string, unknown>,
  env: Record<string, string | undefined>,
  file: ConfigFile | undefined,
): Candidate | undefined {
  const flagValue = flags[spec.key];
  if (flagValue !== undefined && !(Array.isArray(flagValue) && flagValue.length === 0)) {
    return { value: flagValue, origin: `--${spec.flag}` };
  }
  const envValue = nonBlank(env[spec.env]);
  if (envValue !== undefined) return { value: envValue, origin: spec.env };
  if (file && file.values[spec.key] !== undefined) {
    return { value: file.values[spec.key], origin: `config file ${file.path}: '${spec.key}'`, fromFile: true };
  }
  return undefined;
}

function nonBlank(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === '' ? undefined : v;
}
