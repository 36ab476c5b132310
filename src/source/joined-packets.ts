// Part of the zongji adapter: the binlog connection's large events are put
// together in one buffer as they arrive. An event larger than 16 MiB comes
// as several packets, which mysql2 keeps apart and then joins
// (Buffer.concat): for a moment the event is in memory twice, a 200 MB
// update 400 MB more. A binlog event says its length in its header, in the
// first packet: the whole buffer is allocated then, and each packet is
// copied into it as it comes. Anything else (no such header, a length that
// does not add up) is joined as mysql2 does.
// (mysql2 exposes neither; its parser's fields are reached on the
// connection, as connection.packetParser.)

/** The binlog packet's OK byte, then the event header: timestamp (4), type (1), server id (4), event length (4). */
const EVENT_LENGTH_OFFSET = 1 + 4 + 1 + 4;
/** No event is larger than the most a server sends (1 GiB), and its header. */
const MAX_EVENT_BYTES = 1024 * 1024 * 1024 + 1024;
/** mysql2 puts a 4-byte packet header in front of a joined packet (zeros). */
const HEADER = 4;

interface PacketLike {
  numPackets: number;
}

interface ParserInternals {
  packetHeaderLength: number;
  firstPacketSequenceId: number;
  largePacketParts: { length: number; push(part: Buffer): number };
  onPacket(packet: PacketLike): void;
  _flushLargePacket(): void;
  _reusablePacket: { constructor: new (id: number, buffer: Buffer, start: number, end: number) => PacketLike };
}

/** The parts of one large packet, copied into the event's buffer as they come (see the file comment). */
export class JoinedParts {
  private body: Buffer | undefined;
  private filled = HEADER;
  private list: Buffer[] = [];
  private count = 0;

  /** How many parts (mysql2 reads 0 as "no large packet under way"). */
  get length(): number {
    return this.count;
  }

  set length(value: number) {
    if (value === 0) this.reset();
  }

  push(part: Buffer): number {
    if (this.count === 0) {
      const total = announcedLength(part);
      if (total !== undefined) this.body = Buffer.allocUnsafe(HEADER + total);
    }
    if (this.body && this.filled + part.length <= this.body.length) {
      part.copy(this.body, this.filled);
      this.filled += part.length;
    } else {
      // Not as announced: the parts so far, and this one, joined at the end.
      if (this.body) this.list = [this.body.subarray(HEADER, this.filled)];
      this.body = undefined;
      this.list.push(part);
    }
    return ++this.count;
  }

  /** The whole packet, with the 4 bytes in front that mysql2 leaves for a header; and starts over. */
  take(): { buffer: Buffer; parts: number } {
    let buffer: Buffer;
    if (this.body) {
      buffer = this.filled === this.body.length ? this.body : this.body.subarray(0, this.filled);
      buffer.fill(0, 0, HEADER);
    } else {
      buffer = Buffer.concat([Buffer.alloc(HEADER), ...this.list]);
    }
    const parts = this.count;
    this.reset();
    return { buffer, parts };
  }

  private reset(): void {
    this.body = undefined;
    this.filled = HEADER;
    this.list = [];
    this.count = 0;
  }
}

/** The packet's length as the binlog event in it says (OK byte and event), when it is one. */
export function announcedLength(first: Buffer): number | undefined {
  if (first.length < EVENT_LENGTH_OFFSET + 4 || first[0] !== 0x00) return undefined;
  const total = 1 + first.readUInt32LE(EVENT_LENGTH_OFFSET);
  return total > first.length && total <= MAX_EVENT_BYTES ? total : undefined;
}

/** Makes a mysql2 connection's parser join large packets in place (the binlog connection's: see above). */
export function joinLargePackets(connection: unknown): void {
  const parser = (connection as { packetParser?: ParserInternals } | null)?.packetParser;
  // (The compressed protocol's parser, with its 7-byte headers, is left as it is.)
  if (!parser || parser.packetHeaderLength !== 4 || !Array.isArray(parser.largePacketParts) || parser.largePacketParts.length > 0) return;
  const Packet = parser._reusablePacket.constructor;
  const parts = new JoinedParts();
  parser.largePacketParts = parts;
  parser._flushLargePacket = function flush(this: ParserInternals): void {
    const { buffer, parts: count } = parts.take();
    const packet = new Packet(this.firstPacketSequenceId, buffer, 0, buffer.length);
    packet.numPackets = count;
    this.onPacket(packet);
  };
}
