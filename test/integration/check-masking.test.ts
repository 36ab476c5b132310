// `check` holds --mask against the source's columns (information_schema only):
// a rule it cannot honour fails with its fix, and a column that looks
// personal without a rule is a warning whose `--mask` lines, given back,
// make check pass.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Connection } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckItem } from '../../src/check/checks.js';
import { adminConnection, dropDatabases, runCli, tempDir, testServers, uniqueName } from '../support/context.js';

const db = uniqueName('chkmask');
const dir = tempDir('binlog-sync-check-mask-');
const keyFile = join(dir.path, 'mask.key');
let source: Connection;

interface Report {
  ok: boolean;
  items: CheckItem[];
}

function connectionArgs(): string[] {
  const { source: s, replica: r } = testServers();
  return ['--source', s.userUrl, '--replica', r.userUrl, '--state', join(dir.path, 'state.sqlite'), '--databases', db];
}

async function check(args: string[]): Promise<{ code: number | null; report: Report }> {
  const result = await runCli(['check', '--json', ...connectionArgs(), ...args]);
  expect(result.stderr).toBe('');
  return { code: result.code, report: JSON.parse(result.stdout) as Report };
}

beforeAll(async () => {
  writeFileSync(keyFile, 'b3f1c2d4e5a6978812345678abcdef01\n');
  source = await adminConnection('source');
  await source.query(`CREATE DATABASE \`${db}\``);
  await source.query(`CREATE TABLE \`${db}\`.rides (id INT PRIMARY KEY, name VARCHAR(40) NOT NULL)`);
  await source.query(
    `CREATE TABLE \`${db}\`.visitors (id INT PRIMARY KEY, name VARCHAR(80) NOT NULL, email VARCHAR(255) UNIQUE, email_verified TINYINT(1) NOT NULL DEFAULT 0,
       birth_date DATE NOT NULL, visits INT NOT NULL DEFAULT 0)`,
  );
});

afterAll(async () => {
  await source?.end();
  await dropDatabases([db]);
  dir.cleanup();
});

describe('check --mask', () => {
  it('fails a rule naming a missing column and one the column cannot take, each with its fix (exit 1)', async () => {
    const rules = ['--mask', `${db}.visitors.emial=email`, '--mask', `${db}.visitors.name=null`, '--mask-key-file', keyFile];
    const { code, report } = await check(rules);
    expect(code).toBe(1);
    expect(report.ok).toBe(false);
    const failed = report.items.filter((i) => i.status === 'fail');
    expect(failed).toEqual([
      {
        name: `mask ${db}.visitors.name`,
        status: 'fail',
        detail: `mask rule ${db}.visitors.name=null: null on a NOT NULL column; use hash, redact or fixed:VALUE (${db}.visitors.name)`,
        fix: `--mask ${db}.visitors.name=redact in place of --mask ${db}.visitors.name=null`,
      },
      {
        name: `mask ${db}.visitors.emial`,
        status: 'fail',
        detail: `mask rule ${db}.visitors.emial=email: the source has no column ${db}.visitors.emial among the replicated tables`,
        fix: `--mask ${db}.visitors.email=email in place of --mask ${db}.visitors.emial=email, if email is the column meant; or drop the rule`,
      },
    ]);
    // The text form: the fail line, then its fix.
    const text = await runCli(['check', ...connectionArgs(), ...rules]);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(
      new RegExp(`^fail {2}mask ${db}\\.visitors\\.emial +mask rule ${db}\\.visitors\\.emial=email: the source has no column .*\\n +fix: --mask ${db}\\.visitors\\.email=email in place of`, 'm'),
    );
  });

  it('warns about personal columns without a rule; the --mask lines it gives make check pass', async () => {
    const before = await check([]);
    expect(before.code).toBe(0);
    const warning = before.report.items.find((i) => i.name === 'unmasked columns');
    expect(warning).toMatchObject({
      status: 'warn',
      detail: `3 replicated column(s) look personal and no --mask rule covers them: ${db}.visitors.name (name), ${db}.visitors.email (email), ${db}.visitors.birth_date (birth date)`,
    });
    expect(warning!.fix).toContain('--mask-key-file FILE');
    const flags = warning!.fix!.match(/--mask \S+/g)!.flatMap((f) => f.split(' '));
    expect(flags).toEqual([
      '--mask', `${db}.visitors.name=redact`,
      '--mask', `${db}.visitors.email=email`,
      '--mask', `${db}.visitors.birth_date=fixed:1970-01-01`,
    ]);

    const after = await check([...flags, '--mask-key-file', keyFile]);
    expect(after.code).toBe(0);
    expect(after.report.items.find((i) => i.name === 'unmasked columns')).toBeUndefined();
    expect(after.report.items.filter((i) => i.status === 'fail')).toEqual([]);
    expect(after.report.items.find((i) => i.name === 'masking')).toEqual({
      name: 'masking',
      status: 'ok',
      detail: `3 column(s) masked by 3 rule(s), each as its column can take it: ${db}.visitors.name (redact), ${db}.visitors.email (email), ${db}.visitors.birth_date (fixed:1970-01-01)`,
    });
  });

  it('takes a rule that does not parse, or a keyed rule without its key, as a usage error (exit 2)', async () => {
    const bad = await runCli(['check', ...connectionArgs(), '--mask', 'visitors.email']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("mask rule 'visitors.email' is not DB.TABLE.COLUMN=METHOD");
    const keyless = await runCli(['check', ...connectionArgs(), '--mask', `${db}.visitors.email=email`]);
    expect(keyless.code).toBe(2);
    expect(keyless.stderr).toContain('needs the secret key: --mask-key-file FILE');
  });
});
