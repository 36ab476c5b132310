// `replay`'s stop options as the plan takes them, and the usage errors (exit 2) of wrong ones.
import { describe, expect, it } from 'vitest';
import { parseStop } from '../../../src/cli/actions/replay.js';
import { UsageError } from '../../../src/errors.js';

describe('replay stop options', () => {
  it.each([
    [{}, {}],
    [{ stopPosition: 'mysql-bin.000042:1234' }, { position: { file: 'mysql-bin.000042', position: 1234 } }],
    [{ stopDatetime: '2026-12-07T13:00:00Z' }, { datetimeMs: Date.UTC(2026, 11, 7, 13) }],
    // Without a zone, local time, as mysqlbinlog reads it.
    [{ stopDatetime: '2026-12-07 14:00:00' }, { datetimeMs: new Date(2026, 11, 7, 14).getTime() }],
    [{ stopGtid: '0-1-42' }, { gtid: '0-1-42' }],
    [{ stopGtid: '93E95066-A2F4-11EC-9B69-9657F0AE95E2:4' }, { gtid: '93e95066-a2f4-11ec-9b69-9657f0ae95e2:4' }],
    // A tagged GTID (MySQL 8.3+).
    [{ stopGtid: '55778904-0299-11f1-b1b8-4ef0c4956feb:MyTag:3' }, { gtid: '55778904-0299-11f1-b1b8-4ef0c4956feb:mytag:3' }],
  ])('%j', (opts, stop) => {
    expect(parseStop(opts)).toEqual(stop);
  });

  it.each([
    [{ stopPosition: 'mysql-bin.000042' }, "--stop-position is FILE:POS, e.g. mysql-bin.000042:1234 (got 'mysql-bin.000042')"],
    [{ stopDatetime: 'yesterday' }, "--stop-datetime is a date and time, e.g. '2026-12-07 14:00:00' (got 'yesterday')"],
    [{ stopGtid: '0-1' }, "--stop-gtid is one GTID, MariaDB's 0-1-42 or MySQL's uuid:42 or uuid:tag:42 (got '0-1')"],
    [{ stopGtid: '55778904-0299-11f1-b1b8-4ef0c4956feb:1tag:3' }, "--stop-gtid is one GTID, MariaDB's 0-1-42 or MySQL's uuid:42 or uuid:tag:42 (got '55778904-0299-11f1-b1b8-4ef0c4956feb:1tag:3')"],
    [{ stopGtid: '0-1-4', stopDatetime: '2026-12-07 14:00:00' }, 'give one of --stop-position, --stop-datetime and --stop-gtid'],
  ])('refuses %j', (opts, message) => {
    expect(() => parseStop(opts)).toThrow(UsageError);
    expect(() => parseStop(opts)).toThrow(message);
  });
});
