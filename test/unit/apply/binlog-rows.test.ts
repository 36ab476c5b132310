import { describe, expect, it } from 'vitest';
import { BINLOG_BATCH_BYTES, binlogBatch, binlogIncompatibility, joinBinlog } from '../../../src/apply/binlog-rows.js';

const head = (n: number): Buffer => Buffer.alloc(40, n);
const rows = (statement: number, bytes = 100) => ({ head: head(statement), event: Buffer.alloc(bytes, 200 + statement), statement, rows: 1 });

describe('rows events gathered into BINLOG statements', () => {
  it('starts a batch with its statement table maps, and adds only the rows of the same statement', () => {
    const batch = binlogBatch(rows(1), false);
    expect(batch.events).toHaveLength(2);
    expect(joinBinlog(batch, binlogBatch(rows(1), true))).toBe(true);
    expect(batch.events).toHaveLength(3);
    expect(batch).toMatchObject({ bytes: 40 + 300 - 100, statement: 1, ended: true, count: 2 });
  });

  it('adds the next statement with its table maps once the previous one ended', () => {
    const batch = binlogBatch(rows(1), true);
    expect(joinBinlog(batch, binlogBatch(rows(2), true))).toBe(true);
    expect(batch.events.map((e) => e[0])).toEqual([1, 201, 2, 202]);
  });

  it('cuts the batch when a new statement begins before the last one ended (its end was in a table not replicated)', () => {
    const batch = binlogBatch(rows(1), false);
    expect(joinBinlog(batch, binlogBatch(rows(2), true))).toBe(false);
    expect(batch.count).toBe(1);
  });

  it('cuts the batch at its size bound', () => {
    const batch = binlogBatch(rows(1, BINLOG_BATCH_BYTES - 200), false);
    expect(joinBinlog(batch, binlogBatch(rows(1, 150), false))).toBe(true);
    expect(joinBinlog(batch, binlogBatch(rows(1, 150), false))).toBe(false);
    expect(batch.bytes).toBeLessThanOrEqual(BINLOG_BATCH_BYTES);
  });

  it('lets the replica apply the source row events only when it reads them', () => {
    expect(binlogIncompatibility({ flavor: 'mariadb', version: '10.11.19-MariaDB-log' }, { flavor: 'mariadb', version: '10.11.6-MariaDB' })).toBeUndefined();
    expect(binlogIncompatibility({ flavor: 'mariadb', version: '10.6.1-MariaDB' }, { flavor: 'mariadb', version: '11.4.2-MariaDB' })).toBeUndefined();
    expect(binlogIncompatibility({ flavor: 'mariadb', version: '11.4.2-MariaDB' }, { flavor: 'mariadb', version: '10.11.6-MariaDB' })).toMatch(/older than the source \(11\.4\)/);
    expect(binlogIncompatibility({ flavor: 'mysql', version: '8.0.36' }, { flavor: 'mariadb', version: '10.11.6-MariaDB' })).toMatch(/source is MySQL and the replica MariaDB/);
    expect(binlogIncompatibility({ flavor: 'mysql', version: '8.4.0' }, { flavor: 'mysql', version: '8.0.36' })).toMatch(/older/);
  });
});
