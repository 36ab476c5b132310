// Pure: what an event weighs against the stream's back-pressure, one measure
// for the apply loop's queue (session.ts) and for the decoding thread's
// credit (decode-thread.ts), so that both hold the stream back alike.
import { rowCount, type RowsData, type SourceEvent } from '../source/events.js';

/** What bytes weigh: 4 KiB as much as a row. */
export function weightOfBytes(bytes: number): number {
  return Math.floor(bytes / 4096);
}

/** An event as far as its weight goes (its table, a definition or a number, does not matter). */
export type WeighedEvent = ({ type: 'rows'; bytes: number } & Pick<RowsData, 'rows' | 'prepared' | 'binlog'>) | { type: Exclude<SourceEvent['type'], 'rows'> };

/**
 * An event's weight: a rows event weighs its rows (at least one, wherever
 * they are: decoded, prepared or as a binlog event) and its bytes, so that
 * memory stays bounded however many or large the rows are; any other
 * event weighs one.
 */
export function eventWeight(event: WeighedEvent): number {
  return event.type === 'rows' ? rowsWeight(rowCount(event), event.bytes) : 1;
}

/** A rows event's weight, by its rows and bytes (see eventWeight). */
export function rowsWeight(rows: number, bytes: number): number {
  return Math.max(1, rows) + weightOfBytes(bytes);
}
