// A DDL statement on the replica, as the source ran it: its default
// database, sql_mode, time zone and time, with autocommit on, and the helper
// statements around it (a table renamed out is moved aside and dropped; a
// CREATE ... LIKE a table the replica lacks gets a copy of it first). A DDL
// commits on its own, so it cannot commit with its position: the checkpoint
// marks it as started first, and its re-run after a crash takes "already
// done" errors as success.
import { ALREADY_APPLIED_ERRNOS, ER_NO_SUCH_TABLE } from '../db/server-errors.js';
import { ApplyError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { SystemZone } from '../source/source-server.js';
import { clientBytes } from '../sql/client-text.js';
import { quoteIdentifier } from '../sql/identifiers.js';
import type { BatchingOptions } from '../sql/prepare.js';
import type { ApplyAction } from '../txn/assembler.js';
import { serverErrno } from './apply-errors.js';
import type { CheckpointWriter } from './checkpoint-writer.js';
import type { ReplicaConnection } from './replica-connection.js';
import { enterDdlContext, leaveDdlContext } from './session-context.js';
import type { ApplyContext } from './statement-buffer.js';

/** Unknown or incorrect time zone. */
const ER_UNKNOWN_TIME_ZONE = 1298;

type DdlAction = Extract<ApplyAction, { type: 'ddl' }>;

export class DdlApplier {
  /** What `time_zone = SYSTEM` means on the source (an offset), for its DDL; learned when the session connects. */
  sourceSystemZone: SystemZone | undefined;

  constructor(
    private readonly replica: ReplicaConnection,
    private readonly checkpoint: CheckpointWriter,
    private readonly flavor: BatchingOptions['flavor'],
    private readonly logger: Logger,
  ) {}

  /**
   * Runs the DDL. `standalone`: outside any source transaction (marked as
   * started first; the caller records its position). `committing` is called
   * once the open replica transaction, if any, is about to be committed by it.
   */
  async apply(action: DdlAction, context: ApplyContext, standalone: boolean, committing: () => void): Promise<void> {
    const again = this.checkpoint.startedBefore(action.sql);
    if (standalone) await this.checkpoint.markStarted(action.sql, context);
    const zone = this.sourceSystemZone;
    if (action.timeZone?.toUpperCase() === 'SYSTEM' && zone && !zone.steady) {
      this.logger.warn(
        { ...context, offset: zone.offset },
        `this DDL ran under time_zone=SYSTEM, and the source's system zone keeps daylight saving: applied at its offset when binlog-sync connected (${zone.offset}); give the source a default-time-zone to make such DDL exact`,
      );
    }
    await this.enter(action, context, zone?.offset);
    try {
      // Everything sent now is read in the source session's character_set_client: sent in it, as bytes.
      const inClientCharset = (sql: string): Buffer => asBytes(clientBytes(sql, action.encoding));
      if (action.database) await this.replica.run(inClientCharset(`USE ${quoteIdentifier(action.database)}`), [], context, action.verb, action.database);
      // DDL commits implicitly: whatever was open is committed, and later rows need a new transaction.
      committing();
      // Helper statements around it (see the 'ddl' action) are each safe to run again.
      for (const sql of action.before ?? []) await this.replica.run(inClientCharset(sql), [], context, action.verb, action.targets.join(', '));
      const run = (): Promise<unknown> => this.replica.run(inClientCharset(action.sql), [], context, action.verb, action.targets.join(', '));
      await this.underSourceChecks(action, context, run).catch((error: unknown) => {
        // Logged with an error on the source, which did part of it all the same: the same error here is the same outcome.
        if (action.expectedError === undefined || serverErrno(error) !== action.expectedError) {
          throw missingElsewhere(error, action.targets) ?? filledFromSession(error, action.sql) ?? error;
        }
        this.logger.info({ ...context, statement: action.verb, error: action.expectedError }, `${action.verb} ended with error ${action.expectedError} here as on the source`);
      });
      for (const sql of action.after ?? []) await this.replica.run(inClientCharset(sql), [], context, action.verb, action.targets.join(', '));
      this.logger.info({ ...context, statement: action.verb, tables: action.targets }, `applied ${action.verb}`);
    } catch (error) {
      if (!(again && ALREADY_APPLIED_ERRNOS.has(serverErrno(error)))) throw error;
      this.logger.warn({ ...context, statement: action.verb }, `${action.verb} had already been applied before a restart`);
    } finally {
      const leave = leaveDdlContext();
      await this.replica.run(asBytes(leave.sql), leave.params, context, 'session');
    }
  }

  /**
   * Puts the session into the DDL's source context. A collation or
   * character set the replica does not know (MySQL 8's utf8mb4_0900_ai_ci,
   * id 255, on a MariaDB replica before 11.4) is left at the replica
   * session's own, saying so: the server's own replica would stop there.
   */
  private async enter(action: DdlAction, context: ApplyContext, sourceZone: string | undefined): Promise<void> {
    const run = (statement: ReturnType<typeof enterDdlContext>): Promise<unknown> =>
      this.replica.run(statement.sql, statement.params, context, 'session').catch((error: unknown) => {
        throw unknownTimeZone(error, action.timeZone) ?? error;
      });
    try {
      await run(enterDdlContext(action, this.flavor, sourceZone));
    } catch (error) {
      if (!UNKNOWN_CHARSET_ERRNOS.has(serverErrno(error)) || (action.charset === undefined && action.clientCharset === undefined)) throw error;
      this.logger.warn(
        { ...context, statement: action.verb, charset: action.charset, clientCharset: action.clientCharset },
        `the replica does not know the character set or collation the source ran this ${action.verb} under (${(error as Error).message}); ` +
          "it runs under the replica session's own (utf8mb4, utf8mb4_general_ci) instead",
      );
      await run(enterDdlContext({ ...action, charset: undefined, clientCharset: undefined }, this.flavor, sourceZone));
    }
  }

  /**
   * Runs the DDL with foreign key checks on where the source had them on:
   * InnoDB then adds a foreign key by copying the table, creating the index
   * it needs and keeping the constraint as declared (with them off it adds
   * it in place, and a constraint of a virtual column's index differs). A
   * DDL that fails so for want of a table the replica lacks (of a database
   * or table not replicated) runs again with them off.
   */
  private async underSourceChecks(action: DdlAction, context: ApplyContext, run: () => Promise<unknown>): Promise<void> {
    if (action.foreignKeyChecks !== true) {
      await run();
      return;
    }
    await this.replica.run(asBytes('SET SESSION foreign_key_checks = 1'), [], context, 'session');
    try {
      await run();
    } catch (error) {
      if (!FOREIGN_KEY_FAILURES.has(serverErrno(error))) throw error;
      this.logger.info(
        { ...context, statement: action.verb, error: serverErrno(error) },
        `${action.verb} failed with foreign key checks on, as the source ran it (${(error as Error).message}); applied with them off`,
      );
      await this.replica.run(asBytes('SET SESSION foreign_key_checks = 0'), [], context, 'session');
      await run();
    } finally {
      await this.replica.run(asBytes('SET SESSION foreign_key_checks = 0'), [], context, 'session');
    }
  }
}

/**
 * A statement as bytes, for the driver to send as they are. Under a DDL's
 * character_set_client the driver would encode a string in that character
 * set, which it learns from the server's session tracking: one it has no
 * encoder for (swe7, keybcs2, ...) closes the connection (main.ctype_swe7).
 */
function asBytes(sql: string | Buffer): Buffer {
  return typeof sql === 'string' ? Buffer.from(sql, 'utf8') : sql;
}

/**
 * Errors of a DDL run with foreign key checks on that a table the replica
 * does not have explains: can't create table (errno 150), cannot add or
 * open the referenced table, rows referenced or referencing missing ones.
 */
const FOREIGN_KEY_FAILURES = new Set([1005, 1215, 1216, 1217, 1451, 1452, 1824]);

/** Unknown character set (1115), unknown collation (1273). */
const UNKNOWN_CHARSET_ERRNOS = new Set([1115, 1273]);

/**
 * The DDL refers to a table (a sequence, a view's or a foreign key's table)
 * of another database that the replica does not have, most likely one that
 * is not replicated: say so, and the ways on.
 */
export function missingElsewhere(error: unknown, targets: readonly string[]): ApplyError | undefined {
  if (!(error instanceof ApplyError) || serverErrno(error) !== ER_NO_SUCH_TABLE) return undefined;
  const named = /Table '([^'.]+)\.([^']+)' doesn't exist/.exec(error.message);
  if (!named) return undefined;
  const [, database, table] = named;
  if (targets.some((t) => t.split('.')[0] === database)) return undefined;
  return new ApplyError(
    `${error.message}; the statement refers to ${database}.${table}, which the replica does not have: if the database ${database} is not replicated, ` +
      `add it to --databases and seed it with \`binlog-sync snapshot\`, or create ${database}.${table} on the replica, then start again`,
    { cause: error.cause, location: error.location },
  );
}

/** Data too long for a column (1406), data truncated (1265). */
const TOO_LONG_ERRNOS = new Set([1406, 1265]);

/**
 * The DDL fills rows from a function of the session (`ADD COLUMN ... DEFAULT
 * USER()`), which the replica evaluates as its own: binlog-sync's account,
 * longer than the source's user (innodb.innodb-alter-timestamp). No replica
 * can have the source's value: say so, and the way on.
 */
function filledFromSession(error: unknown, sql: string): ApplyError | undefined {
  if (!(error instanceof ApplyError) || !TOO_LONG_ERRNOS.has(serverErrno(error) ?? 0)) return undefined;
  const call = /\b(USER|CURRENT_USER|SESSION_USER|SYSTEM_USER)\s*\(/i.exec(sql);
  if (!call) return undefined;
  return new ApplyError(
    `${error.message}; the statement fills rows from ${call[1]!.toUpperCase()}(), which the replica evaluates as its own session's ` +
      "account (binlog-sync's), not the source's, and it does not fit: run the statement on the replica by hand, " +
      'with the value the source had, then `binlog-sync skip`',
    { cause: error.cause, location: error.location },
  );
}

/** The replica does not know the source session's time zone: say how to teach it. */
function unknownTimeZone(error: unknown, timeZone: string | undefined): ApplyError | undefined {
  if (!(error instanceof ApplyError) || serverErrno(error) !== ER_UNKNOWN_TIME_ZONE) return undefined;
  return new ApplyError(
    `${error.message}; the source ran this statement in time zone ${timeZone}, which the replica does not know: ` +
      'load the time zone tables on the replica (mariadb-tzinfo-to-sql /usr/share/zoneinfo | mariadb mysql) and start again',
    { cause: error.cause, location: error.location },
  );
}
