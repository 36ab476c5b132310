// Pure: the GTID of MySQL 8.3+'s tagged GTID event (GTID_TAGGED_LOG_EVENT,
// type 42), `uuid:tag:n`. Its body is one mysql::serialization message
// (libs/mysql/serialization): a format version, the message's size and the
// last field a reader must know, each a varint, then fields in ascending id
// order, each its id (shifted left by one) and its value: 0 flags, 1 the
// source UUID (16 varints), 2 the transaction number (signed varint), 3 the
// tag (length and bytes); later fields (times, sizes) are not needed here.
// A varint's first byte says its length: its trailing one bits, plus one.

/** A reader of varints over `bytes` from `at` to `end`. */
class Varints {
  constructor(
    private readonly bytes: Uint8Array,
    public at: number,
    private readonly end: number,
  ) {}

  next(): bigint {
    if (this.at >= this.end) throw new Error('a tagged GTID event ends early');
    const first = this.bytes[this.at++]!;
    let extra = 0;
    while (extra < 8 && (first >> extra) & 1) extra++;
    if (this.at + extra > this.end) throw new Error('a tagged GTID event ends early');
    let rest = 0n;
    for (let i = 0; i < extra; i++) rest |= BigInt(this.bytes[this.at++]!) << BigInt(8 * i);
    if (extra === 8) return rest;
    return (BigInt(first) >> BigInt(extra + 1)) | (rest << BigInt(8 - (extra + 1)));
  }

  signed(): bigint {
    const u = this.next();
    return u & 1n ? -(u >> 1n) - 1n : u >> 1n;
  }

  /** Whether the next field is `id` (ids below 64 take one byte). */
  fieldIs(id: number): boolean {
    return this.at < this.end && this.bytes[this.at] === id << 1;
  }
}

/** The GTID a tagged GTID event's body (`from` to `end`, its checksum left out) holds: `uuid:tag:n`, or `uuid:n` without a tag. */
export function taggedGtid(bytes: Uint8Array, from: number, end: number): string {
  const reader = new Varints(bytes, from, end);
  const version = reader.next();
  if (version !== 1n) throw new Error(`a tagged GTID event of an unknown format (${version})`);
  const size = Number(reader.next());
  const messageEnd = Math.min(from + size, end);
  const fields = new Varints(bytes, reader.at, messageEnd);
  fields.next(); // the last field that must be known
  if (fields.fieldIs(0)) {
    fields.at++;
    fields.next();
  }
  if (!fields.fieldIs(1)) throw new Error('a tagged GTID event without its source UUID');
  fields.at++;
  const uuid = Array.from({ length: 16 }, () => Number(fields.next()).toString(16).padStart(2, '0')).join('');
  if (!fields.fieldIs(2)) throw new Error('a tagged GTID event without its transaction number');
  fields.at++;
  const number = fields.signed();
  let tag = '';
  if (fields.fieldIs(3)) {
    fields.at++;
    const length = Number(fields.next());
    if (length > 32 || fields.at + length > messageEnd) throw new Error('a tagged GTID event with a malformed tag');
    tag = Buffer.from(bytes.buffer, bytes.byteOffset + fields.at, length).toString('utf8');
  }
  const sid = `${uuid.slice(0, 8)}-${uuid.slice(8, 12)}-${uuid.slice(12, 16)}-${uuid.slice(16, 20)}-${uuid.slice(20)}`;
  return tag ? `${sid}:${tag}:${number}` : `${sid}:${number}`;
}
