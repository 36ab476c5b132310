// MySQL 8 binlog formats zongji cannot decode: it reports them in words of
// its own (and stops the stream, with the transactions before them
// delivered). binlog-sync decodes them before zongji sees them
// (mysql8-events.ts); should one reach zongji all the same, it is said as
// one of our errors, naming the source setting that writes it: never skipped.
import { UnsupportedEventError } from '../errors.js';

const FORMATS: ReadonlyArray<{ zongji: RegExp; what: string; setting: string; fix: string }> = [
  {
    zongji: /TRANSACTION_PAYLOAD_EVENT/,
    what: 'a compressed transaction (a TRANSACTION_PAYLOAD event)',
    setting: 'binlog_transaction_compression=ON',
    fix: 'set binlog_transaction_compression=OFF on the source',
  },
  {
    zongji: /PARTIAL_UPDATE_ROWS_EVENT/,
    what: 'a partial JSON update (a PARTIAL_UPDATE_ROWS event)',
    setting: "binlog_row_value_options='PARTIAL_JSON'",
    fix: "set binlog_row_value_options='' on the source",
  },
];

/** zongji's report of an event it cannot decode, as an error saying what to change; undefined for anything else. */
export function unsupportedFormat(error: Error): UnsupportedEventError | undefined {
  const format = FORMATS.find((f) => f.zongji.test(error.message ?? ''));
  if (!format) return undefined;
  return new UnsupportedEventError(
    `the binlog holds ${format.what}, written with ${format.setting}, which binlog-sync cannot apply yet; ` +
      `it stopped there, the transactions before it applied: ${format.fix} for the binlogs to come`,
    { cause: error },
  );
}

/**
 * zongji's look-up of a table's definition on the source, which it makes
 * where the table map does not say enough: binlog_row_metadata=MINIMAL, or
 * MariaDB's TIME, DATETIME and TIMESTAMP columns of before 10.0 (created with
 * mysql56_temporal_format=OFF), whose precision no binlog metadata carries
 * (main.type_time). When the table has changed or is gone since the event,
 * zongji says "Insufficient permissions" or "schema changed".
 */
const LOOKUP_FAILED = /^Insufficient permissions to access: (.+)$|^Table (.+) schema changed between binlog event and metadata fetch/;

/** zongji's failed look-up of a table's definition, as an error saying why and what to do; undefined for anything else. */
export function failedLookup(error: Error): UnsupportedEventError | undefined {
  const match = LOOKUP_FAILED.exec(error.message ?? '');
  if (!match) return undefined;
  const table = match[1] ?? match[2];
  return new UnsupportedEventError(
    `the binlog's table map of ${table} does not describe its columns fully (binlog_row_metadata=MINIMAL, or TIME, ` +
      'DATETIME or TIMESTAMP columns of the formats of before MariaDB 10.0, created with mysql56_temporal_format=OFF, ' +
      `whose precision no binlog metadata carries), so its definition was looked up on the source, where ${table} ` +
      `has changed or is gone since, or may not be read by this user (${error.message}); it stopped there, the ` +
      'transactions before it applied: seed the replica again with `binlog-sync snapshot`, and on the source set ' +
      'binlog_row_metadata=FULL and convert such tables (SET GLOBAL mysql56_temporal_format=ON, then ALTER TABLE ... FORCE)',
    { cause: error },
  );
}
