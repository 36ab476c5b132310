// Pure: where the event groups (source transactions) of a binlog begin and
// end, from the few facts event-facts.ts reads. A replay only ever starts
// and stops between groups, as a stream resumes only at a transaction
// boundary: a group is a GTID event (or a BEGIN) up to its XID, its COMMIT
// or ROLLBACK, its XA PREPARE, or, standing alone (DDL), its one statement.
import { EVENT } from './event-facts.js';

/** What an event is to the groups: it opens one, is inside one, closes one, is a group by itself (`single`), or is between groups. */
export type GroupStep = 'open' | 'inside' | 'closed' | 'single' | 'outside';

const GROUP_STARTS = new Set<number>([EVENT.MARIADB_GTID, EVENT.MYSQL_GTID, EVENT.MYSQL_ANONYMOUS_GTID, EVENT.MYSQL_GTID_TAGGED]);
const GROUP_ENDS = new Set<number>([EVENT.XID, EVENT.XA_PREPARE, EVENT.TRANSACTION_PAYLOAD]);
const ENDS_TRANSACTION = /^(COMMIT|ROLLBACK|XA\s+COMMIT|XA\s+ROLLBACK)\b(?!\s+TO\b)/;

export class GroupTracker {
  /** Where the open group began; null between groups. */
  openAt: number | null = null;
  /** The open group's GTID, when its GTID event gave one. */
  gtid: string | undefined;
  /** The open group runs to a COMMIT (or XID), not to its first statement. */
  private transactional = false;

  /**
   * One event, in order. `head` is a Query event's statement start
   * (queryHead), `gtid` a GTID event's facts.
   */
  feed(type: number, at: number, head?: string, gtid?: { gtid: string | undefined; standalone: boolean }): GroupStep {
    if (GROUP_STARTS.has(type)) {
      this.openAt = at;
      this.gtid = gtid?.gtid;
      // A MariaDB GTID event says whether a transaction follows; MySQL's says so with a BEGIN.
      this.transactional = type === EVENT.MARIADB_GTID && gtid?.standalone === false;
      return 'open';
    }
    if (type === EVENT.QUERY) {
      const begins = head !== undefined && /^(BEGIN|START\s+TRANSACTION|XA\s+START)\b/.test(head);
      if (this.openAt === null) {
        if (!begins) return 'single';
        this.openAt = at;
        this.gtid = undefined;
        this.transactional = true;
        return 'open';
      }
      if (begins) {
        this.transactional = true;
        return 'inside';
      }
      if (this.transactional && !(head !== undefined && ENDS_TRANSACTION.test(head))) return 'inside';
      return this.close();
    }
    if (GROUP_ENDS.has(type)) return this.openAt === null ? 'single' : this.close();
    return this.openAt === null ? 'outside' : 'inside';
  }

  private close(): 'closed' {
    this.openAt = null;
    this.transactional = false;
    return 'closed';
  }
}
