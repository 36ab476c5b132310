// Pure: one source transaction as a relay message, and back. The payload is
// binlog bytes as the source wrote them: the format description event in
// force, then the transaction's events (a binlog event says its own length,
// so the events need no framing of their own). Every message carries the
// format description, so that a consumer can start at any message and
// decode it alone. Headers say where the transaction is in the source's
// binlog. A transaction larger than the server's largest message goes as
// several parts (each with the format description), cut between events.
import { RelayStreamError } from '../errors.js';
import { EVENT_HEADER_BYTES, FORMAT_DESCRIPTION_EVENT } from '../binlog/event-bytes.js';

export const HEADER = {
  file: 'Binlog-File',
  position: 'Binlog-Position',
  gtid: 'Binlog-Gtid',
  commitTime: 'Binlog-Commit-Time',
  after: 'Binlog-After',
  part: 'Binlog-Part',
} as const;

/** Where a message's transaction is in the source's binlog. */
export interface MessagePlace {
  /** The binlog file and the offset just after the transaction's last event. */
  file: string;
  position: number;
  /** The transaction's own GTID (MariaDB `0-1-42`, MySQL `uuid:42`), when it has one. */
  gtid: string | null;
  /** Source commit time, ms since the epoch (binlog times are whole seconds). */
  commitTime: number;
  /**
   * Where the relay read before this transaction: the end of the transaction
   * it published before, or where it started. Nothing of the selected
   * databases lies between `after` and this transaction, so a replica whose
   * position is there continues with this message.
   */
  after: { file: string; position: number };
  /** Part `part` of `parts` (1 of 1 for most). */
  part: number;
  parts: number;
}

/**
 * The message id JetStream de-duplicates by: the source position (a
 * transaction is identified by where it ends), and the part.
 */
export function messageId(place: Pick<MessagePlace, 'file' | 'position' | 'part' | 'parts'>): string {
  const id = `${place.file}:${place.position}`;
  return place.parts === 1 ? id : `${id}/${place.part}of${place.parts}`;
}

export function placeHeaders(place: MessagePlace): Record<string, string> {
  return {
    [HEADER.file]: place.file,
    [HEADER.position]: String(place.position),
    ...(place.gtid ? { [HEADER.gtid]: place.gtid } : {}),
    [HEADER.commitTime]: new Date(place.commitTime).toISOString(),
    [HEADER.after]: `${place.after.file}:${place.after.position}`,
    [HEADER.part]: `${place.part}/${place.parts}`,
  };
}

/** A message's place from its headers (`get` reads one header); refuses a message that is not one of ours. */
export function parsePlace(get: (name: string) => string | undefined, seq: number): MessagePlace {
  const bad = (what: string): never => {
    throw new RelayStreamError(`stream message ${seq} is not a binlog-sync relay message (${what}); is another program publishing on the stream's subject?`);
  };
  const file = get(HEADER.file) || bad(`no ${HEADER.file} header`);
  const position = Number(get(HEADER.position));
  if (!Number.isSafeInteger(position) || position <= 0) bad(`${HEADER.position} is not an offset`);
  const commitTime = Date.parse(get(HEADER.commitTime) ?? '');
  if (Number.isNaN(commitTime)) bad(`${HEADER.commitTime} is not a time`);
  const after = /^(.+):(\d+)$/.exec(get(HEADER.after) ?? '') ?? bad(`${HEADER.after} is not FILE:POS`);
  const part = /^(\d+)\/(\d+)$/.exec(get(HEADER.part) ?? '1/1') ?? bad(`${HEADER.part} is not K/N`);
  const gtid = get(HEADER.gtid);
  return {
    file,
    position,
    gtid: gtid ? gtid : null,
    commitTime,
    after: { file: after[1]!, position: Number(after[2]) },
    part: Number(part[1]),
    parts: Number(part[2]),
  };
}

/**
 * The payloads of one transaction: the format description, then as many
 * whole events as fit in `maxBytes`; more parts when they do not. An event
 * that does not fit in a message at all is refused, naming the fix.
 */
export function transactionPayloads(format: Uint8Array, events: readonly Uint8Array[], maxBytes: number): Buffer[] {
  const payloads: Buffer[] = [];
  let part: Uint8Array[] = [format];
  let size = format.length;
  for (const event of events) {
    if (format.length + event.length > maxBytes) {
      throw new RelayStreamError(
        `a binlog event of ${event.length} bytes does not fit in a NATS message (the server's max_payload is ${maxBytes} bytes); ` +
          'raise max_payload in the NATS server configuration (up to 64 MB), then start the relay again',
      );
    }
    if (size + event.length > maxBytes) {
      payloads.push(Buffer.concat(part, size));
      part = [format];
      size = format.length;
    }
    part.push(event);
    size += event.length;
  }
  payloads.push(Buffer.concat(part, size));
  return payloads;
}

/** A payload's format description event and the events after it (views of `payload`); refuses anything that is not whole events. */
export function splitPayload(payload: Uint8Array, seq: number): { format: Uint8Array; events: Uint8Array[] } {
  const events: Uint8Array[] = [];
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  for (let at = 0; at < payload.length; ) {
    const length = at + EVENT_HEADER_BYTES <= payload.length ? view.getUint32(at + 9, true) : 0;
    if (length < EVENT_HEADER_BYTES || at + length > payload.length) {
      throw new RelayStreamError(`stream message ${seq} does not hold whole binlog events (byte ${at} of ${payload.length}); it is not a binlog-sync relay message`);
    }
    events.push(payload.subarray(at, at + length));
    at += length;
  }
  const format = events.shift();
  if (!format || format[4] !== FORMAT_DESCRIPTION_EVENT) {
    throw new RelayStreamError(`stream message ${seq} does not begin with a format description event; it is not a binlog-sync relay message`);
  }
  return { format, events };
}
