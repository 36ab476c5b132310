// `check` on a MariaDB source: MySQL 8's binlog_transaction_compression and
// binlog_row_value_options do not exist there, and check says so (not a
// failure, not silence).
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CheckItem } from '../../src/check/checks.js';
import { runCli, tempDir, testServers } from '../support/context.js';

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
