// The corpus oracle's pure parts (test/corpus): rows as MariaDB 10.11's
// `mariadb-binlog --base64-output=decode-rows -vv` printed them for
//   CREATE TABLE test.t1 (a INT PRIMARY KEY, b VARCHAR(10) COMPRESSED, d ENUM('x','y'));
//   INSERT INTO test.t1 (a, b, d) VALUES (1, 'hello', 'y'), (2, NULL, 'x');
//   UPDATE test.t1 SET b = 'z' WHERE a = 1; UPDATE test.t1 SET a = a;  -- the second changes nothing
//   DELETE FROM test.t1 WHERE a = 2;  and a row of another database.
import { describe, expect, it } from 'vitest';
import { parseDecoded } from '../corpus/binlog-rows.js';
import { compareImages, compareRowChanges } from '../corpus/oracle.js';

const DECODED = `#261207 16:40:59 server id 1  end_log_pos 1025 CRC32 0x57ff1571 	Table_map: \`test\`.\`t1\` mapped to number 18
### INSERT INTO \`test\`.\`t1\`
### SET
###   @1=1 /* INT meta=0 nullable=0 is_null=0 */
###   @2='\\x00hello' /* VARSTRING(11) COMPRESSED meta=11 nullable=1 is_null=0 */
###   @3=2 /* ENUM(1 byte) meta=63233 nullable=1 is_null=0 */
### INSERT INTO \`test\`.\`t1\`
### SET
###   @1=2 /* INT meta=0 nullable=0 is_null=0 */
###   @2=NULL /* VARSTRING(11) COMPRESSED meta=11 nullable=1 is_null=1 */
###   @3=1 /* ENUM(1 byte) meta=63233 nullable=1 is_null=0 */
# Number of rows: 2
COMMIT/*!*/;
### UPDATE \`test\`.\`t1\`
### WHERE
###   @1=1 /* INT meta=0 nullable=0 is_null=0 */
###   @3=2 /* ENUM(1 byte) meta=63233 nullable=1 is_null=0 */
### SET
###   @1=1 /* INT meta=0 nullable=0 is_null=0 */
###   @3=1 /* ENUM(1 byte) meta=63233 nullable=1 is_null=0 */
### UPDATE \`test\`.\`t1\`
### WHERE
###   @1=2 /* INT meta=0 nullable=0 is_null=0 */
### SET
###   @1=2 /* INT meta=0 nullable=0 is_null=0 */
# Number of rows: 2
### DELETE FROM \`test\`.\`t1\`
### WHERE
###   @1=2 /* INT meta=0 nullable=0 is_null=0 */
###   @3=1 /* ENUM(1 byte) meta=63233 nullable=1 is_null=0 */
### INSERT INTO \`other\`.\`t9\`
### SET
###   @1=9 /* INT meta=0 nullable=0 is_null=0 */
`;

function parse(text: string): Map<string, string[]> {
  const byTable = new Map<string, string[]>();
  parseDecoded(text, new Set(['test']), byTable);
  return byTable;
}

describe('the corpus oracle', () => {
  it('reads each row image, leaves out no-op updates, compressed bytes and other databases', () => {
    expect(parse(DECODED)).toEqual(
      new Map([
        [
          'test.t1',
          [
            'INSERT @1=1 @2=<compressed> @3=2',
            'INSERT @1=2 @2=<compressed> @3=1',
            'UPDATE WHERE @1=1 @3=2 SET @1=1 @3=1',
            'DELETE @1=2 @3=1',
          ],
        ],
      ]),
    );
  });

  it('compares row changes per table as multisets: order does not matter, a repeat does', () => {
    const source = parse(DECODED);
    const shuffled = new Map([['test.t1', [...source.get('test.t1')!].reverse()]]);
    expect(compareRowChanges(source, shuffled)).toBeNull();
    const doubled = new Map([['test.t1', [...source.get('test.t1')!, 'INSERT @1=2 @2=<compressed> @3=1']]]);
    expect(compareRowChanges(source, doubled)).toBe('test.t1: 0 row change(s) missing, 1 extra; extra INSERT @1=2 @2=<compressed> @3=1');
    const changed = new Map([['test.t1', source.get('test.t1')!.map((l) => l.replace('SET @1=1 @3=1', 'SET @1=1 @3=0'))]]);
    expect(compareRowChanges(source, changed)).toMatch(/^test\.t1: 1 row change\(s\) missing, 1 extra; e\.g\. missing UPDATE/);
  });

  it('names the first table whose final rows or definition differ', () => {
    const table = { definition: 'CREATE TABLE `t1` (`a` int)', rows: ['31', '32', '32'] };
    expect(compareImages({ test: { tables: { t1: table } } }, { test: { tables: { t1: { ...table, rows: ['32', '31', '32'] } } } })).toBeNull();
    expect(compareImages({ test: { tables: { t1: table } } }, { test: { tables: { t1: { ...table, rows: ['31', '32'] } } } })).toBe(
      'test.t1: final rows differ (3 vs 2); e.g. missing 32',
    );
    expect(compareImages({ test: { tables: { t1: table } } }, { test: { tables: {} } })).toBe('test.t1: missing');
  });
});
