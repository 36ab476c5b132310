// The recorded binlog files of test/fixtures/binlogs as binlog-sync's source
// reads them: the real zongji, fed a file by the replay transport as a source
// would stream it (src/source/file-transport.ts).
import { join } from 'node:path';
import { planReplay } from '../../src/replay/plan.js';
import { BinlogSource } from '../../src/source/binlog-source.js';
import { FileTransport } from '../../src/source/file-transport.js';
import { createLogger } from '../../src/log/logger.js';
import type { SourceEvent } from '../../src/source/events.js';
import { REPO_ROOT } from './context.js';

const fixture = (name: string): string => join(REPO_ROOT, 'test', 'fixtures', 'binlogs', name);

/**
 * The columns of mysql.t as the file's own CREATE TABLE (at 570) defines them:
 * `id INT PRIMARY KEY AUTO_INCREMENT, json_col JSON, name VARCHAR(100) AS (json_col->>'$.name'),
 * age INT AS (json_col->'$.age')` (its table maps carry no column names: it was written without
 * binlog_row_metadata=FULL), in the form zongji asks a source for them.
 */
export const T_COLUMNS = [
  { COLUMN_NAME: 'id', COLLATION_NAME: null, CHARACTER_SET_NAME: null, COLUMN_COMMENT: '', COLUMN_TYPE: 'int' },
  { COLUMN_NAME: 'json_col', COLLATION_NAME: null, CHARACTER_SET_NAME: null, COLUMN_COMMENT: '', COLUMN_TYPE: 'json' },
  { COLUMN_NAME: 'name', COLLATION_NAME: 'utf8mb4_0900_ai_ci', CHARACTER_SET_NAME: 'utf8mb4', COLUMN_COMMENT: '', COLUMN_TYPE: 'varchar(100)' },
  { COLUMN_NAME: 'age', COLLATION_NAME: null, CHARACTER_SET_NAME: null, COLUMN_COMMENT: '', COLUMN_TYPE: 'int' },
];

/** Every event binlog-sync's source makes of a recorded file (zongji reading it as from a server). */
export async function decodeFile(file: string): Promise<SourceEvent[]> {
  const plan = await planReplay([fixture(file)], null);
  const events: SourceEvent[] = [];
  await new Promise<void>((resolve, reject) => {
    const source = new BinlogSource({
      endpoint: { host: 'binlog files', port: 0, user: 'test', sslMode: 'DISABLED' },
      serverId: 1,
      start: { file: plan.start.file, position: plan.start.position },
      logger: createLogger({ format: 'json', write: () => undefined }),
      onEvent: (event) => events.push(event),
      onError: reject,
      transport: new FileTransport({
        plan,
        onEnd: () => setImmediate(() => {
          source.stop();
          resolve();
        }),
        tableColumns: (database, table) => (database === 'mysql' && table === 't' ? T_COLUMNS : undefined),
      }),
    });
    source.start().catch(reject);
  });
  return events;
}

