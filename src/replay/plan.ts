// `replay`: what to read of the files given, decided before anything is
// applied. One walk over their events (headers, and the few bodies that tell
// groups apart, see groups.ts) checks that each is a binlog, that they follow
// one another (each file's closing rotate names the next), that only the
// last one ends early (truncated, or within a transaction), and finds where
// the replica's position is in them (what is before it is passed over) and
// where the stop option stops. The plan is plain data: the decoding thread
// reads the files by it (source/file-transport.ts).
import { basename } from 'node:path';
import { ReplayInputError } from '../errors.js';
import { binlogFileNumber, compareFilePositions, formatPosition, type BinlogPosition } from '../position.js';
import { MariadbGtidState, gtidCovers, isMariadbGtid } from '../txn/gtid-position.js';
import { eventChunks, hasBinlogMagic, openBinlog, type WalkEnd } from '../binlog/binlog-file.js';
import { EVENT, eventLengthAt, eventTypeAt, formatFacts, gtidFacts, gtidList, queryHead, rotateTarget, timestampAt } from './event-facts.js';
import { GroupTracker } from './groups.js';

/** Where a replay stops, as mysqlbinlog's options say it, always at a transaction boundary. */
export interface ReplayStop {
  /** --stop-position FILE:POS: before the first event at or after POS in FILE (its transaction left out whole). */
  position?: { file: string; position: number };
  /** --stop-datetime: before the first event written at or after it (ms since the epoch). */
  datetimeMs?: number;
  /** --stop-gtid: after the transaction with this GTID. */
  gtid?: string;
}

/** A stretch of one file to read: its format description event (4 to formatEnd), then `from` to `to`. */
export interface ReplaySegment {
  path: string;
  /** The binlog's name as the source knows it (positions are kept by it). */
  name: string;
  formatEnd: number;
  from: number;
  to: number;
}

export interface ReplayPlan {
  segments: ReplaySegment[];
  flavor: 'mariadb' | 'mysql';
  serverVersion: string;
  checksums: boolean;
  /** Where the replay starts: the replica's position, or the first file's start. */
  start: BinlogPosition;
  /** `start.gtid` is the full MariaDB GTID state there (kept up to date per transaction). */
  gtidKnown: boolean;
  /** Bytes to read: the segments' sizes. */
  bytes: number;
  /** Files read, of those given. */
  files: number;
  /** Said once the replay ends: a truncated last file, a stop GTID never seen. */
  warnings: string[];
  /** How the replay stops, for the log: the stop option and where. */
  stop: string | undefined;
}

interface FileFacts {
  path: string;
  name: string;
  size: number;
  formatEnd: number;
  serverVersion: string;
  checksums: boolean;
  gtidList: string | null;
  rotateTo: string | null;
  /** The last boundary between groups: what can be applied of it. */
  end: number;
  /** Why `end` is short of the file's size. */
  short: string | undefined;
}

/** Where the replay starts, once found in the walk. */
interface StartPoint {
  file: number;
  offset: number;
  gtid: string | null;
}

/**
 * The plan for `files` from the replica's position `stored` (null: from the
 * first file's start) to `stop` (or the files' end). Throws ReplayInputError
 * when the files cannot be applied as given.
 */
export async function planReplay(paths: readonly string[], stored: BinlogPosition | null, stop: ReplayStop = {}): Promise<ReplayPlan> {
  if (paths.length === 0) throw new ReplayInputError('no binlog files given');
  const walk = new Walk(paths, stored, stop);
  for (let i = 0; i < paths.length && walk.stopAt === undefined; i++) await walk.file(i);
  return walk.plan();
}

/** How the replica's position is found in the files. */
type StartBy =
  | { kind: 'beginning' } // an empty replica: everything, from the first file's start
  | { kind: 'file'; file: string; position: number } // the file it names, at its offset
  | { kind: 'gtid'; state: string }; // MariaDB: each group the replica's GTID state covers is passed over

class Walk {
  readonly facts: FileFacts[] = [];
  start: StartPoint | undefined;
  stopAt: { file: number; offset: number; why: string } | undefined;
  private readonly warnings: string[] = [];
  private readonly groups = new GroupTracker();
  /** The MariaDB GTID state as the walk goes: the file's GTID list, then each group's GTID. */
  private state: MariadbGtidState | null = null;
  private readonly startBy: StartBy;

  constructor(
    private readonly paths: readonly string[],
    private readonly stored: BinlogPosition | null,
    private readonly stop: ReplayStop,
  ) {
    this.startBy = startBy(stored, this.firstName(paths[0]!));
  }

  async file(index: number): Promise<void> {
    const path = this.paths[index]!;
    const previous = this.facts[index - 1];
    const name = previous ? this.followingName(previous, path) : this.firstName(path);
    const { handle, size } = await openBinlog(path).catch((error: NodeJS.ErrnoException) => {
      throw new ReplayInputError(`cannot read ${path}: ${error.code === 'ENOENT' ? 'no such file' : error.message}`, { cause: error });
    });
    try {
      if (!(await hasBinlogMagic(handle, size))) throw new ReplayInputError(`${path} is not a binlog file (it does not start with the binlog magic bytes \\xfebin)`);
      const facts: FileFacts = { path, name, size, formatEnd: 0, serverVersion: '', checksums: false, gtidList: null, rotateTo: null, end: 4, short: undefined };
      const ended: WalkEnd[] = [];
      this.groups.openAt = null;
      walk: for await (const chunk of eventChunks(handle, 4, size, (end) => ended.push(end))) {
        const { bytes } = chunk;
        for (let at = 0; at < bytes.length; at += eventLengthAt(bytes, at)) {
          if (!this.event(facts, index, bytes, at, chunk.offset + at)) break walk;
        }
      }
      if (facts.formatEnd === 0) throw new ReplayInputError(`${path} is not a binlog file (no format description event after the magic bytes)`);
      this.facts.push(facts);
      if (this.stopAt !== undefined) return;
      const cut = ended[0]?.cut;
      const open = this.groups.openAt;
      if (cut) facts.short = cut.reason;
      else if (open !== null) facts.short = `it ends within a transaction begun at byte ${open}`;
      else facts.end = size;
      if (facts.short !== undefined) {
        if (index < this.paths.length - 1) throw new ReplayInputError(`${path} is truncated (${facts.short}); only the last file given may end early`);
        this.warnings.push(`${path} ends early (${facts.short}): replayed to byte ${facts.end}, the end of its last complete transaction`);
      }
      // The replica's position at the very end of this file: the replay starts with the next one.
      if (this.start === undefined && this.startBy.kind === 'file' && this.startBy.file === name && this.startBy.position === facts.end) {
        this.start = { file: index + 1, offset: 4, gtid: this.state?.toString() ?? null };
      }
    } finally {
      await handle.close();
    }
  }

  /** One event; false once the stop point is found (the walk ends). */
  private event(facts: FileFacts, index: number, bytes: Buffer, at: number, offset: number): boolean {
    const type = eventTypeAt(bytes, at);
    const end = at + eventLengthAt(bytes, at);
    const checksum = facts.checksums ? 4 : 0;
    if (facts.formatEnd === 0) {
      if (type !== EVENT.FORMAT_DESCRIPTION) throw new ReplayInputError(`${facts.path} is not a binlog file (its first event is of type ${type}, not a format description)`);
      Object.assign(facts, formatFacts(bytes, at, end), { formatEnd: offset + end - at });
      this.sameFormat(facts);
      return true;
    }
    if (this.start === undefined) this.startBefore(facts, index, offset);
    // (Stop points before the replica's position too: then nothing is left to apply.)
    if (this.stopBefore(facts, index, bytes, at, offset)) return false;
    const head = type === EVENT.QUERY ? queryHead(bytes, at, end, checksum) : undefined;
    const gtid = type === EVENT.MARIADB_GTID || type === EVENT.MYSQL_GTID || type === EVENT.MYSQL_GTID_TAGGED ? gtidFacts(bytes, at, end, checksum) : undefined;
    const step = this.groups.feed(type, offset, head, gtid);
    if (type === EVENT.MARIADB_GTID_LIST && facts.gtidList === null) {
      facts.gtidList = gtidList(bytes, at);
      this.state = MariadbGtidState.parse(facts.gtidList);
      this.checkGtidGap(facts, index);
    } else if (type === EVENT.ROTATE) {
      facts.rotateTo = rotateTarget(bytes, at, end, checksum);
    }
    if (step === 'open' && this.start === undefined && this.startBy.kind === 'gtid' && this.groups.gtid !== undefined && !gtidCovers(this.startBy.state, this.groups.gtid)) {
      // The first group the replica does not have.
      this.start = { file: index, offset, gtid: this.startBy.state };
    }
    if (step === 'closed' || step === 'single' || step === 'outside') facts.end = offset + end - at;
    if (step === 'closed' && this.groups.gtid !== undefined) {
      if (this.state && isMariadbGtid(this.groups.gtid)) this.state.add(this.groups.gtid);
      if (this.stop.gtid !== undefined && this.groups.gtid === this.stop.gtid) {
        this.stopAt = { file: index, offset: offset + end - at, why: `--stop-gtid ${this.stop.gtid} at ${facts.name}:${offset + end - at}` };
        return false;
      }
    }
    return true;
  }

  /** Whether the stop option stops before this event (then stopAt is set: the start of its group). */
  private stopBefore(facts: FileFacts, index: number, bytes: Buffer, at: number, offset: number): boolean {
    const { position, datetimeMs } = this.stop;
    const before = this.groups.openAt ?? offset;
    let why: string | undefined;
    if (position && position.file === facts.name && offset >= position.position) why = `--stop-position ${position.file}:${position.position}`;
    else if (datetimeMs !== undefined && timestampAt(bytes, at) > 0 && timestampAt(bytes, at) * 1000 >= datetimeMs) why = `--stop-datetime ${new Date(datetimeMs).toISOString()}`;
    if (why === undefined) return false;
    this.stopAt = { file: index, offset: before, why: `${why} at ${facts.name}:${before}` };
    return true;
  }

  /** The replica's position by file, reached before this event (a group is never open there). */
  private startBefore(facts: FileFacts, index: number, offset: number): void {
    const by = this.startBy;
    if (by.kind === 'beginning') {
      this.start = { file: 0, offset: 4, gtid: null };
    } else if (by.kind === 'file' && by.file === facts.name && offset >= by.position) {
      if (offset > by.position || this.groups.openAt !== null) {
        throw new ReplayInputError(`the replica's position ${by.file}:${by.position} is not between two transactions of ${facts.path}; is it the binlog the position was taken from?`);
      }
      this.start = { file: index, offset, gtid: this.state?.toString() ?? null };
    }
  }

  /** Passing over by GTID: the first file must not begin after the replica's GTID state. */
  private checkGtidGap(facts: FileFacts, index: number): void {
    if (index !== 0 || this.startBy.kind !== 'gtid' || gtidCovers(this.startBy.state, facts.gtidList ?? '')) return;
    throw new ReplayInputError(
      `a gap: the replica stands at GTID ${this.startBy.state}, but ${facts.path} begins after ${facts.gtidList}; give the binlog files from the replica's position on`,
    );
  }

  private sameFormat(facts: FileFacts): void {
    const first = this.facts[0];
    if (!first) return;
    if (flavorOf(first.serverVersion) !== flavorOf(facts.serverVersion)) {
      throw new ReplayInputError(`${facts.path} was written by ${facts.serverVersion}, ${first.path} by ${first.serverVersion}: replay the binlogs of one server at a time`);
    }
    if (first.checksums !== facts.checksums) {
      throw new ReplayInputError(`${facts.path} and ${first.path} differ in binlog_checksum: replay them in separate runs`);
    }
  }

  /** The first file's name as the source knows it: its own, or the replica's position's file if it ends with that (a prefix added by a backup). */
  private firstName(path: string): string {
    const own = basename(path);
    const storedFile = this.stored?.file;
    return storedFile && own !== storedFile && own.endsWith(storedFile) ? storedFile : own;
  }

  /** The next file's name: the one the previous file rotates to, which it must be. */
  private followingName(previous: FileFacts, path: string): string {
    const own = basename(path);
    const expected = previous.rotateTo ?? successor(previous.name);
    if (expected === undefined || own.endsWith(expected)) return expected ?? own;
    if (binlogFileNumber(own) < binlogFileNumber(expected)) {
      throw new ReplayInputError(`the files are out of order: ${path} comes after ${previous.path}, which rotates to ${expected}; give them in the order the source wrote them`);
    }
    throw new ReplayInputError(`a gap between the files: ${previous.path} rotates to ${expected}, but the next file given is ${path}; give ${expected} too`);
  }

  plan(): ReplayPlan {
    const facts = this.facts;
    const first = facts[0]!;
    const last = facts[facts.length - 1]!;
    const flavor = flavorOf(first.serverVersion);
    const stop = this.stopAt;
    const by = this.startBy;
    let start = this.start;
    if (start === undefined && by.kind === 'file' && stop === undefined) {
      const after = compareFilePositions({ file: by.file, position: by.position, gtid: null }, { file: last.name, position: last.end, gtid: null });
      if (after === null || after < 0) {
        throw new ReplayInputError(`the replica's position ${by.file}:${by.position} is in none of the files given (${facts.map((f) => f.name).join(', ')})`);
      }
      // Past the files' end: the replica has all of them.
    }
    if (this.stop.position && !stop && !facts.some((f) => f.name === this.stop.position!.file)) {
      throw new ReplayInputError(`--stop-position names ${this.stop.position.file}, which is not among the files given`);
    }
    if (this.stop.gtid !== undefined && !stop) this.warnings.push(`--stop-gtid ${this.stop.gtid} is not in the files after the replica's position: replayed them to their end`);
    if (start && start.file >= facts.length) start = undefined;
    const segments: ReplaySegment[] = [];
    if (start) {
      const lastFile = stop ? stop.file : facts.length - 1;
      for (let i = start.file; i <= lastFile; i++) {
        const f = facts[i]!;
        const from = i === start.file ? start.offset : 4;
        const to = stop && i === stop.file ? stop.offset : f.end;
        if (to > from) segments.push({ path: f.path, name: f.name, formatEnd: f.formatEnd, from, to });
      }
    }
    const startFile = start && facts[start.file]!;
    let position: BinlogPosition = this.stored ?? { file: first.name, position: 4, gtid: null };
    if (start && startFile) {
      // The GTID state there: the replica's own record where it has one, else as the files say.
      const known = this.stored?.gtid && isMariadbGtid(this.stored.gtid) ? this.stored.gtid : start.file === 0 && start.offset === 4 ? (first.gtidList ?? '') : start.gtid;
      position = { file: startFile.name, position: start.offset, gtid: flavor === 'mariadb' ? known : null };
    }
    return {
      segments,
      flavor,
      serverVersion: first.serverVersion,
      checksums: first.checksums,
      start: position,
      gtidKnown: flavor === 'mariadb' && position.gtid !== null,
      bytes: segments.reduce((n, s) => n + (s.to - s.from) + (s.from > 4 ? s.formatEnd - 4 : 0), 0),
      files: segments.length,
      warnings: this.warnings,
      stop: stop?.why,
    };
  }
}

/** How the replica's position is found (see StartBy); refuses one before the first file that no GTID can place. */
function startBy(stored: BinlogPosition | null, firstName: string): StartBy {
  if (stored === null || (stored.file === null && !stored.gtid)) return { kind: 'beginning' };
  const beforeFirst = stored.file !== null && stored.position !== null ? compareFilePositions(stored, { file: firstName, position: 4, gtid: null }) : null;
  if (stored.file !== null && stored.position !== null && (beforeFirst === null || beforeFirst >= 0)) return { kind: 'file', file: stored.file, position: stored.position };
  if (stored.gtid && isMariadbGtid(stored.gtid)) return { kind: 'gtid', state: stored.gtid };
  throw new ReplayInputError(`a gap: the replica stands at ${formatPosition(stored)}, before the first file given (${firstName}); give the binlog files from ${stored.file ?? 'its position'} on`);
}

function flavorOf(serverVersion: string): 'mariadb' | 'mysql' {
  return /mariadb/i.test(serverVersion) ? 'mariadb' : 'mysql';
}

/** `mysql-bin.000007` → `mysql-bin.000008`, the digits kept as wide. */
function successor(name: string): string | undefined {
  const m = /^(.*\.)(\d+)$/.exec(name);
  if (!m) return undefined;
  return `${m[1]}${String(Number(m[2]) + 1).padStart(m[2]!.length, '0')}`;
}
