// A replication position: where in the source's binlog a transaction ended.
// It is only ever a transaction boundary (never inside one), so resuming
// from it replays whole transactions.

export interface BinlogPosition {
  /** Binlog file, e.g. `mysql-bin.000012`; null when only the GTID is known. */
  file: string | null;
  /** Offset just after the transaction's last event; null with `file`. */
  position: number | null;
  /**
   * The source's GTID state after this transaction: a MariaDB GTID position
   * (`0-1-8812,1-2-5`) or a MySQL GTID set (`uuid:1-5`); null when unknown.
   */
  gtid: string | null;
}

/** A position with the time it was applied and the source commit time it corresponds to. */
export interface AppliedPosition extends BinlogPosition {
  /** When binlog-sync committed it on the replica (ISO 8601). */
  appliedAt: string;
  /** Source commit time of the transaction (ms since epoch), when known. */
  sourceTimestamp: number | null;
  /**
   * The sequence of the relay stream's message that holds this transaction
   * (its last part): `start --from`, where the next one is read after it
   * (see relay/locate.ts); what the relay last published, for a relay's own
   * state. Null (or absent) for a position not of a stream: read from a
   * source, or set by file and offset.
   */
  streamSeq?: number | null;
}

/** Sequence number of a binlog file name (`mysql-bin.000012` → 12), or NaN. */
export function binlogFileNumber(file: string): number {
  const m = /\.(\d+)$/.exec(file);
  return m ? Number(m[1]) : Number.NaN;
}

/**
 * Orders two file/offset positions: negative when a is earlier, positive when
 * later, 0 when equal. Undefined (null) when they cannot be compared (a file
 * is missing, or the files have different base names).
 */
export function compareFilePositions(a: BinlogPosition, b: BinlogPosition): number | null {
  if (a.file === null || b.file === null || a.position === null || b.position === null) return null;
  if (a.file === b.file) return a.position - b.position;
  const baseA = a.file.replace(/\.\d+$/, '');
  const baseB = b.file.replace(/\.\d+$/, '');
  const order = binlogFileNumber(a.file) - binlogFileNumber(b.file);
  return baseA !== baseB || Number.isNaN(order) ? null : order;
}

/** `mysql-bin.000012:5531 gtid 0-1-8812`, for logs and messages. */
export function formatPosition(p: BinlogPosition): string {
  const parts: string[] = [];
  if (p.file !== null) parts.push(`${p.file}:${p.position ?? '?'}`);
  if (p.gtid) parts.push(`gtid ${p.gtid}`);
  return parts.length ? parts.join(' ') : '(none)';
}
