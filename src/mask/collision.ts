// Two distinct source values of a unique column that mask to one value: the
// replica refuses the second row (duplicate key). Never a dropped row: the
// failure stops replication, and is told as what it is, naming the table
// and its masked columns, instead of as a drift of the replica.
import { ApplyError, MaskError } from '../errors.js';
import { ER_DUP_ENTRY, type DriverError } from '../db/server-errors.js';

/** The driver's error behind one of ours (or the driver's error itself). */
function driverErrno(error: unknown): number | undefined {
  let e: unknown = error;
  for (let depth = 0; e && depth < 4; depth++) {
    const errno = (e as DriverError).errno;
    if (typeof errno === 'number') return errno;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * A MaskError in place of a duplicate-key failure on a table with masked
 * columns (`masked`: `db.table.column` as named on the replica); any other
 * error is returned as it is.
 */
export function explainCollision(error: unknown, masked: readonly string[], table?: string): unknown {
  if (masked.length === 0 || driverErrno(error) !== ER_DUP_ENTRY) return error;
  const message = error instanceof Error ? error.message : String(error);
  const where = table ?? (error instanceof ApplyError ? error.location?.table ?? undefined : undefined);
  const tables = new Set(masked.map((c) => c.slice(0, c.lastIndexOf('.'))));
  const named = where ?? [...tables].find((t) => message.includes(t));
  if (!named || !tables.has(named)) return error;
  const columns = masked.filter((c) => c.startsWith(`${named}.`)).map((c) => c.slice(named.length + 1));
  return new MaskError(
    `masking made two distinct rows of ${named} collide on a unique key (masked columns: ${columns.join(', ')}): ${message}; ` +
      'nothing of that transaction was applied. A text column narrower than 32 characters keeps fewer hash digits, ' +
      'and email folds letter case, so distinct values can meet: mask that column another way (or not at all), then `binlog-sync snapshot --drop-existing`',
    { cause: error },
  );
}
