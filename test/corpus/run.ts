// npm run corpus: MariaDB's own regression suite (Debian: mariadb-test,
// mariadb-test-data) through the server's own replica and binlog-sync's, with
// the oracle of issue 23. See docs/corpus.md.
//
//   npm run corpus -- [suite.test ...] [--suite main] [--list FILE] [--json FILE]
//                     [--timeout 120] [--catch-up-timeout 60] [--restart-every 0]
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Corpus, type TestResult } from './corpus.js';
import { summarise, formatLine, formatSummary } from './report.js';
import { replicatedDatabases, resolveTest, suiteTests, type TestFile } from './test-files.js';

const { values: flags, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    suite: { type: 'string', multiple: true, default: [] },
    list: { type: 'string' },
    json: { type: 'string' },
    timeout: { type: 'string', default: '120' },
    'catch-up-timeout': { type: 'string', default: '60' },
    'keep-work-dir': { type: 'boolean', default: false },
  },
});

function selection(): TestFile[] {
  const names = [...positionals];
  if (flags.list) {
    names.push(
      ...readFileSync(flags.list, 'utf8')
        .split('\n')
        .map((l) => l.replace(/#.*/, '').trim())
        .filter(Boolean),
    );
  }
  const tests = names.map(resolveTest);
  for (const suite of flags.suite ?? []) tests.push(...suiteTests(suite));
  if (tests.length === 0) throw new Error('name tests (main.ctype_latin1), a suite (--suite main) or a list file (--list FILE)');
  return tests;
}

async function main(): Promise<number> {
  const tests = selection();
  const workDir = mkdtempSync(join(tmpdir(), 'binlog-sync-corpus-'));
  const corpus = await Corpus.start({
    workDir,
    testTimeoutMs: Number(flags.timeout) * 1000,
    catchUpTimeoutMs: Number(flags['catch-up-timeout']) * 1000,
    databases: replicatedDatabases(tests),
  });
  const results: TestResult[] = [];
  const save = (): void => {
    if (flags.json) writeFileSync(flags.json, JSON.stringify({ at: new Date().toISOString(), summary: summarise(results), results }, null, 2) + '\n');
  };
  let interrupted = false;
  process.once('SIGINT', () => (interrupted = true));
  try {
    for (const test of tests) {
      if (interrupted) break;
      let result: TestResult;
      try {
        result = await corpus.run(test);
      } catch (error) {
        // The runner's own failure on this file (a server it could not reset): not a verdict on binlog-sync.
        result = { test: test.name, verdict: 'skipped', detail: `runner error: ${(error as Error).message.split('\n')[0]}`, ms: 0 };
      }
      results.push(result);
      console.log(formatLine(result));
      save();
    }
  } finally {
    await corpus.close();
    if (!flags['keep-work-dir']) rmSync(workDir, { recursive: true, force: true });
  }
  console.log(formatSummary(summarise(results)));
  save();
  return results.some((r) => r.verdict === 'different' || r.verdict === 'stopped') ? 1 : 0;
}

main().then(
  (code) => (process.exitCode = code),
  (error: Error) => {
    console.error(`corpus: ${error.message}`);
    process.exitCode = 2;
  },
);
