// Pure: the relay's cut of the source's binlog into the transactions it
// publishes. Fed the raw events of the dump in order (as the source wrote
// them); says for each event group (replay/groups.ts finds the boundaries)
// whether it is one of the selected databases' and, if so, which of its
// events go into the message: its GTID event, BEGIN/COMMIT, XID, DDL and
// statements of the selected databases, and the table maps and rows events
// of their tables. Rows of other tables are left out (with their table
// maps); when the rows event that ended a statement is left out, the last
// one kept gets the statement-end flag instead, so that consumers see the
// statement end. Events consumers never read (annotations, GTID lists,
// checkpoints, heartbeats, user variables) are left out too. XA groups go
// whole (a consumer's XA COMMIT must find the XA transaction prepared).
import { EVENT_HEADER_BYTES, FORMAT_DESCRIPTION_EVENT, TABLE_MAP_EVENT, crc32, hasChecksums, tableMapNames } from '../binlog/event-bytes.js';
import { eventTableId, headerNextPosition, headerTimestampMs } from '../binlog/event-head.js';
import { EVENT, gtidFacts, queryHead } from '../replay/event-facts.js';
import { GroupTracker } from '../replay/groups.js';
import { classifyStatement } from '../txn/ddl/classify.js';
import type { ReplicationFilter } from '../txn/filter.js';

/** A transaction of the selected databases, its events ready to publish. */
export interface CutTransaction {
  kind: 'transaction';
  events: Buffer[];
  /** The format description event in force (its bytes as the source sent them). */
  format: Buffer;
  file: string;
  /** The offset just after its last event. */
  position: number;
  gtid: string | null;
  /** Source commit time (ms): its last event's time. */
  commitTime: number;
}

/** The stream read past something of no interest (another database's transaction, a rotation): the read position moves. */
export interface CutPassed {
  kind: 'passed';
  file: string;
  position: number;
  /** The passed transaction's own GTID (where the relay then is, by GTID); null for a rotation. */
  gtid: string | null;
}

export type CutResult = CutTransaction | CutPassed;

const ROTATE = 4;
const HEARTBEAT = 27;
/** Rows events: v1, v2, MySQL's partial JSON update, MariaDB's compressed ones. */
const ROWS_EVENTS = new Set([23, 24, 25, 30, 31, 32, 39, 166, 167, 168, 169, 170, 171]);
/** Events kept in a group besides rows and table maps (what a consumer's decoder reads). */
const GROUP_EVENTS = new Set<number>([
  EVENT.QUERY,
  EVENT.XID,
  EVENT.MYSQL_GTID,
  EVENT.MYSQL_ANONYMOUS_GTID,
  EVENT.MYSQL_GTID_TAGGED,
  EVENT.MARIADB_GTID,
  EVENT.XA_PREPARE,
  EVENT.TRANSACTION_PAYLOAD,
]);
/** Statements that frame a transaction: kept whenever their group is. */
const FRAMING = /^(BEGIN|COMMIT|ROLLBACK|START\s+TRANSACTION|XA\s+(START|END|PREPARE|COMMIT|ROLLBACK))\b/;
const STMT_END_F = 1;
/** MariaDB GTID flags: the group prepares, or completes, an XA transaction. */
const FL_XA = 64 | 128;
const QUERY_POST_HEADER = 13;
const LOG_EVENT_ARTIFICIAL_F = 0x20;

export class TransactionCutter {
  private file: string;
  private format: Buffer | undefined;
  private checksum = 0;
  private readonly groups = new GroupTracker();
  /** The open group's kept events, and whether anything of ours is in it. */
  private kept: Buffer[] = [];
  private ours = false;
  private gtid: string | null = null;
  private end = 0;
  private time = 0;
  /** Table ids of the open group's tables, and whether each is selected. */
  private readonly tables = new Map<number, boolean>();
  /** The last rows event kept in the statement being read (its flag may have to end the statement). */
  private lastRows: number | undefined;

  /**
   * `checksums` says whether events end with a CRC32 before a format
   * description tells (the dump's first rotate comes before it).
   */
  constructor(
    private readonly filter: ReplicationFilter,
    start: { file: string },
    private readonly checksums: () => boolean,
  ) {
    this.file = start.file;
  }

  /** The file being read. */
  get currentFile(): string {
    return this.file;
  }

  /**
   * One event (the cutter's to keep and change), in stream order:
   * what it completes, if anything.
   */
  feed(event: Buffer): CutResult | undefined {
    const type = event[4]!;
    const end = event.length;
    if (type === FORMAT_DESCRIPTION_EVENT) {
      this.format = event;
      this.checksum = hasChecksums(event) ? 4 : 0;
      return undefined;
    }
    if (type === ROTATE) {
      const artificial = (event.readUInt16LE(17) & LOG_EVENT_ARTIFICIAL_F) !== 0;
      const position = Number(event.readBigUInt64LE(EVENT_HEADER_BYTES));
      const checksum = this.format ? this.checksum : this.checksums() ? 4 : 0;
      const name = event.toString('utf8', EVENT_HEADER_BYTES + 8, end - checksum);
      const moved = name !== this.file;
      this.file = name;
      return moved || !artificial ? { kind: 'passed', file: name, position: Math.max(position, 4), gtid: null } : undefined;
    }
    if (type === HEARTBEAT) return undefined;
    const head = type === EVENT.QUERY ? queryHead(event, 0, end, this.checksum) : undefined;
    const gtid = GROUP_STARTS_GTID.has(type) ? gtidFacts(event, 0, end, this.checksum) : undefined;
    const step = this.groups.feed(type, 0, head, gtid);
    if (step === 'outside') return undefined;
    if (step === 'open' || step === 'single') this.begin(event, gtid?.gtid ?? null);
    this.take(event, type, head);
    if (step === 'closed' || step === 'single') return this.close();
    return undefined;
  }

  private begin(event: Buffer, gtid: string | null): void {
    this.kept = [];
    this.ours = false;
    this.gtid = gtid;
    this.tables.clear();
    this.lastRows = undefined;
    // An XA group goes whole: see the file comment.
    if (event[4] === EVENT.MARIADB_GTID && event.length > EVENT_HEADER_BYTES + 12 && (event[EVENT_HEADER_BYTES + 12]! & FL_XA) !== 0) this.ours = true;
  }

  /** One event of the open group: kept, or left out. */
  private take(event: Buffer, type: number, head: string | undefined): void {
    const next = headerNextPosition(event, 0);
    // (MariaDB 11.4+ writes 0 inside a transaction: the group ends where its last event says.)
    if (next > 0) this.end = next;
    this.time = headerTimestampMs(event, 0) || this.time;
    if (type === TABLE_MAP_EVENT) {
      const { database, table } = tableMapNames(event);
      const selected = this.filter.replicatesTable(database, table);
      this.tables.set(eventTableId(event, 0), selected);
      if (selected) this.kept.push(event);
      return;
    }
    if (ROWS_EVENTS.has(type)) {
      const flags = event.readUInt16LE(EVENT_HEADER_BYTES + 6);
      if (this.tables.get(eventTableId(event, 0)) === true) {
        this.kept.push(event);
        this.ours = true;
        this.lastRows = (flags & STMT_END_F) !== 0 ? undefined : this.kept.length - 1;
      } else if ((flags & STMT_END_F) !== 0 && this.lastRows !== undefined) {
        this.endStatementAt(this.kept[this.lastRows]!);
        this.lastRows = undefined;
      }
      return;
    }
    if (!GROUP_EVENTS.has(type)) return;
    if (type === EVENT.QUERY && head !== undefined && !FRAMING.test(head)) {
      if (!this.statementIsOurs(event)) return;
      this.ours = true;
    }
    // (A compressed MySQL transaction is not looked into: it goes whole, and consumers open it as `start` does.)
    if (type === EVENT.TRANSACTION_PAYLOAD) this.ours = true;
    this.kept.push(event);
  }

  private close(): CutResult {
    const position = { file: this.file, position: this.end };
    if (!this.ours || !this.format) return { kind: 'passed', ...position, gtid: this.gtid };
    return { kind: 'transaction', events: this.kept, format: this.format, ...position, gtid: this.gtid, commitTime: this.time };
  }

  /** Whether a statement is about the selected databases, as the consumers' own filter would tell (txn/assembler.ts). */
  private statementIsOurs(event: Buffer): boolean {
    const post = EVENT_HEADER_BYTES;
    const dbLength = event[post + 8]!;
    const statusLength = event.readUInt16LE(post + 11);
    const dbAt = post + QUERY_POST_HEADER + statusLength;
    const database = event.toString('utf8', dbAt, dbAt + dbLength);
    const sql = event.toString('utf8', dbAt + dbLength + 1, event.length - this.checksum);
    const ours = (db: string | undefined): boolean => db !== undefined && this.filter.replicatesDatabase(db);
    let info;
    try {
      info = classifyStatement(sql, database || undefined);
    } catch {
      return true; // (what cannot be read is the consumers' to refuse, not ours to drop)
    }
    switch (info.kind) {
      case 'ddl':
        if (info.scope === 'database') return ours(info.database);
        if (info.scope === 'object') return info.objects.some((o) => ours(o.database));
        return info.tables.some((t) => ours(t.database)) || ours(info.like?.database);
      case 'ignored':
        return false;
      case 'other':
        return info.databases.some(ours);
      case 'unparsable':
        return true;
    }
  }

  /** Sets a rows event's statement-end flag (its checksum made anew). */
  private endStatementAt(event: Buffer): void {
    const at = EVENT_HEADER_BYTES + 6;
    event.writeUInt16LE(event.readUInt16LE(at) | STMT_END_F, at);
    if (this.checksum) event.writeUInt32LE(crc32(event.subarray(0, event.length - 4)), event.length - 4);
  }
}

const GROUP_STARTS_GTID = new Set<number>([EVENT.MARIADB_GTID, EVENT.MYSQL_GTID, EVENT.MYSQL_ANONYMOUS_GTID, EVENT.MYSQL_GTID_TAGGED]);
