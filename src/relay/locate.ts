// Where a replica continues in a relay's stream: the first message whose
// transaction ends after the replica's position. The replica checkpoints
// the sequence of the message it applied last with the position: the
// message after it, when the message at that sequence still ends at the
// position (one read). Otherwise (no sequence stored, a position set by
// file and offset, the stream recreated or trimmed) it is found by
// bisection over the stream's sequences (messages are in source order), by
// the source position alone. Whether that message really follows the
// position with nothing lost between is checked when it is read (see
// source/stream-transport.ts).
import { RelayStreamError } from '../errors.js';
import { compareFilePositions } from '../position.js';
import type { AppliedPosition, BinlogPosition } from '../position.js';
import type { MessagePlace } from './message.js';
import type { StoredMessage } from './nats-stream.js';

/** Where to read from, and how it was found: from the stored sequence (checked), or by the position alone. */
export interface Located {
  seq: number;
  by: 'sequence' | 'search';
}

/**
 * The sequence to read from, as locate() finds it, but from `storedSeq`
 * (the message the replica applied last) when the message there is the
 * last part of the transaction that ends at `at`.
 */
export async function locateFrom(
  at: { file: string; position: number },
  storedSeq: number | null,
  first: number,
  last: number,
  get: (seq: number) => Promise<StoredMessage | null>,
): Promise<Located> {
  if (storedSeq !== null && storedSeq >= Math.max(1, first) && storedSeq <= last) {
    const message = await get(storedSeq);
    if (message && endsAt(message.place, at)) return { seq: storedSeq + 1, by: 'sequence' };
  }
  return { seq: await locate(at, first, last, get), by: 'search' };
}

/** Whether a message is the (last part of the) transaction that ends at `at`. */
export function endsAt(place: MessagePlace, at: { file: string; position: number }): boolean {
  return place.file === at.file && place.position === at.position && place.part === place.parts;
}

/**
 * The stored sequence of the position a replica resumes from: of the first
 * of `records` (the state file's position, the replica's checkpoint) that is
 * at that very position and has one; null when none has.
 */
export function storedSeqOf(at: BinlogPosition, ...records: Array<Pick<AppliedPosition, 'file' | 'position' | 'streamSeq'> | null | undefined>): number | null {
  for (const r of records) {
    if (r && r.streamSeq != null && r.file === at.file && r.position === at.position) return r.streamSeq;
  }
  return null;
}

/**
 * The sequence to read from, in [first, last + 1] (last + 1: everything
 * stored is applied, read what comes next). `get` reads one message
 * (null when it is gone).
 */
export async function locate(
  at: { file: string; position: number },
  first: number,
  last: number,
  get: (seq: number) => Promise<StoredMessage | null>,
): Promise<number> {
  let lo = Math.max(1, first);
  let hi = last + 1;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    const message = await get(mid);
    if (!message) {
      // (Removed meanwhile, by retention from the head: everything before it is gone too.)
      lo = mid + 1;
      continue;
    }
    const order = compareFilePositions({ file: message.place.file, position: message.place.position, gtid: null }, { ...at, gtid: null });
    if (order === null) {
      throw new RelayStreamError(
        `the relay's stream holds binlog ${message.place.file} and the replica is at ${at.file}:${at.position}: they are not of the same source; check --from and the state file`,
      );
    }
    if (order <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
