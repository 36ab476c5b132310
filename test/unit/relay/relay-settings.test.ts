import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSettings } from '../../../src/config/settings.js';
import { redactSecrets } from '../../../src/log/secrets.js';
import { parseAge, parseSize, resolveNats, resolveRetention } from '../../../src/relay/relay-settings.js';

describe('retention settings', () => {
  it.each([
    ['3600', 3600],
    ['90m', 5400],
    ['36h', 129_600],
    ['7d', 604_800],
    ['2w', 1_209_600],
    ['1.5h', 5400],
  ])('age %s is %d s', (text, seconds) => expect(parseAge(text, '--retention-age')).toBe(seconds));

  it.each([
    ['1048576', 1_048_576],
    ['50GB', 50e9],
    ['500MiB', 500 * 2 ** 20],
    ['2 tib', 2 * 2 ** 40],
  ])('size %s is %d bytes', (text, bytes) => expect(parseSize(text, '--retention-bytes')).toBe(bytes));

  it.each(['soon', '0', '-5d', '7y', ''])('refuses the age %j', (text) => {
    expect(() => parseAge(text, '--retention-age')).toThrow(/--retention-age must be a duration/);
  });

  it.each(['big', '0', '10 parsecs'])('refuses the size %j', (text) => {
    expect(() => parseSize(text, '--retention-bytes')).toThrow(/--retention-bytes must be a size/);
  });

  it('is empty when nothing is set (no limits)', () => {
    expect(resolveRetention({})).toEqual({});
    expect(resolveRetention({ retentionAge: '1d', retentionBytes: '1GB' })).toEqual({ maxAgeSeconds: 86_400, maxBytes: 1e9 });
  });
});

describe('NATS credentials', () => {
  it('come from a file or the environment, and are redacted from anything written', () => {
    const dir = mkdtempSync(join(tmpdir(), 'binlog-sync-nats-'));
    try {
      const file = join(dir, 'password');
      writeFileSync(file, 'fi1e-Secret\n');
      const fromFile = resolveNats(loadSettings({ flags: { to: 'nats://relay@n1:4222/S', natsPasswordFile: file } }), 'to', 'test');
      expect(fromFile).toMatchObject({ address: { user: 'relay', servers: ['n1:4222'], stream: 'S' }, password: 'fi1e-Secret' });
      const fromEnv = resolveNats(loadSettings({ env: { BINLOG_SYNC_FROM: 'tls://n1/S', BINLOG_SYNC_NATS_TOKEN: 'env-T0ken', BINLOG_SYNC_NATS_TLS_CA: file } }), 'from', 'test');
      expect(fromEnv).toMatchObject({ token: 'env-T0ken', tls: { caFile: file }, address: { tls: true } });
      const inUrl = resolveNats(loadSettings({ flags: { to: 'nats://relay:url-Pa55@n1/S' } }), 'to', 'test');
      expect(inUrl.password).toBe('url-Pa55');
      expect(redactSecrets('fi1e-Secret env-T0ken url-Pa55 nats://u:other@n1/S')).toBe('[REDACTED] [REDACTED] [REDACTED] nats://u:[REDACTED]@n1/S');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuse a missing --to or password file in one line', () => {
    expect(() => resolveNats(loadSettings({}), 'to', 'test')).toThrow(/--to is required \(or set BINLOG_SYNC_RELAY_TO\)/);
    expect(() => resolveNats(loadSettings({ flags: { from: 'nats://n1/S', natsPasswordFile: '/nonexistent/pw' } }), 'from', 'test')).toThrow(/--nats-password-file \/nonexistent\/pw does not exist/);
  });
});
