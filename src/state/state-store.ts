// The SQLite state file: what commands and people read about a replication
// stream. It holds the applied position (a mirror of the replica's checkpoint
// table, written after every replica commit), a history of starts, stops, sets,
// skips and errors, the last error, which `start` process is running, and the
// random stream id that names this stream in the replica's checkpoint table.
//
// Credentials: this file never stores credentials. There is no column for a
// user, password or connection URL, and the free-text columns (error messages,
// history details, statements) pass through `redactSecrets` before they are
// written, so a password echoed inside a driver error cannot land here either.
// The file is created mode 0600 all the same.
//
// This module and state-file.ts (recognising, making and upgrading the file)
// are the only ones that import better-sqlite3; everything else talks to the
// state file through `StateStore`.

import { closeSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { BinlogSyncError, StateError, StateLockedError } from '../errors.js';
import { redactSecrets } from '../log/secrets.js';
import type { AppliedPosition } from '../position.js';
import {
  addStreamSeq,
  BUSY_TIMEOUT_MS,
  errorCode,
  hasStreamSeq,
  initialize,
  inspectFile,
  isDirectory,
  meansNotOurs,
  messageOf,
  noStateFileMessage,
  notOursMessage,
  STATE_SCHEMA_VERSION,
} from './state-file.js';
import {
  DEFAULT_STALE_AFTER_MS,
  checkStaleAfter,
  holdsFile,
  runnerFromRow,
  type RunnerHealth,
  type RunnerInfo,
  type RunnerLease,
  type RunnerRow,
} from './runner.js';

export { DEFAULT_STALE_AFTER_MS, isProcessAlive, type RunnerHealth, type RunnerInfo, type RunnerLease } from './runner.js';

export type HistoryEvent = 'start' | 'stop' | 'set' | 'skip' | 'error' | 'reconcile' | 'replay';

export interface HistoryEntry {
  id: number;
  /** ISO 8601. */
  at: string;
  event: HistoryEvent;
  file: string | null;
  position: number | null;
  gtid: string | null;
  detail: string | null;
}

export interface LastError {
  message: string;
  code: string;
  file: string | null;
  position: number | null;
  gtid: string | null;
  table: string | null;
  statement: string | null;
  /** ISO 8601. */
  at: string;
}

export interface StateStoreOptions {
  /** Create the file when it does not exist (only `position set` and friends should). */
  create?: boolean;
  /** Open without write access (status, position show); writes then throw StateError. */
  readonly?: boolean;
}

/** Default number of history entries `history()` returns. */
export const DEFAULT_HISTORY_LIMIT = 50;

/** Statements are kept for diagnosis, not replay; a huge row image must not bloat the file. */
const MAX_STATEMENT_CHARS = 64 * 1024;

const HISTORY_EVENTS: ReadonlySet<string> = new Set<HistoryEvent>(['start', 'stop', 'set', 'skip', 'error', 'reconcile', 'replay']);

// ---------------------------------------------------------------------------
// Row shapes as SQLite returns them.

interface PositionRow {
  file: string | null;
  position: number | null;
  gtid: string | null;
  applied_at: string;
  source_timestamp: number | null;
  stream_seq: number | null;
}

interface HistoryRow {
  id: number;
  at: string;
  event: string;
  file: string | null;
  position: number | null;
  gtid: string | null;
  detail: string | null;
}

interface LastErrorRow {
  message: string;
  code: string;
  file: string | null;
  position: number | null;
  gtid: string | null;
  table_name: string | null;
  statement: string | null;
  at: string;
}

type Db = Database.Database;

/** Every statement the store runs, prepared once per connection and reused. */
interface Statements {
  readMeta: Database.Statement<[string], { value: string }>;
  writeMeta: Database.Statement<[string, string]>;
  deleteMeta: Database.Statement<[string]>;
  getPosition: Database.Statement<[], PositionRow>;
  savePosition: Database.Statement<[PositionRow]>;
  savePositionAs: Database.Statement<[PositionRow & { epoch: string }]>;
  addHistory: Database.Statement<[Omit<HistoryRow, 'id'>]>;
  history: Database.Statement<[number], HistoryRow>;
  getLastError: Database.Statement<[], LastErrorRow>;
  setLastError: Database.Statement<[LastErrorRow]>;
  clearLastError: Database.Statement<[]>;
  getRunner: Database.Statement<[], RunnerRow>;
  setRunner: Database.Statement<[RunnerRow]>;
  heartbeat: Database.Statement<[{ pid: number; at: string; health: string | null; epoch: string }]>;
  releaseRunner: Database.Statement<[{ pid: number; epoch: string }]>;
}

/** The meta key of the current owner's epoch (see RunnerLease). */
const OWNER_EPOCH = 'owner_epoch';

function prepareStatements(db: Db, withSeq: boolean): Statements {
  const seq = withSeq ? { column: ', stream_seq', value: ', @stream_seq', set: ', stream_seq = excluded.stream_seq' } : { column: '', value: '', set: '' };
  return {
    readMeta: db.prepare('SELECT value FROM meta WHERE key = ?'),
    writeMeta: db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'),
    deleteMeta: db.prepare('DELETE FROM meta WHERE key = ?'),
    getPosition: db.prepare(`SELECT file, position, gtid, applied_at, source_timestamp, ${withSeq ? 'stream_seq' : 'NULL AS stream_seq'} FROM position WHERE id = 1`),
    // The hot path: one UPSERT per replica commit, nothing else.
    savePosition: db.prepare(`
      INSERT INTO position (id, file, position, gtid, applied_at, source_timestamp${seq.column})
      VALUES (1, @file, @position, @gtid, @applied_at, @source_timestamp${seq.value})
      ON CONFLICT (id) DO UPDATE SET
        file = excluded.file, position = excluded.position, gtid = excluded.gtid,
        applied_at = excluded.applied_at, source_timestamp = excluded.source_timestamp${seq.set}`),
    // The same, only while @epoch still owns the file (a runner superseded after a stall writes nothing).
    savePositionAs: db.prepare(`
      INSERT INTO position (id, file, position, gtid, applied_at, source_timestamp${seq.column})
      SELECT 1, @file, @position, @gtid, @applied_at, @source_timestamp${seq.value}
       WHERE (SELECT value FROM meta WHERE key = '${OWNER_EPOCH}') = @epoch
      ON CONFLICT (id) DO UPDATE SET
        file = excluded.file, position = excluded.position, gtid = excluded.gtid,
        applied_at = excluded.applied_at, source_timestamp = excluded.source_timestamp${seq.set}`),
    addHistory: db.prepare(`
      INSERT INTO history (at, event, file, position, gtid, detail)
      VALUES (@at, @event, @file, @position, @gtid, @detail)`),
    // By id, not by `at`: ids follow insertion order even if the clock steps back.
    history: db.prepare('SELECT id, at, event, file, position, gtid, detail FROM history ORDER BY id DESC LIMIT ?'),
    getLastError: db.prepare(
      'SELECT message, code, file, position, gtid, table_name, statement, at FROM last_error WHERE id = 1',
    ),
    setLastError: db.prepare(`
      INSERT INTO last_error (id, message, code, file, position, gtid, table_name, statement, at)
      VALUES (1, @message, @code, @file, @position, @gtid, @table_name, @statement, @at)
      ON CONFLICT (id) DO UPDATE SET
        message = excluded.message, code = excluded.code, file = excluded.file,
        position = excluded.position, gtid = excluded.gtid, table_name = excluded.table_name,
        statement = excluded.statement, at = excluded.at`),
    clearLastError: db.prepare('DELETE FROM last_error'),
    getRunner: db.prepare('SELECT pid, hostname, started_at, heartbeat_at, health FROM runner WHERE id = 1'),
    setRunner: db.prepare(`
      INSERT OR REPLACE INTO runner (id, pid, hostname, started_at, heartbeat_at)
      VALUES (1, @pid, @hostname, @started_at, @heartbeat_at)`),
    heartbeat: db.prepare(`
      UPDATE runner SET heartbeat_at = @at, health = COALESCE(@health, health)
       WHERE id = 1 AND pid = @pid AND (SELECT value FROM meta WHERE key = '${OWNER_EPOCH}') = @epoch`),
    releaseRunner: db.prepare(`
      DELETE FROM runner WHERE id = 1 AND pid = @pid AND (SELECT value FROM meta WHERE key = '${OWNER_EPOCH}') = @epoch`),
  };
}

function cleanText(text: string | null, max?: number): string | null {
  if (text === null) return null;
  const redacted = redactSecrets(text);
  if (max === undefined || redacted.length <= max) return redacted;
  return `${redacted.slice(0, max)}… (truncated, ${redacted.length} characters)`;
}

// ---------------------------------------------------------------------------

export class StateStore {
  readonly path: string;
  readonly streamId: string;
  readonly readonly: boolean;
  private readonly db: Db;
  private readonly sql: Statements;

  private constructor(path: string, db: Db, sql: Statements, streamId: string, readonly: boolean) {
    this.path = path;
    this.db = db;
    this.sql = sql;
    this.streamId = streamId;
    this.readonly = readonly;
  }

  /**
   * Opens the state file at `path`, creating it when `create` is true and it
   * does not exist. Throws StateError when the folder is missing, the file is
   * missing (without `create`), or the file is not a binlog-sync state file; a
   * file that is not ours is never written to.
   */
  static open(path: string, options: StateStoreOptions = {}): StateStore {
    const readonly = options.readonly ?? false;
    // A read-only open never creates: there would be nothing to read.
    const create = (options.create ?? false) && !readonly;

    const dir = dirname(path);
    if (!isDirectory(dir)) throw new StateError(`state folder ${dir} does not exist (--state)`);

    let kind = inspectFile(path);
    if (kind === 'missing') {
      if (!create) throw new StateError(noStateFileMessage(path));
      try {
        // Made by us, before SQLite sees it, so it is private from the start
        // (SQLite would use 0644) and its -wal/-shm files inherit the mode.
        closeSync(openSync(path, 'wx', 0o600));
      } catch (error) {
        // EEXIST: another process created it just now; carry on with theirs.
        if (errorCode(error) !== 'EEXIST') {
          throw new StateError(`cannot create state file ${path}: ${messageOf(error)}`, { cause: error });
        }
      }
      kind = inspectFile(path);
    }
    if (kind === 'empty') {
      if (!create) throw new StateError(noStateFileMessage(path));
      try {
        initialize(path);
      } catch (error) {
        if (error instanceof BinlogSyncError) throw error;
        throw new StateError(`cannot create state file ${path}: ${messageOf(error)}`, { cause: error });
      }
      kind = inspectFile(path);
    }
    if (kind === 'folder') throw new StateError(`${path} is a folder, not a binlog-sync state file (--state)`);
    if (kind !== 'ours') throw new StateError(notOursMessage(path));

    return StateStore.openOurs(path, readonly);
  }

  /** Opens a file whose header says it is ours, and checks the rest before any write. */
  private static openOurs(path: string, readonly: boolean): StateStore {
    let db: Db;
    try {
      db = new Database(path, { readonly, fileMustExist: true, timeout: BUSY_TIMEOUT_MS });
    } catch (error) {
      throw new StateError(`cannot open state file ${path}: ${messageOf(error)}`, { cause: error });
    }
    try {
      // Reads only: preparing every statement proves the tables and columns are
      // there, and the meta rows prove the file was finished.
      let withSeq = hasStreamSeq(db);
      let sql = prepareStatements(db, withSeq);
      const version = Number(sql.readMeta.get('schema_version')?.value);
      const streamId = sql.readMeta.get('stream_id')?.value;
      if (!Number.isInteger(version) || version < 1 || !streamId) throw new StateError(notOursMessage(path));
      if (version > STATE_SCHEMA_VERSION) {
        throw new StateError(
          `${path} was written by a newer binlog-sync (state schema ${version}; this version knows up to ${STATE_SCHEMA_VERSION}); upgrade binlog-sync`,
        );
      }
      if (!readonly) {
        // WAL lets status/position show read while `start` writes; NORMAL skips
        // the fsync per commit. A power cut can lose the last few positions, which
        // is fine: the replica's checkpoint table is the truth, this is a mirror.
        db.pragma('journal_mode = WAL');
        db.pragma('synchronous = NORMAL');
        if (!withSeq) {
          addStreamSeq(db);
          withSeq = true;
          sql = prepareStatements(db, withSeq);
        }
      }
      return new StateStore(path, db, sql, streamId, readonly);
    } catch (error) {
      db.close();
      if (error instanceof BinlogSyncError) throw error;
      if (meansNotOurs(error)) throw new StateError(notOursMessage(path), { cause: error });
      throw new StateError(`cannot open state file ${path}: ${messageOf(error)}`, { cause: error });
    }
  }

  // --- position ------------------------------------------------------------

  getPosition(): AppliedPosition | null {
    return this.guard('read the position', () => {
      const row = this.sql.getPosition.get();
      if (!row) return null;
      return {
        file: row.file,
        position: row.position,
        gtid: row.gtid,
        appliedAt: row.applied_at,
        sourceTimestamp: row.source_timestamp,
        ...(row.stream_seq !== null ? { streamSeq: row.stream_seq } : {}),
      };
    });
  }

  /**
   * Called after every replica commit: a single prepared UPSERT. With a
   * lease, only while that lease still owns the file; returns false when it
   * no longer does (nothing written).
   */
  savePosition(p: AppliedPosition, lease?: RunnerLease): boolean {
    return this.write('save the position', () => {
      const row = { file: p.file, position: p.position, gtid: p.gtid, applied_at: p.appliedAt, source_timestamp: p.sourceTimestamp, stream_seq: p.streamSeq ?? null };
      if (!lease) return this.sql.savePosition.run(row).changes > 0;
      return this.sql.savePositionAs.run({ ...row, epoch: String(lease.epoch) }).changes > 0;
    });
  }

  // --- history -------------------------------------------------------------

  addHistory(e: Omit<HistoryEntry, 'id' | 'at'> & { at?: string }): void {
    if (!HISTORY_EVENTS.has(e.event)) throw new RangeError(`unknown history event ${String(e.event)}`);
    this.write('add to the history', () => {
      this.sql.addHistory.run({
        at: e.at ?? new Date().toISOString(),
        event: e.event,
        file: e.file,
        position: e.position,
        gtid: e.gtid,
        detail: cleanText(e.detail, MAX_STATEMENT_CHARS),
      });
    });
  }

  /** Newest first. */
  history(limit: number = DEFAULT_HISTORY_LIMIT): HistoryEntry[] {
    if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError(`history limit must be a positive integer, got ${limit}`);
    return this.guard('read the history', () =>
      this.sql.history.all(limit).map((row) => ({ ...row, event: row.event as HistoryEvent })),
    );
  }

  // --- last error ----------------------------------------------------------

  getLastError(): LastError | null {
    return this.guard('read the last error', () => {
      const row = this.sql.getLastError.get();
      if (!row) return null;
      return {
        message: row.message,
        code: row.code,
        file: row.file,
        position: row.position,
        gtid: row.gtid,
        table: row.table_name,
        statement: row.statement,
        at: row.at,
      };
    });
  }

  /** Records the error `status` shows; null clears it. */
  setLastError(e: LastError | null): void {
    this.write('record the last error', () => {
      if (e === null) {
        this.sql.clearLastError.run();
        return;
      }
      this.sql.setLastError.run({
        message: cleanText(e.message) ?? '',
        code: e.code,
        file: e.file,
        position: e.position,
        gtid: e.gtid,
        table_name: e.table,
        statement: cleanText(e.statement, MAX_STATEMENT_CHARS),
        at: e.at,
      });
    });
  }

  // --- markers -------------------------------------------------------------

  /** Keys the store itself owns; markers may not touch them. */
  private static readonly RESERVED = new Set(['schema_version', 'stream_id', 'created_at', OWNER_EPOCH]);

  /** A named note kept across runs (e.g. a snapshot in progress); null when absent. */
  getMarker(name: string): string | null {
    return this.guard('read a marker', () => this.sql.readMeta.get(`marker:${name}`)?.value ?? null);
  }

  setMarker(name: string, value: string | null): void {
    if (StateStore.RESERVED.has(name)) throw new RangeError(`${name} is not a marker`);
    this.write('write a marker', () => {
      if (value === null) this.sql.deleteMeta.run(`marker:${name}`);
      else this.sql.writeMeta.run(`marker:${name}`, value);
    });
  }

  // --- runner --------------------------------------------------------------

  /**
   * Records this process as the one `start` using the file. Refuses with
   * StateLockedError while another runner holds it (alive pid on this host and
   * a heartbeat younger than `staleAfterMs`); takes over a stale row left by a
   * crashed runner. BEGIN IMMEDIATE makes check-and-take atomic across processes.
   */
  acquireRunner(info: { pid: number; hostname: string }, staleAfterMs: number = DEFAULT_STALE_AFTER_MS): RunnerLease {
    checkStaleAfter(staleAfterMs);
    return this.write('record the runner', () =>
      this.db
        .transaction((): RunnerLease => {
          const now = Date.now();
          const row = this.sql.getRunner.get();
          const sameProcess = row !== undefined && row.pid === info.pid && row.hostname === info.hostname;
          if (row && !sameProcess && holdsFile(row, staleAfterMs, now)) {
            throw new StateLockedError(
              `another \`binlog-sync start\` (pid ${row.pid} on ${row.hostname}, running since ${row.started_at}) is using ${this.path}`,
            );
          }
          const at = new Date(now).toISOString();
          this.sql.setRunner.run({
            pid: info.pid,
            hostname: info.hostname,
            // Re-acquiring by the same process keeps its original start time.
            started_at: sameProcess ? row.started_at : at,
            heartbeat_at: at,
          });
          return { pid: info.pid, epoch: this.nextEpoch(now) };
        })
        .immediate(),
    );
  }

  /**
   * Takes a new epoch for a one-off writer of the replica's checkpoint
   * (`position set`, `skip`, `snapshot`): it supersedes any runner, so one
   * that stalled past its lock cannot commit after it. Call only once no
   * runner is active.
   */
  claimEpoch(): number {
    return this.write('take an epoch', () => this.db.transaction(() => this.nextEpoch(Date.now())).immediate());
  }

  /**
   * The next fencing token: larger than every one given out before, also
   * when the file was restored from an older copy (the clock moves on), and
   * also when the clock steps back (the counter does).
   */
  private nextEpoch(now: number): number {
    const last = Number(this.sql.readMeta.get(OWNER_EPOCH)?.value ?? 0);
    const epoch = Math.max((Number.isSafeInteger(last) ? last : 0) + 1, now);
    this.sql.writeMeta.run(OWNER_EPOCH, String(epoch));
    return epoch;
  }

  /**
   * Marks the lease's runner row as alive now. Returns false when the lease
   * no longer owns the file (another process took over after our heartbeat
   * went stale): the runner must stop at once.
   */
  heartbeat(lease: RunnerLease, health?: RunnerHealth): boolean {
    return this.write(
      'record the heartbeat',
      () =>
        this.sql.heartbeat.run({ pid: lease.pid, epoch: String(lease.epoch), at: new Date().toISOString(), health: health ? JSON.stringify(health) : null })
          .changes > 0,
    );
  }

  /** True while the lease owns the file. */
  holds(lease: RunnerLease): boolean {
    return this.guard('read the runner', () => this.sql.readMeta.get(OWNER_EPOCH)?.value === String(lease.epoch) && this.sql.getRunner.get()?.pid === lease.pid);
  }

  /** Removes the runner row, but only while the lease owns it (never a successor's). */
  releaseRunner(lease: RunnerLease): void {
    this.write('release the runner', () => {
      this.sql.releaseRunner.run({ pid: lease.pid, epoch: String(lease.epoch) });
    });
  }

  /** The runner holding the file by the rule of acquireRunner, else null. */
  activeRunner(staleAfterMs: number = DEFAULT_STALE_AFTER_MS): RunnerInfo | null {
    checkStaleAfter(staleAfterMs);
    return this.guard('read the runner', () => {
      const row = this.sql.getRunner.get();
      return row && holdsFile(row, staleAfterMs, Date.now()) ? runnerFromRow(row) : null;
    });
  }

  /** Closes the connection; safe to call twice. */
  close(): void {
    if (this.db.open) this.db.close();
  }

  // --- internals -----------------------------------------------------------

  /** Runs a read, turning SQLite failures (busy, I/O) into a StateError naming the file. */
  private guard<T>(what: string, fn: () => T): T {
    try {
      return fn();
    } catch (error) {
      if (error instanceof BinlogSyncError || error instanceof RangeError) throw error;
      throw new StateError(`could not ${what} in state file ${this.path}: ${messageOf(error)}`, { cause: error });
    }
  }

  /** Like guard, but refuses up front on a read-only store with a clear message. */
  private write<T>(what: string, fn: () => T): T {
    if (this.readonly) throw new StateError(`could not ${what}: state file ${this.path} was opened read-only`);
    return this.guard(what, fn);
  }
}
