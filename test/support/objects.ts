// What information_schema says about a database's views, routines, events
// and triggers: what the object tests compare between servers.
import type { Connection } from 'mysql2/promise';
import mysql from 'mysql2/promise';
import { EXACT_VALUES } from './context.js';
import type { ManagedServer } from './servers.js';

/** Everything information_schema says about a database's views, routines, events and triggers. */
export interface Objects {
  views: Array<Record<string, unknown>>;
  routines: Array<Record<string, unknown>>;
  parameters: Array<Record<string, unknown>>;
  events: Array<Record<string, unknown>>;
  triggers: Array<Record<string, unknown>>;
}

export async function objectsOf(server: ManagedServer, database: string): Promise<Objects> {
  const conn: Connection = await mysql.createConnection({ uri: server.info.adminUrl, ...EXACT_VALUES });
  const rows = async (sql: string): Promise<Array<Record<string, unknown>>> => (await conn.query(sql, [database]))[0] as Array<Record<string, unknown>>;
  try {
    return {
      views: await rows(
        `SELECT TABLE_NAME, VIEW_DEFINITION, CHECK_OPTION, IS_UPDATABLE, DEFINER, SECURITY_TYPE, CHARACTER_SET_CLIENT,
                COLLATION_CONNECTION, ALGORITHM
           FROM information_schema.VIEWS WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME`,
      ),
      routines: await rows(
        `SELECT ROUTINE_NAME, ROUTINE_TYPE, DTD_IDENTIFIER, ROUTINE_BODY, ROUTINE_DEFINITION, IS_DETERMINISTIC, SQL_DATA_ACCESS,
                SECURITY_TYPE, SQL_MODE, ROUTINE_COMMENT, DEFINER, CHARACTER_SET_CLIENT, COLLATION_CONNECTION, DATABASE_COLLATION
           FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ? ORDER BY ROUTINE_NAME, ROUTINE_TYPE`,
      ),
      parameters: await rows(
        `SELECT SPECIFIC_NAME, ORDINAL_POSITION, PARAMETER_MODE, PARAMETER_NAME, DTD_IDENTIFIER, ROUTINE_TYPE
           FROM information_schema.PARAMETERS WHERE SPECIFIC_SCHEMA = ? ORDER BY SPECIFIC_NAME, ROUTINE_TYPE, ORDINAL_POSITION`,
      ),
      events: await rows(
        // Times are in the event's TIME_ZONE: the tests create events in an explicit zone, as
        // SYSTEM is each server's own (and the replicas' zones differ on purpose).
        `SELECT EVENT_NAME, DEFINER, TIME_ZONE, EVENT_BODY, EVENT_DEFINITION, EVENT_TYPE, INTERVAL_VALUE, INTERVAL_FIELD,
                EXECUTE_AT, STARTS, ENDS, SQL_MODE, STATUS, ON_COMPLETION, EVENT_COMMENT, CHARACTER_SET_CLIENT, COLLATION_CONNECTION
           FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ? ORDER BY EVENT_NAME`,
      ),
      triggers: await rows('SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ? ORDER BY TRIGGER_NAME'),
    };
  } finally {
    await conn.end();
  }
}

