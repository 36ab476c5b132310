// Where a replica continues in a relay's stream: the first message whose
// transaction ends after the replica's position, found by bisection over
// the stream's sequences (messages are in source order), so the replica's
// checkpoint needs only the source position it already keeps. Whether that
// message really follows the position with nothing lost between is checked
// when it is read (see source/stream-transport.ts).
import { RelayStreamError } from '../errors.js';
import { compareFilePositions } from '../position.js';
import type { StoredMessage } from './nats-stream.js';

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
