// Where a stream starts, decided once per connection: the stored position,
// completed with the source's GTID state at it (MariaDB) so the position
// can be kept up to date per transaction and resumed by GTID.
import type { Connection } from '../db/connect.js';
import { StateError } from '../errors.js';
import type { BinlogPosition } from '../position.js';
import type { StreamStart } from '../source/binlog-source.js';
import { gtidAtPosition, type SourceInfo } from '../source/source-server.js';
import { isMariadbGtid } from '../txn/gtid-position.js';
import { MysqlGtidSet, isMysqlGtidSet } from '../txn/mysql-gtid-set.js';

export interface ResolvedStart {
  /** The position, with its GTID state filled in when it could be learnt. */
  position: BinlogPosition;
  /** `position.gtid` is the source's complete GTID state there (a MariaDB GTID position, or a MySQL GTID set). */
  gtidKnown: boolean;
  /** Which of the two `position.gtid` is. */
  gtidFlavor: 'mariadb' | 'mysql';
  /** What to ask the source for: by GTID where there is a non-empty one, else by file and offset. */
  stream: StreamStart;
}

export async function resolveStreamStart(control: Connection, info: SourceInfo, stored: BinlogPosition): Promise<ResolvedStart> {
  const position: BinlogPosition = { ...stored };
  let gtidKnown = false;
  // A MariaDB GTID position is learnt from the file and offset when not
  // stored; a MySQL GTID set only comes stored (`position set --gtid`, or
  // kept since), and is kept up to date per transaction from there. A MySQL
  // position without one resumes by file and offset.
  if (info.flavor === 'mariadb') {
    if (position.gtid !== null && (position.gtid === '' || isMariadbGtid(position.gtid))) gtidKnown = true;
    else if (position.file && position.position !== null) {
      const gtid = await gtidAtPosition(control, info, position.file, position.position);
      if (gtid !== null) {
        position.gtid = gtid;
        gtidKnown = true;
      }
    }
  } else if (position.gtid !== null && position.gtid !== '' && isMysqlGtidSet(position.gtid)) {
    position.gtid = MysqlGtidSet.parse(position.gtid).toString();
    gtidKnown = true;
  } else {
    position.gtid = null;
  }
  if (!position.file && !(gtidKnown && position.gtid)) {
    throw new StateError('the stored position has neither a binlog file nor a GTID; set one with `binlog-sync position set`');
  }
  // File and offset travel along with a GTID start, to name the binlog in messages.
  const stream: StreamStart =
    gtidKnown && position.gtid ? { gtid: position.gtid, file: position.file, position: position.position } : { file: position.file, position: position.position };
  return { position, gtidKnown, gtidFlavor: info.flavor, stream };
}
