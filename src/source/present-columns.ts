// Pure: which columns a rows event's images hold, from its columns-present
// bitmaps (binlog-source.ts): as flags per column, the table's hidden
// columns left out, and the all-ones bitmap of a full image.
import { allSetAt } from '../binlog/event-head.js';
import { allPresent, type TableDef } from './events.js';

/** Bitmaps of every column, by length in bytes. */
const ALL_ONES: Uint8Array[] = [];

export function allOnes(bytes: number): Uint8Array {
  return (ALL_ONES[bytes] ??= new Uint8Array(bytes).fill(0xff));
}

/** A rows event's present columns, less the table's hidden ones (see hidden-columns.ts): never written nor compared. */
export function visible(table: TableDef, present: boolean[]): boolean[] {
  const { columns } = table;
  if (!columns[columns.length - 1]?.hidden) return present;
  return present.map((p, i) => p && !columns[i]!.hidden);
}

/** A columns-present bitmap as flags per column (every column: the shared allPresent array). */
export function bitmapToFlags(bitmap: Uint8Array | undefined, count: number): boolean[] {
  if (!bitmap || allSetAt(bitmap, 0, count)) return allPresent(count);
  const flags: boolean[] = [];
  for (let i = 0; i < count; i++) flags.push((bitmap[i >> 3]! & (1 << (i & 7))) !== 0);
  return flags;
}
