// The state file itself, before the store reads it (state-store.ts): told
// apart from anything else by its header alone, made with its schema (mode
// 0600 by the store, which creates the empty file), and given the columns
// added since when opened for writing. With state-store.ts the only module
// that imports better-sqlite3.

import { randomUUID } from 'node:crypto';
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { StateError } from '../errors.js';

type Db = Database.Database;

/**
 * Written to the SQLite header (`PRAGMA application_id`, bytes 68..71) so a
 * foreign database is recognised from its first 100 bytes, without SQLite ever
 * opening it. ASCII "bsnc".
 */
export const STATE_APPLICATION_ID = 0x62736e63;

/** Version of the schema below; kept in `meta` so a future version can migrate. */
export const STATE_SCHEMA_VERSION = 1;

/** Readers wait this long for the writer instead of failing with SQLITE_BUSY. */
export const BUSY_TIMEOUT_MS = 5000;

// Columns added since, to a file made before them, when it is opened for
// writing (nullable: the schema version stays, and a version before them
// reads and writes the file as ever, leaving them as they were; a value so
// left behind is never trusted, see position.stream_seq).
// position.stream_seq: the relay stream's message of the position (`start
// --from`; see relay/locate.ts, which checks it against the position).
//
// STRICT tables: a wrong type (a fractional offset, a string pid) is refused by
// SQLite instead of being stored and misread later. Single-row tables use
// `id = 1` so every write is one UPSERT/DELETE. No CHECK on history.event: a
// newer version may add events, and SQLite cannot alter a CHECK later.
const SCHEMA_V1 = `
  CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
  ) STRICT;
  CREATE TABLE position (
    id               INTEGER PRIMARY KEY CHECK (id = 1),
    file             TEXT,
    position         INTEGER,
    gtid             TEXT,
    applied_at       TEXT NOT NULL,
    source_timestamp INTEGER,
    stream_seq       INTEGER
  ) STRICT;
  CREATE TABLE history (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    at       TEXT NOT NULL,
    event    TEXT NOT NULL,
    file     TEXT,
    position INTEGER,
    gtid     TEXT,
    detail   TEXT
  ) STRICT;
  CREATE TABLE last_error (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    message    TEXT NOT NULL,
    code       TEXT NOT NULL,
    file       TEXT,
    position   INTEGER,
    gtid       TEXT,
    table_name TEXT,
    statement  TEXT,
    at         TEXT NOT NULL
  ) STRICT;
  CREATE TABLE runner (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    pid          INTEGER NOT NULL,
    hostname     TEXT NOT NULL,
    started_at   TEXT NOT NULL,
    heartbeat_at TEXT NOT NULL,
    health       TEXT
  ) STRICT;
`;

/** Whether the file's position table has the stream_seq column (a file made before it has not, until opened for writing). */
export function hasStreamSeq(db: Db): boolean {
  return db.prepare("SELECT 1 FROM pragma_table_info('position') WHERE name = 'stream_seq'").get() !== undefined;
}

// ---------------------------------------------------------------------------
// Recognising a file before SQLite touches it.

export type FileKind = 'missing' | 'folder' | 'empty' | 'ours' | 'foreign';

const SQLITE_MAGIC = 'SQLite format 3\u0000';

/**
 * Classifies the file at `path` from its first 100 bytes, opened read-only by
 * the OS (not by SQLite, which may roll back a journal or create -wal/-shm
 * files even on a read-only connection). Only a file whose header carries our
 * application id is ever handed to SQLite, so a foreign file stays untouched.
 */
export function inspectFile(path: string): FileKind {
  let size: number;
  try {
    const st = statSync(path);
    if (st.isDirectory()) return 'folder';
    size = st.size;
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return 'missing';
    throw new StateError(`cannot read state file ${path}: ${messageOf(error)}`, { cause: error });
  }
  // A zero-length file is what `create` leaves between making the file and
  // writing the schema (or after a crash right there): nothing to lose.
  if (size === 0) return 'empty';
  if (size < 100) return 'foreign';
  const header = Buffer.alloc(100);
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    throw new StateError(`cannot read state file ${path}: ${messageOf(error)}`, { cause: error });
  }
  try {
    readSync(fd, header, 0, 100, 0);
  } finally {
    closeSync(fd);
  }
  if (header.toString('latin1', 0, 16) !== SQLITE_MAGIC) return 'foreign';
  // Written while the file was still in rollback-journal mode (see initialize),
  // so it is in the main file even while a writer holds changes in the WAL.
  return header.readUInt32BE(68) === STATE_APPLICATION_ID ? 'ours' : 'foreign';
}

export function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Adds position.stream_seq to a file made before it (another process may just have). */
export function addStreamSeq(db: Db): void {
  try {
    db.exec('ALTER TABLE position ADD COLUMN stream_seq INTEGER');
  } catch (error) {
    if (!hasStreamSeq(db)) throw error;
  }
}

/**
 * Writes the schema into a zero-length file. Runs in rollback-journal mode so
 * the application id lands in the main file's header at once; switches to WAL
 * only afterwards. Two processes creating the same file at once are serialised
 * by BEGIN IMMEDIATE, and the second one finds the schema already there.
 */
export function initialize(path: string): void {
  const db = new Database(path, { fileMustExist: true, timeout: BUSY_TIMEOUT_MS });
  try {
    db.transaction(() => {
      const appId = db.pragma('application_id', { simple: true });
      if (appId === STATE_APPLICATION_ID) return; // someone else initialised it meanwhile
      // Anything already in the file (not ours) means it is not ours to initialise.
      const objects = db.prepare('SELECT count(*) AS n FROM sqlite_schema').get() as { n: number };
      if (appId !== 0 || objects.n !== 0) {
        throw new StateError(notOursMessage(path));
      }
      db.exec(SCHEMA_V1);
      db.pragma(`application_id = ${STATE_APPLICATION_ID}`);
      const insertMeta = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)');
      insertMeta.run('schema_version', String(STATE_SCHEMA_VERSION));
      insertMeta.run('stream_id', randomUUID());
      insertMeta.run('created_at', new Date().toISOString());
    }).immediate();
    // Persistent: every later connection is in WAL mode too.
    db.pragma('journal_mode = WAL');
  } finally {
    db.close();
  }
}

// ---------------------------------------------------------------------------
// Messages and small helpers.

export function notOursMessage(path: string): string {
  return `${path} is not a binlog-sync state file (it was left untouched)`;
}

export function noStateFileMessage(path: string): string {
  return `no state file at ${path}; run \`binlog-sync position set\` first`;
}

export function errorCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = (error as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** SQLite errors that mean "this is not (or no longer) a database we can read as ours". */
export function meansNotOurs(error: unknown): boolean {
  const code = errorCode(error) ?? '';
  return code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_ERROR' || code === 'SQLITE_FORMAT';
}

/** A free-text column: redacted (see the credentials note at the top), optionally capped. */
