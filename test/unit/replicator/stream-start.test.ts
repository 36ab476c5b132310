// Where `start` streams a MySQL source from (src/replicator/stream-start.ts):
// a stored MySQL GTID set (tagged GTIDs included) is the resume position, asked
// of the source by GTID (COM_BINLOG_DUMP_GTID) and kept up to date from there;
// a position without one resumes by file and offset. (No query is made for a
// MySQL source: the control connection is not used.)
import { describe, expect, it } from 'vitest';
import { resolveStreamStart } from '../../../src/replicator/stream-start.js';
import type { Connection } from '../../../src/db/connect.js';
import type { SourceInfo } from '../../../src/source/source-server.js';

const MYSQL: SourceInfo = { flavor: 'mysql', version: '9.6.0', serverId: 1, variables: { gtid_mode: 'ON' } };
const UNUSED = {} as Connection;
const SET = '55778904-0299-11f1-b1b8-4ef0c4956feb:1-13:mytag:1-2';

describe('resolveStreamStart on MySQL', () => {
  it('resumes by a stored GTID set (written as MySQL writes it), keeping the file to name it', async () => {
    const resolved = await resolveStreamStart(UNUSED, MYSQL, { file: 'binlog.000003', position: 585, gtid: ` ${SET.toUpperCase()}\n` });
    expect(resolved).toEqual({
      position: { file: 'binlog.000003', position: 585, gtid: SET },
      gtidKnown: true,
      gtidFlavor: 'mysql',
      stream: { gtid: SET, file: 'binlog.000003', position: 585 },
    });
  });

  it('resumes by file and offset without a GTID set (or with a MariaDB GTID, which a MySQL source does not have)', async () => {
    for (const gtid of [null, '', '0-1-5']) {
      const resolved = await resolveStreamStart(UNUSED, MYSQL, { file: 'binlog.000003', position: 585, gtid });
      expect(resolved).toEqual({
        position: { file: 'binlog.000003', position: 585, gtid: null },
        gtidKnown: false,
        gtidFlavor: 'mysql',
        stream: { file: 'binlog.000003', position: 585 },
      });
    }
  });

  it('takes a stored GTID set without a file (position set --gtid)', async () => {
    const resolved = await resolveStreamStart(UNUSED, MYSQL, { file: null, position: null, gtid: SET });
    expect(resolved.stream).toEqual({ gtid: SET, file: null, position: null });
  });
});
