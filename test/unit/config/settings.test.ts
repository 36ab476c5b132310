import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../../../src/config/settings.js';
import { resolveEndpoint } from '../../../src/config/endpoints.js';
import { ConfigError } from '../../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'binlog-sync-settings-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('loadSettings', () => {
  it('applies the defaults of the contract', () => {
    const s = loadSettings({ cwd: '/work/x' });
    expect(s).toMatchObject({
      state: '/work/x/binlog-sync.sqlite',
      sourceSslMode: 'PREFERRED',
      replicaSslMode: 'PREFERRED',
      lagThreshold: 5,
      metricsHost: '127.0.0.1',
      logLevel: 'info',
      databases: [],
      rewriteDb: {},
    });
    expect(Object.isFrozen(s)).toBe(true);
  });

  it('takes flag over environment over config file over default, per setting', () => {
    const config = file('prec.yaml', 'databases: from_file\nlagThreshold: 9\nserver-id: 11\nmetricsHost: 0.0.0.0\n');
    const s = loadSettings({
      flags: { databases: 'from_flag' },
      env: { BINLOG_SYNC_DATABASES: 'from_env', BINLOG_SYNC_LAG_THRESHOLD: '7', BINLOG_SYNC_CONFIG: config },
    });
    expect(s.databases).toEqual(['from_flag']);
    expect(s.lagThreshold).toBe(7);
    expect(s.serverId).toBe(11);
    expect(s.metricsHost).toBe('0.0.0.0');
    expect(s.configFile).toBe(config);
  });

  it('prefers --config over BINLOG_SYNC_CONFIG and reads JSON', () => {
    const a = file('a.json', JSON.stringify({ databases: ['a1', 'a2'] }));
    const b = file('b.json', JSON.stringify({ databases: 'b' }));
    expect(loadSettings({ configPath: a, env: { BINLOG_SYNC_CONFIG: b } }).databases).toEqual(['a1', 'a2']);
  });

  it('splits comma lists and parses repeatable FROM=TO pairs', () => {
    const s = loadSettings({
      flags: { databases: ' a, b ,,c', rewriteDb: ['prod=dev', 'x=y'] },
      env: { BINLOG_SYNC_EXCLUDE_TABLES: 'a.tmp_*,b.?' },
    });
    expect(s.databases).toEqual(['a', 'b', 'c']);
    expect(s.excludeTables).toEqual(['a.tmp_*', 'b.?']);
    expect(s.rewriteDb).toEqual({ prod: 'dev', x: 'y' });
  });

  it('normalises the case of choices', () => {
    const s = loadSettings({ flags: { sourceSslMode: 'verify_identity', logLevel: 'DEBUG' } });
    expect(s.sourceSslMode).toBe('VERIFY_IDENTITY');
    expect(s.logLevel).toBe('debug');
  });

  it('resolves paths from a config file against the file, others against cwd', () => {
    const config = file('paths.yaml', 'state: rel/state.sqlite\n');
    expect(loadSettings({ configPath: config, cwd: '/elsewhere' }).state).toBe(join(dir, 'rel/state.sqlite'));
    expect(loadSettings({ flags: { state: 's.sqlite' }, cwd: '/elsewhere' }).state).toBe('/elsewhere/s.sqlite');
  });

  it.each([
    [{ flags: { serverId: 'abc' } }, /^--server-id must be a whole number from 1 to 4294967295$/],
    [{ flags: { serverId: '0' } }, /^--server-id must be from 1 to 4294967295$/],
    [{ env: { BINLOG_SYNC_SERVER_ID: '4294967296' } }, /^BINLOG_SYNC_SERVER_ID must be from 1 to 4294967295$/],
    [{ flags: { metricsPort: '70000' } }, /^--metrics-port must be from 1 to 65535$/],
    [{ flags: { lagThreshold: '-1' } }, /^--lag-threshold must be a positive number$/],
    [{ flags: { sourceSslMode: 'sometimes' } }, /^--source-ssl-mode must be one of DISABLED, PREFERRED, REQUIRED, VERIFY_CA, VERIFY_IDENTITY$/],
    [{ flags: { rewriteDb: ['nope'] } }, /^--rewrite-db expected FROM=TO, got 'nope'$/],
    [{ flags: { logFormat: 'xml' } }, /^--log-format must be one of json, pretty$/],
    [{ flags: { databases: 5 } }, /^--databases must be a list: a,b or an array of names$/],
    [{ flags: { rewriteDb: { a: 1 } } }, /^--rewrite-db must be FROM=TO pairs/],
    [{ flags: { definer: "'u'@" } }, /^--definer must be an account like 'user'@'host', got 'u'@$/],
    [{ flags: { metricsPort: '80.5' } }, /^--metrics-port must be a whole number from 1 to 65535$/],
  ])('rejects bad values with the setting named: %j', (inputs, message) => {
    expect(() => loadSettings(inputs)).toThrow(ConfigError);
    expect(() => loadSettings(inputs)).toThrow(message);
  });

  it('names the config file and key in errors, and rejects unknown keys', () => {
    const bad = file('bad.yaml', 'serverId: many\n');
    expect(() => loadSettings({ configPath: bad })).toThrow(`config file ${bad}: 'serverId' must be a whole number`);
    const unknown = file('unknown.yaml', 'databse: x\n');
    expect(() => loadSettings({ configPath: unknown })).toThrow(`config file ${unknown} has an unknown setting 'databse'`);
    const broken = file('broken.json', '{"databases": ');
    expect(() => loadSettings({ configPath: broken })).toThrow(/is not valid JSON/);
    expect(() => loadSettings({ configPath: join(dir, 'missing.yaml') })).toThrow(/does not exist/);
  });
});

describe('resolveEndpoint', () => {
  it('requires the URL and says which flag and variable to set', () => {
    expect(() => resolveEndpoint(loadSettings({}), 'source')).toThrow('--source is required (or set BINLOG_SYNC_SOURCE)');
  });

  it('lets a password file, then the password variable, override the URL password', () => {
    const pwFile = file('pw.txt', 'from-file\n');
    const url = 'mysql://repl_user:from-url@db:3306';
    expect(resolveEndpoint(loadSettings({ flags: { source: url } }), 'source').password).toBe('from-url');
    expect(resolveEndpoint(loadSettings({ flags: { source: url }, env: { BINLOG_SYNC_SOURCE_PASSWORD: 'from-env' } }), 'source').password).toBe(
      'from-env',
    );
    const withFile = loadSettings({ flags: { source: url, sourcePasswordFile: pwFile }, env: { BINLOG_SYNC_SOURCE_PASSWORD: 'from-env' } });
    expect(resolveEndpoint(withFile, 'source')).toMatchObject({ host: 'db', port: 3306, user: 'repl_user', password: 'from-file', sslMode: 'PREFERRED' });
  });

  it('reports a missing password file by flag', () => {
    const s = loadSettings({ flags: { replica: 'mysql://u@h', replicaPasswordFile: join(dir, 'none') } });
    expect(() => resolveEndpoint(s, 'replica')).toThrow(/^--replica-password-file .* does not exist$/);
  });
});

describe('--definer', () => {
  it.each<[string, string]>([
    ["'app'@'%'", '`app`@`%`'],
    ['`app`@`localhost`', '`app`@`localhost`'],
    ['app@127.0.0.1', '`app`@`127.0.0.1`'],
    ['"o\'brien"@\'%\'', "`o'brien`@`%`"],
    ["'we''ird`'@'h'", "`we'ird```@`h`"],
  ])('%s is written %s', (given, written) => {
    expect(loadSettings({ flags: { definer: given } }).definer).toBe(written);
    expect(loadSettings({ env: { BINLOG_SYNC_DEFINER: given } }).definer).toBe(written);
  });

  it.each(["'app'", "'app'@", "@'%'", "'a\\'b'@'%'", "'app'@'%' x", "''@'%'", "'app'@'%"])('refuses %s, naming the flag', (given) => {
    expect(() => loadSettings({ flags: { definer: given } })).toThrow(/--definer must be an account like 'user'@'host'/);
  });

  it('is unset by default', () => {
    expect(loadSettings({}).definer).toBeUndefined();
  });
});
