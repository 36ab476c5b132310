// The source's GTID state after each transaction, kept as the server writes
// it: a MariaDB GTID position, one `domain-server-sequence` per domain
// (`0-1-8812,1-2-5`). A new transaction replaces its domain's entry, as
// @@gtid_binlog_pos does. Sequence numbers stay strings: they are 64-bit.

export class MariadbGtidState {
  private readonly domains = new Map<string, string>();
  /** toString()'s answer until the next add (asked after every transaction). */
  private text: string | undefined;

  static parse(text: string): MariadbGtidState {
    const state = new MariadbGtidState();
    for (const part of text.split(',').map((s) => s.trim()).filter(Boolean)) {
      if (!/^\d+-\d+-\d+$/.test(part)) throw new Error(`not a MariaDB GTID position: ${text}`);
      state.add(part);
    }
    return state;
  }

  add(gtid: string): void {
    const domain = gtid.slice(0, gtid.indexOf('-'));
    this.domains.set(domain, gtid);
    // (One domain, the common case: the position is its GTID.)
    this.text = this.domains.size === 1 ? gtid : undefined;
  }

  toString(): string {
    return (this.text ??= [...this.domains.entries()]
      .sort(([a], [b]) => Number(a) - Number(b))
      .map(([, g]) => g)
      .join(','));
  }
}

export function isMariadbGtid(text: string): boolean {
  return /^\d+-\d+-\d+(,\s*\d+-\d+-\d+)*$/.test(text.trim());
}

/**
 * True when MariaDB GTID position `applied` includes everything in `target`:
 * for every domain of the target, the applied sequence number is at least as
 * high (server ids may differ after a failover; sequence numbers are exact
 * 64-bit values, compared as BigInt).
 */
export function gtidCovers(applied: string, target: string): boolean {
  if (!isMariadbGtid(target) || (applied.trim() !== '' && !isMariadbGtid(applied))) return false;
  const seqByDomain = new Map<string, bigint>();
  for (const part of applied.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [domain, , seq] = part.split('-');
    seqByDomain.set(domain!, BigInt(seq!));
  }
  return target
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .every((part) => {
      const [domain, , seq] = part.split('-');
      const have = seqByDomain.get(domain!);
      return have !== undefined && have >= BigInt(seq!);
    });
}
