// Rows are located byte-exactly (issue 18, part 4). Under a case-, accent- or
// PAD SPACE-insensitive comparison 'abc', 'ABC', 'abc ' and 'äbc' can be equal;
// an update or delete of a table without a primary key must still touch the
// row the source changed, and a key whose bytes changed must end as the
// source's. Each case runs through the server's own replica and binlog-sync
// from one source, and the copies are compared byte for byte.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Differential } from '../support/differential.js';

let diff: Differential;

afterAll(async () => {
  await diff?.close();
});

/** Values the column's collation calls equal (some of them), in insert order: each target comes after the row a wrong match would hit. */
const LOOKALIKES: Array<string | null> = ['abc', 'ABC', 'abc ', 'äbc', null];

interface Variant {
  name: string;
  type: string;
  charset: 'utf8mb4' | 'latin1';
  index?: string;
}

const VARIANTS: Variant[] = [
  { name: 'utf8_general', type: 'VARCHAR(20) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci', charset: 'utf8mb4' },
  { name: 'utf8_general_indexed', type: 'VARCHAR(20) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci', charset: 'utf8mb4', index: 'KEY (s)' },
  // _bin still pads: 'abc' = 'abc '.
  { name: 'utf8_bin_indexed', type: 'VARCHAR(20) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin', charset: 'utf8mb4', index: 'KEY (s)' },
  { name: 'utf8_text_prefix', type: 'TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci', charset: 'utf8mb4', index: 'KEY (s(8))' },
  { name: 'utf8_char_indexed', type: 'CHAR(10) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci', charset: 'utf8mb4', index: 'KEY (s)' },
  // latin1_swedish_ci: rows arrive as raw bytes ('raw-text').
  { name: 'latin1', type: 'VARCHAR(20) CHARACTER SET latin1', charset: 'latin1' },
  { name: 'latin1_indexed', type: 'VARCHAR(20) CHARACTER SET latin1', charset: 'latin1', index: 'KEY (s)' },
];

/** A database per case, so that each case's copies are compared on their own. */
const CASES = [...VARIANTS.flatMap((v) => [`${v.name}_small`, `${v.name}_large`]), 'pk_ci', 'uq_ci', 'careful'];
const dbOf = (name: string): string => `locate_${name}`;

beforeAll(async () => {
  diff = await Differential.start({ databases: CASES.map(dbOf), ids: [91, 92, 93], source: { timeZone: 'Asia/Kolkata' } });
  for (const name of CASES) await diff.run(`CREATE DATABASE ${dbOf(name)}`);
});

const literal = (value: string): string => `'${value.replace(/'/g, "''")}'`;

/** The source's own byte-exact condition for `column` holding `value` (in the column's character set). */
function exactly(value: string | null, charset: string, column = 's'): string {
  if (value === null) return `${column} IS NULL`;
  return `CAST(${column} AS BINARY) = CAST(CONVERT(${literal(value)} USING ${charset}) AS BINARY)`;
}

function createKeyless(t: string, variant: Variant): string {
  return `CREATE TABLE ${t} (s ${variant.type} NULL, n INT NOT NULL DEFAULT 0${variant.index ? `, ${variant.index}` : ''})`;
}

const sqlValue = (value: string | null): string => (value === null ? 'NULL' : literal(value));

/** Rows of a table on the source, so that a test proves it changed rows at all. */
async function sourceCount(t: string): Promise<number> {
  const [rows] = await diff.sourceConnection.query(`SELECT COUNT(*) AS n FROM ${t}`);
  return Number((rows as Array<{ n: number }>)[0]!.n);
}

describe.each(VARIANTS)('a table without a primary key, column $type $index', (variant) => {
  const reversed = [...LOOKALIKES].reverse();

  it('small events: updates and deletes of each look-alike row', async () => {
    const db = dbOf(`${variant.name}_small`);
    const t = `${db}.t`;
    const rows = LOOKALIKES.map((v) => `(${sqlValue(v)}, 0)`).join(', ');
    await diff.run(createKeyless(t, variant), `INSERT INTO ${t} (s, n) VALUES ${rows}`, `INSERT INTO ${t} (s, n) VALUES ${rows}`);
    // Later look-alikes first: a match by collation would take an earlier row.
    for (const v of reversed) await diff.run(`UPDATE ${t} SET n = n + 1 WHERE ${exactly(v, variant.charset)} LIMIT 1`);
    await diff.run(`UPDATE ${t} SET s = CONCAT(s, 'x') WHERE ${exactly('abc ', variant.charset)} AND n = 0 LIMIT 1`);
    for (const v of reversed) await diff.run(`DELETE FROM ${t} WHERE ${exactly(v, variant.charset)} LIMIT 1`);
    expect(await sourceCount(t)).toBeLessThan(2 * LOOKALIKES.length);
    await diff.expectSameAsNative(db);
  });

  it('large events: hundreds of look-alike rows updated and deleted by one statement each', async () => {
    const db = dbOf(`${variant.name}_large`);
    const t = `${db}.t`;
    await diff.run(createKeyless(t, variant));
    for (const v of LOOKALIKES) await diff.run(`INSERT INTO ${t} (s, n) SELECT ${sqlValue(v)}, 0 FROM mysql.seq_1_to_150`);
    for (const v of reversed) await diff.run(`UPDATE ${t} SET n = n + 1 WHERE ${exactly(v, variant.charset)} LIMIT 120`);
    await diff.run(`UPDATE ${t} SET s = UPPER(s) WHERE ${exactly('äbc', variant.charset)} AND n = 1`);
    for (const v of reversed) await diff.run(`DELETE FROM ${t} WHERE ${exactly(v, variant.charset)} AND n = 1 LIMIT 100`);
    expect(await sourceCount(t)).toBeLessThan(150 * LOOKALIKES.length);
    await diff.expectSameAsNative(db);
  });
});

describe('keys under a case-insensitive collation', () => {
  it('a primary key and unique key whose bytes change but whose collation calls them equal, in large and small events', async () => {
    const db = dbOf('pk_ci');
    const t = `${db}.t`;
    await diff.run(
      `CREATE TABLE ${t} (k VARCHAR(20) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci PRIMARY KEY,
         u VARCHAR(20) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci NOT NULL, n INT NOT NULL, UNIQUE KEY (u), UNIQUE KEY (n))`,
      `INSERT INTO ${t} SELECT CONCAT('key', seq), CONCAT('u', seq), seq FROM mysql.seq_1_to_300`,
      // Set-based forms: a join on the key (kept), then keys changed to collation-equal bytes.
      `UPDATE ${t} SET u = UPPER(u)`,
      `UPDATE ${t} SET k = UPPER(k) WHERE n <= 200`,
      `UPDATE ${t} SET k = CONCAT(k, ' ') WHERE n > 100`,
      `UPDATE ${t} SET u = CONCAT(LOWER(u), ' '), n = n + 1000`,
      `DELETE FROM ${t} WHERE n % 3 = 0`,
      // Small events.
      `UPDATE ${t} SET k = 'Key7' WHERE k = 'key7'`,
      `UPDATE ${t} SET u = 'Ü7' WHERE k = 'KEY7'`,
      `UPDATE ${t} SET k = 'KEY250' WHERE k = 'key250'`,
      `DELETE FROM ${t} WHERE k = 'KEY252'`,
    );
    expect(await sourceCount(t)).toBe(199);
    await diff.expectSameAsNative(db);
  });

  it('a case-insensitive unique key on a table without a primary key (NULLs repeat in it)', async () => {
    const db = dbOf('uq_ci');
    const t = `${db}.t`;
    const rows = LOOKALIKES.flatMap((v, i) => [`(NULL, ${sqlValue(v)})`, `('r${i}', ${sqlValue(v)})`]).join(', ');
    await diff.run(
      `CREATE TABLE ${t} (u VARCHAR(20) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci, v VARCHAR(20) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci,
         UNIQUE KEY (u))`,
      `INSERT INTO ${t} VALUES ${rows}`,
      `INSERT INTO ${t} SELECT CONCAT('x', seq), 'abc' FROM mysql.seq_1_to_300`,
      `UPDATE ${t} SET u = UPPER(u) WHERE u LIKE 'x%'`,
      `UPDATE ${t} SET u = CONCAT(u, ' ') WHERE u LIKE 'X1%'`,
      `UPDATE ${t} SET u = 'R0' WHERE u = 'r0'`,
    );
    // The rows whose unique key is NULL are told apart by v alone.
    await diff.run(
      `DELETE FROM ${t} WHERE u IS NULL AND ${exactly('äbc', 'utf8mb4', 'v')}`,
      `UPDATE ${t} SET v = 'abc +' WHERE u IS NULL AND ${exactly('abc ', 'utf8mb4', 'v')}`,
      `DELETE FROM ${t} WHERE ${exactly('X2', 'utf8mb4', 'u')}`,
    );
    await diff.expectSameAsNative(db);
  });
});

describe('careful mode (one statement per row, built on the main thread)', () => {
  it('locates look-alike rows exactly when a failed set-based statement makes the transaction apply row by row', async () => {
    const db = dbOf('careful');
    const tree = `${db}.tree`;
    const t = `${db}.t`;
    await diff.run(
      `CREATE TABLE ${tree} (id INT PRIMARY KEY, parent INT NULL, FOREIGN KEY (parent) REFERENCES ${tree} (id))`,
      `INSERT INTO ${tree} SELECT seq, NULLIF(seq - 1, 0) FROM mysql.seq_1_to_300`,
      createKeyless(t, VARIANTS[0]!),
      `INSERT INTO ${t} (s) VALUES ${LOOKALIKES.map((v) => `(${sqlValue(v)})`).join(', ')}`,
    );
    await diff.synced();
    const careful = (): number => (diff.replication.output?.stderr.match(/transactions one at a time/g) ?? []).length;
    const before = careful();
    // The source deletes children before their parents. One set-based DELETE
    // on the replica takes the keys in ascending order, meets a parent whose
    // child is still there and fails: the transaction is then applied again
    // one statement per row, in the source's order.
    await diff.run(
      `START TRANSACTION;
       DELETE FROM ${tree} ORDER BY id DESC;
       DELETE FROM ${t} WHERE ${exactly('äbc', 'utf8mb4')};
       UPDATE ${t} SET n = 7 WHERE ${exactly('abc ', 'utf8mb4')};
       UPDATE ${t} SET s = 'abd' WHERE ${exactly('ABC', 'utf8mb4')};
       COMMIT`,
    );
    await diff.expectSameAsNative(db);
    // (Only the SQL path builds set-based statements; on the BINLOG path the replica locates each row itself.)
    if (process.env.BINLOG_SYNC_TEST_ROW_APPLIER === 'sql') expect(careful(), 'the transaction was applied one statement per row').toBeGreaterThan(before);
    else expect(careful(), 'no regrouping on the BINLOG path').toBe(before);
  });
});
