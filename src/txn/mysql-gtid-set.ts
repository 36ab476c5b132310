// Pure: MySQL GTID sets, the form of @@gtid_executed and of a MySQL
// replica's resume position: per source UUID, intervals of transaction
// numbers, untagged and (MySQL 8.3+) per tag:
// `55778904-0299-11f1-b1b8-4ef0c4956feb:1-13:mytag:1-2,3e11fa47-...:1-5`.
// A GTID is `uuid:n` or `uuid:tag:n`. Numbers are 64-bit: BigInt.

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** A tag: a letter or underscore, then letters, digits and underscores, 32 at most (MySQL lowercases it). */
const TAG = /^[a-z_][a-z0-9_]{0,31}$/;
const INTERVAL = /^(\d+)(?:-(\d+))?$/;

type Interval = [bigint, bigint];

/** `uuid` or `uuid:tag`: the key of a set's intervals. */
function keyOf(uuid: string, tag: string): string {
  return tag ? `${uuid}:${tag}` : uuid;
}

export class MysqlGtidSet {
  /** Per `uuid` / `uuid:tag`, sorted, disjoint and not adjacent intervals (inclusive). */
  private readonly intervals = new Map<string, Interval[]>();

  /** A set as MySQL writes it (whitespace and newlines allowed, as @@gtid_executed has them); '' is the empty set. Throws on anything else. */
  static parse(text: string): MysqlGtidSet {
    const set = new MysqlGtidSet();
    for (const entry of text.replace(/\s+/g, '').split(',').filter(Boolean)) {
      const parts = entry.toLowerCase().split(':');
      const uuid = parts[0]!;
      if (!UUID.test(uuid) || parts.length < 2) throw new Error(`not a MySQL GTID set: ${text}`);
      let tag = '';
      for (const part of parts.slice(1)) {
        const m = INTERVAL.exec(part);
        if (m) {
          const from = BigInt(m[1]!);
          const to = BigInt(m[2] ?? m[1]!);
          if (from < 1n || to < from) throw new Error(`not a MySQL GTID set: ${text}`);
          set.addInterval(keyOf(uuid, tag), [from, to]);
        } else if (TAG.test(part)) {
          tag = part;
        } else {
          throw new Error(`not a MySQL GTID set: ${text}`);
        }
      }
    }
    return set;
  }

  /** Adds one GTID (`uuid:n` or `uuid:tag:n`). */
  add(gtid: string): void {
    const { key, number } = parseGtid(gtid);
    this.addInterval(key, [number, number]);
  }

  has(gtid: string): boolean {
    const { key, number } = parseGtid(gtid);
    return (this.intervals.get(key) ?? []).some(([from, to]) => from <= number && number <= to);
  }

  /** Whether every GTID of `other` is in this set. */
  covers(other: MysqlGtidSet): boolean {
    for (const [key, intervals] of other.intervals) {
      const own = this.intervals.get(key) ?? [];
      if (!intervals.every(([from, to]) => own.some(([a, b]) => a <= from && to <= b))) return false;
    }
    return true;
  }

  isEmpty(): boolean {
    return this.intervals.size === 0;
  }

  /** As MySQL prints it: UUIDs in order, each with its untagged intervals first, then its tags in order. */
  toString(): string {
    const byUuid = new Map<string, Array<[string, Interval[]]>>();
    for (const [key, intervals] of this.intervals) {
      const [uuid, tag = ''] = key.split(':') as [string, string?];
      let tags = byUuid.get(uuid);
      if (!tags) byUuid.set(uuid, (tags = []));
      tags.push([tag, intervals]);
    }
    const range = ([from, to]: Interval): string => (from === to ? `${from}` : `${from}-${to}`);
    return [...byUuid.keys()]
      .sort()
      .map((uuid) => {
        const tags = byUuid.get(uuid)!.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
        return uuid + tags.map(([tag, intervals]) => `${tag ? `:${tag}` : ''}:${intervals.map(range).join(':')}`).join('');
      })
      .join(',');
  }

  private addInterval(key: string, [from, to]: Interval): void {
    const merged: Interval[] = [];
    let adding: Interval = [from, to];
    for (const interval of this.intervals.get(key) ?? []) {
      // (Overlapping or adjacent: one interval.)
      if (interval[1] + 1n < adding[0] || adding[1] + 1n < interval[0]) merged.push(interval);
      else adding = [interval[0] < adding[0] ? interval[0] : adding[0], interval[1] > adding[1] ? interval[1] : adding[1]];
    }
    merged.push(adding);
    merged.sort((a, b) => (a[0] < b[0] ? -1 : 1));
    this.intervals.set(key, merged);
  }
}

/** A MySQL GTID, `uuid:n` or `uuid:tag:n`: its set key and number. Throws on anything else. */
function parseGtid(gtid: string): { key: string; number: bigint } {
  const parts = gtid.trim().toLowerCase().split(':');
  const number = parts.at(-1) ?? '';
  if ((parts.length !== 2 && parts.length !== 3) || !UUID.test(parts[0]!) || !/^\d+$/.test(number) || BigInt(number) < 1n || (parts.length === 3 && !TAG.test(parts[1]!))) {
    throw new Error(`not a MySQL GTID: ${gtid}`);
  }
  return { key: keyOf(parts[0]!, parts.length === 3 ? parts[1]! : ''), number: BigInt(number) };
}

/** Whether `text` is one MySQL GTID (`uuid:n`, `uuid:tag:n`). */
export function isMysqlGtid(text: string): boolean {
  try {
    parseGtid(text);
    return true;
  } catch {
    return false;
  }
}

/** Whether `text` is a MySQL GTID set ('' is the empty one). */
export function isMysqlGtidSet(text: string): boolean {
  try {
    MysqlGtidSet.parse(text);
    return true;
  } catch {
    return false;
  }
}
