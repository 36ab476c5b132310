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
