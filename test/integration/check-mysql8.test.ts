// `check` on a MariaDB source: MySQL 8's binlog_transaction_compression and
// binlog_row_value_options do not exist there, and check says so (not a
// failure, not silence). On a MySQL 8 source (the recorded source of
// test/support/recorded-source.ts, answering as MySQL 8.0.28 with the
// variables given), what they are set to.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CheckItem } from '../../src/check/checks.js';
import { REPO_ROOT, runCli, tempDir, testServers } from '../support/context.js';
import { startRecordedSource } from '../support/recorded-source.js';

const dir = tempDir('binlog-sync-check-mysql8-');

afterAll(() => dir.cleanup());

describe('check on MariaDB', () => {
  it('says the MySQL 8 binlog formats are not applicable, in JSON and in text', async () => {
    const { source, replica } = testServers();
    const args = ['--source', source.userUrl, '--replica', replica.userUrl, '--state', join(dir.path, 'state.sqlite')];
    const json = await runCli(['check', '--json', ...args]);
    expect(json.stderr).toBe('');
    const items = (JSON.parse(json.stdout) as { items: CheckItem[] }).items;
    expect(items.filter((i) => i.name === 'binlog_transaction_compression' || i.name === 'binlog_row_value_options')).toEqual([
      { name: 'binlog_transaction_compression', status: 'ok', detail: 'not applicable: MariaDB has no binlog_transaction_compression' },
      { name: 'binlog_row_value_options', status: 'ok', detail: 'not applicable: MariaDB has no binlog_row_value_options' },
    ]);
    const text = await runCli(['check', ...args]);
    expect(text.stdout).toMatch(/^ok {4}binlog_transaction_compression +not applicable: MariaDB has no binlog_transaction_compression$/m);
    expect(text.stdout).toMatch(/^ok {4}binlog_row_value_options +not applicable: MariaDB has no binlog_row_value_options$/m);
  });
});

describe('check on MySQL 8 (the recorded source)', () => {
  it.each([
    [{}, 'OFF', 'full JSON values'],
    [
      { binlog_transaction_compression: 'ON', binlog_row_value_options: 'PARTIAL_JSON' },
      'ON: compressed transactions (zstd) are decompressed and applied as the events they hold',
      "PARTIAL_JSON: partial JSON updates are applied as changes to the replica's documents (refused for a masked column)",
    ],
  ])('reports binlog_transaction_compression and binlog_row_value_options as the source has them (%j)', async (variables, compression, json) => {
    const source = await startRecordedSource({
      path: join(REPO_ROOT, 'test', 'fixtures', 'binlogs', 'mysql-enum-string-set.000001'),
      name: 'mysql-enum-string-set.000001',
      backing: testServers().source.adminUrl,
      variables,
    });
    try {
      const result = await runCli(['check', '--json', '--source', source.url(), '--replica', testServers().replica.userUrl, '--state', join(dir.path, 'mysql.sqlite')]);
      const items = (JSON.parse(result.stdout) as { items: CheckItem[] }).items;
      expect(items.find((i) => i.name === 'source reachable')?.detail).toMatch(/, 8\.0\.28$/);
      expect(items.filter((i) => i.name === 'binlog_transaction_compression' || i.name === 'binlog_row_value_options')).toEqual([
        { name: 'binlog_transaction_compression', status: 'ok', detail: compression },
        { name: 'binlog_row_value_options', status: 'ok', detail: json },
      ]);
      // (The source's SHOW VARIABLES was asked for both.)
      expect(source.queries.some((q) => /binlog_transaction_compression.*binlog_row_value_options/.test(q))).toBe(true);
    } finally {
      await source.close();
    }
  });
});

