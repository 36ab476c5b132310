// A few files of MariaDB's own regression suite (Debian: mariadb-test,
// mariadb-test-data) through the server's own replica and binlog-sync's, judged
// by the corpus oracle (test/corpus, docs/corpus.md): every row change the
// source logged appears with the same images in binlog-sync's replica's binlog,
// and the final tables are the same. Chosen for character sets, collations and
// column kinds, and fast; `npm run corpus` runs the rest on demand.
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Corpus } from '../corpus/corpus.js';
import { MYSQL_TEST_DIR } from '../corpus/servers.js';
import { replicatedDatabases, resolveTest } from '../corpus/test-files.js';

const SUBSET = [
  'main.ctype_utf16', // UTF-16 keys and values, its collations
  'main.ctype_cp932', // a multi-byte Japanese character set
  'main.ctype_cp1250_ch', // Czech collations of a single-byte character set
  'main.ctype_ascii', // ascii_general_ci and ascii_bin
  'main.type_set', // SET members, the empty one included
  'main.type_year', // YEAR values
  'main.type_time_hires', // TIME with fractional seconds, negative values
  'main.type_blob', // BLOB and TEXT of each size, keys on prefixes
];

let corpus: Corpus;
let workDir: string;

beforeAll(async () => {
  if (!existsSync(join(MYSQL_TEST_DIR, 'main'))) {
    throw new Error(`MariaDB's test suite is not installed at ${MYSQL_TEST_DIR}: apt-get install mariadb-test mariadb-test-data`);
  }
  workDir = mkdtempSync(join(tmpdir(), 'binlog-sync-corpus-test-'));
  corpus = await Corpus.start({ workDir, testTimeoutMs: 60_000, catchUpTimeoutMs: 30_000, databases: replicatedDatabases(SUBSET.map(resolveTest)) });
}, 120_000);

afterAll(async () => {
  await corpus?.close();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe("MariaDB's regression suite: binlog-sync's replica equals the server's own", () => {
  for (const name of SUBSET) {
    it(name, async () => {
      const result = await corpus.run(resolveTest(name));
      // Counted only where the native replica is right: this subset is chosen where it is.
      expect(`${result.verdict}: ${result.detail}`).toMatch(/^equal: /);
      // A test that wrote nothing would prove nothing.
      expect(result.detail).not.toMatch(/^0 row change/);
    }, 90_000);
  }
});
