import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { StateError, StateLockedError } from '../../../src/errors.js';
import type { AppliedPosition } from '../../../src/position.js';
import { StateStore } from '../../../src/state/state-store.js';
import { STATE_APPLICATION_ID } from '../../../src/state/state-file.js';

const root = mkdtempSync(join(tmpdir(), 'binlog-sync-state-'));
let counter = 0;
/** A fresh path (file not yet created) in its own folder, so -wal/-shm files never collide. */
function freshPath(): string {
  const dir = mkdtempSync(join(root, `t${++counter}-`));
  return join(dir, 'state.sqlite');
}

const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

/** A live process that is neither this one nor our parent. */
function liveChild(): number {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
  children.push(child);
  if (child.pid === undefined) throw new Error('could not spawn a child process');
  return child.pid;
}

/** The pid of a process that has already exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  const pid = child.pid;
  if (pid === undefined) throw new Error('could not spawn a child process');
  await new Promise((resolve) => child.once('exit', resolve));
  return pid;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A 1024-byte SQLite database made by another application (a `notes` table
 * with one row, application_id 0), gzipped. Embedded rather than built here so
 * the state store stays the only module that loads the SQLite driver.
 */
const FOREIGN_SQLITE = gunzipSync(
  Buffer.from(
    'H4sIAAAAAAACAwsO9MksSVVIyy/KTSxRMGZgYmBkZHBQUGBgYGBmYGBgYkAAEJsFic/IQBgwM+hNPcULUsy4mYFxM8MooBx4M7KJi4szlpckJuWk5uWXpBaDCSbnIFfHEFeFEEcnH1cFsJBGZopCZl5JanpqkUJBUWZuYlGlQnZqpY5CUn5KpUJJakWJJiRunjIwPh0N2GELJBmZGSwzUnNy8hXSivJzFRLz8ksyUosUEgsKALjxUa0ABAAA',
    'base64',
  ),
);

/**
 * A state file as binlog-sync wrote it before position.stream_seq (schema
 * version 1, the position mysql-bin.000007:1234 gtid 0-1-77), gzipped.
 */
const STATE_BEFORE_STREAM_SEQ = gunzipSync(
  Buffer.from(
      'H4sIAAAAAAACA+2ZT2/TMBTA7bprWNGYQJqqCU14B8SqkSnZKAOmSowqgolRoGSIcYncxF0j8qeL3Ykdx/YNJi58CD4AN65c0Lhw5Atw4YbEBSVt1qRr0Q78GZp/apP4+dnOe/F7cesnj1dtTnHDD1zC8QLIAgjB' +
      'bYwBAGcBAHnQIwcAyCbKML6oM88EgzkL5l5/GAmV0Y+wPIp+QALH0XdwMnk0kivMzsJ1TuoOZZuOzanB6GabemZ/MVepacu6hvXlO6sa7quc8YhLrzK6WdwJslLh4kW4uxT12bQZ94Pt7mkk1UdXiGfyGGNsW7jD' +
      'SlXX7mo1/Ki28mC5to7va+t4eU1/uFKt1LQHWlW/GukT3tXXtWc6rj7UcXVtdbVTR7eox4fUNWyHHrbriFo+s7nte/HQHekG795ST9GinNhOV5THuIif6LWViv5qDEmFqSm460ZGx/3F52zK7MPR+uzGv7C/ck+r' +
      '3McztoXLWC32GYITjugzqK/PPsOONiStlmNTy/iVc5nfDkxqcNuljBO3FXee8McGlAoTE3BHjdzhUk7CbyblhlDSdcELuh0PlTC6M9oWcdo0fRuJga5kcoWlCQhsz6Ivu3OStLkflY1wCEMNj6gz3c9kxwAACO0D' +
      '9BW9Q/tAIBD8Wy4jNF02A0p4lHjmlfnrsjovK6quKLeiz5yiKM+VDLq0xnhAiWvYVslSzBukNC+rjRKVrzWumfJNUlLlBVMx1foivUlU9QJExXFmNqlLjC0aMNv31HwU/wcAfUNf0IFwvkDwXzOGLsHDrJA5j4qj' +
      '6Yg/h6ZhL7mgsWht/h6g98J1AsF/RxlKQM5MlkfcbbbpyHXbC1cHirKY/aTIqry4eHT9oEbrB/jmc2kPhPGf+lUvEAhOz3JBxL9AIOJfIBCcwr8LvoMsJAA10MfM0xO9N/c3EPt/Yv/vtOz/nYnf/whaAL3NeNAS' +
      '+fBP8EqSpMLkJNy1o8cftD2PBp1jPjUFOrJBcXDcGGglW8WN0tO16TMeZqeh05mTgMdTfkB9k5KA1ynhocbgeoc3E+GSzAvlnFSYnoZ7WuQJhzBu0CDwg96VlPJIT37UK8f1iUsZIxt0iLmmb9HhsZ3IKQOzybA8' +
      '0lOODDUih/eEjBNO3SgnJ3INTyWgQeH9+19PYv0vEJxefgLoM0bhACgAAA==',
    'base64',
  ),
);

function expectStateError(fn: () => unknown, message: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(StateError);
  expect((caught as Error).message).toBe(message);
}

const position: AppliedPosition = {
  file: 'mysql-bin.000012',
  position: 5531,
  gtid: '0-1-8812',
  appliedAt: '2024-05-01T10:00:00.000Z',
  sourceTimestamp: 1_714_557_600_000,
};

describe('StateStore.open', () => {
  it('creates a new file with mode 0600, the application id and a stream id', () => {
    const path = freshPath();
    const store = StateStore.open(path, { create: true });
    try {
      expect(store.path).toBe(path);
      expect(store.streamId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(store.getPosition()).toBeNull();
      expect(store.history()).toEqual([]);
      expect(store.getLastError()).toBeNull();
      expect(store.activeRunner()).toBeNull();
    } finally {
      store.close();
    }
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const header = readFileSync(path).subarray(0, 100);
    expect(header.toString('latin1', 0, 15)).toBe('SQLite format 3');
    expect(header.readUInt32BE(68)).toBe(STATE_APPLICATION_ID);
  });

  it('keeps the stream id and position across reopening, with or without create', () => {
    const path = freshPath();
    const first = StateStore.open(path, { create: true });
    const streamId = first.streamId;
    first.savePosition(position);
    first.close();

    const second = StateStore.open(path);
    expect(second.streamId).toBe(streamId);
    expect(second.getPosition()).toEqual(position);
    second.close();

    const third = StateStore.open(path, { create: true });
    expect(third.streamId).toBe(streamId);
    third.close();
  });

  it('gives each new file its own stream id', () => {
    const a = StateStore.open(freshPath(), { create: true });
    const b = StateStore.open(freshPath(), { create: true });
    expect(a.streamId).not.toBe(b.streamId);
    a.close();
    b.close();
  });

  it('refuses a missing folder and names --state', () => {
    const dir = join(root, 'no-such-folder');
    expectStateError(
      () => StateStore.open(join(dir, 'state.sqlite'), { create: true }),
      `state folder ${dir} does not exist (--state)`,
    );
  });

  it('refuses a missing file without create, and read-only never creates', () => {
    const path = freshPath();
    const message = `no state file at ${path}; run \`binlog-sync position set\` first`;
    expectStateError(() => StateStore.open(path), message);
    expectStateError(() => StateStore.open(path, { create: false }), message);
    expectStateError(() => StateStore.open(path, { create: true, readonly: true }), message);
    expect(() => statSync(path)).toThrow(/ENOENT/);
  });

  it('refuses a text file and leaves it untouched', () => {
    const path = freshPath();
    const text = 'these are my notes, not a database\n'.repeat(20);
    writeFileSync(path, text);
    for (const options of [{}, { create: true }, { readonly: true }]) {
      expectStateError(() => StateStore.open(path, options), `${path} is not a binlog-sync state file (it was left untouched)`);
    }
    expect(readFileSync(path, 'utf8')).toBe(text);
    expect(() => statSync(`${path}-wal`)).toThrow(/ENOENT/);
  });

  it('refuses a short non-database file', () => {
    const path = freshPath();
    writeFileSync(path, 'hi');
    expectStateError(() => StateStore.open(path, { create: true }), `${path} is not a binlog-sync state file (it was left untouched)`);
    expect(readFileSync(path, 'utf8')).toBe('hi');
  });

  it("refuses another application's SQLite database and leaves it untouched", () => {
    const path = freshPath();
    writeFileSync(path, FOREIGN_SQLITE);
    for (const options of [{}, { create: true }, { readonly: true }]) {
      expectStateError(() => StateStore.open(path, options), `${path} is not a binlog-sync state file (it was left untouched)`);
    }
    expect(readFileSync(path).equals(FOREIGN_SQLITE)).toBe(true);
    expect(() => statSync(`${path}-wal`)).toThrow(/ENOENT/);
    expect(() => statSync(`${path}-journal`)).toThrow(/ENOENT/);
  });

  it('refuses a database that carries our application id but not our tables, untouched', () => {
    const path = freshPath();
    const bytes = Buffer.from(FOREIGN_SQLITE);
    bytes.writeUInt32BE(STATE_APPLICATION_ID, 68);
    writeFileSync(path, bytes);
    expectStateError(() => StateStore.open(path), `${path} is not a binlog-sync state file (it was left untouched)`);
    expect(readFileSync(path).equals(bytes)).toBe(true);
  });

  it('refuses a folder given as the state file', () => {
    const dir = mkdtempSync(join(root, 'folder-'));
    expect(() => StateStore.open(dir, { create: true })).toThrow(StateError);
    expect(() => StateStore.open(dir, { create: true })).toThrow(/is a folder/);
  });

  it('initialises a zero-length file when creating (what an interrupted create leaves)', () => {
    const path = freshPath();
    writeFileSync(path, '');
    chmodSync(path, 0o600);
    expectStateError(() => StateStore.open(path), `no state file at ${path}; run \`binlog-sync position set\` first`);
    const store = StateStore.open(path, { create: true });
    expect(store.streamId).toBeTruthy();
    store.close();
  });
});

describe('position', () => {
  it('round-trips nulls', () => {
    const store = StateStore.open(freshPath(), { create: true });
    const gtidOnly: AppliedPosition = {
      file: null,
      position: null,
      gtid: '3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5',
      appliedAt: '2024-05-01T10:00:00.000Z',
      sourceTimestamp: null,
    };
    store.savePosition(gtidOnly);
    expect(store.getPosition()).toEqual(gtidOnly);
    const fileOnly: AppliedPosition = { ...position, gtid: null };
    store.savePosition(fileOnly);
    expect(store.getPosition()).toEqual(fileOnly);
    store.close();
  });

  it('round-trips positions beyond 4 GiB and 2^31', () => {
    const store = StateStore.open(freshPath(), { create: true });
    for (const offset of [4, 2 ** 31 + 7, 2 ** 32 + 123, Number.MAX_SAFE_INTEGER]) {
      const p = { ...position, position: offset };
      store.savePosition(p);
      expect(store.getPosition()).toEqual(p);
    }
    store.close();
  });

  it('keeps only the latest position (a single row)', () => {
    const store = StateStore.open(freshPath(), { create: true });
    for (let i = 1; i <= 100; i++) store.savePosition({ ...position, position: i });
    expect(store.getPosition()?.position).toBe(100);
    store.close();
  });

  it('refuses a fractional offset with a StateError', () => {
    const store = StateStore.open(freshPath(), { create: true });
    expect(() => store.savePosition({ ...position, position: 1.5 })).toThrow(StateError);
    store.close();
  });

  it("round-trips the relay stream's sequence, and a position saved without one clears it", () => {
    const store = StateStore.open(freshPath(), { create: true });
    store.savePosition({ ...position, streamSeq: 2 ** 40 + 3 });
    expect(store.getPosition()).toEqual({ ...position, streamSeq: 2 ** 40 + 3 });
    store.savePosition(position);
    expect(store.getPosition()?.streamSeq).toBeUndefined();
    store.savePosition({ ...position, streamSeq: 7 });
    store.savePosition({ ...position, streamSeq: null });
    expect(store.getPosition()).toEqual(position);
    store.close();
  });

  it('reads a file made before the stream sequence, and adds its column in place when opened for writing', () => {
    const path = freshPath();
    writeFileSync(path, STATE_BEFORE_STREAM_SEQ, { mode: 0o600 });
    const stored = { file: 'mysql-bin.000007', position: 1234, gtid: '0-1-77', appliedAt: '2026-12-01T00:00:01.000Z', sourceTimestamp: 1_764_547_200_000 };
    const reader = StateStore.open(path, { readonly: true });
    expect(reader.getPosition()).toEqual(stored);
    reader.close();
    const writer = StateStore.open(path);
    expect(writer.streamId).toBe('5d0c8a52-1f5e-4f4c-9a51-3c0c1b7e9a11');
    expect(writer.getPosition()).toEqual(stored);
    writer.savePosition({ ...stored, position: 5678, streamSeq: 42 });
    writer.close();
    // Added once: opened again (for writing, and read-only), the column is there.
    const again = StateStore.open(path);
    expect(again.getPosition()).toMatchObject({ position: 5678, streamSeq: 42 });
    again.close();
    const after = StateStore.open(path, { readonly: true });
    expect(after.getPosition()?.streamSeq).toBe(42);
    after.close();
  });

  it('is visible to a concurrent read-only store, which cannot write', () => {
    const path = freshPath();
    const writer = StateStore.open(path, { create: true });
    const reader = StateStore.open(path, { readonly: true });
    try {
      expect(reader.streamId).toBe(writer.streamId);
      expect(reader.getPosition()).toBeNull();
      writer.savePosition(position);
      expect(reader.getPosition()).toEqual(position);
      const next = { ...position, position: 9999, gtid: '0-1-8813' };
      writer.savePosition(next);
      expect(reader.getPosition()).toEqual(next);
      writer.addHistory({ event: 'start', file: null, position: null, gtid: null, detail: null });
      expect(reader.history()).toHaveLength(1);

      expect(() => reader.savePosition(position)).toThrow(StateError);
      expect(() => reader.setLastError(null)).toThrow(/opened read-only/);
      expect(reader.getPosition()).toEqual(next);
    } finally {
      reader.close();
      writer.close();
    }
  });
});

describe('history', () => {
  it('returns entries newest first, 50 by default, and honours a limit', () => {
    const store = StateStore.open(freshPath(), { create: true });
    for (let i = 1; i <= 60; i++) {
      store.addHistory({ event: i % 2 ? 'start' : 'stop', file: 'mysql-bin.000001', position: i, gtid: null, detail: `run ${i}` });
    }
    const all = store.history();
    expect(all).toHaveLength(50);
    expect(all[0]).toMatchObject({ event: 'stop', position: 60, detail: 'run 60', file: 'mysql-bin.000001', gtid: null });
    expect(all[49]?.position).toBe(11);
    expect(all.map((e) => e.id)).toEqual([...all.map((e) => e.id)].sort((a, b) => b - a));
    expect(store.history(3).map((e) => e.position)).toEqual([60, 59, 58]);
    expect(store.history(1000)).toHaveLength(60);
    expect(() => store.history(0)).toThrow(RangeError);
    store.close();
  });

  it('stamps entries with the current time unless given one, and keeps nulls', () => {
    const store = StateStore.open(freshPath(), { create: true });
    const before = Date.now();
    store.addHistory({ event: 'set', file: null, position: null, gtid: '0-1-5', detail: null });
    store.addHistory({ event: 'skip', file: 'mysql-bin.000003', position: 77, gtid: null, detail: 'skipped 1', at: '2020-01-01T00:00:00.000Z' });
    const [skip, set] = store.history();
    expect(skip).toEqual({
      id: expect.any(Number),
      at: '2020-01-01T00:00:00.000Z',
      event: 'skip',
      file: 'mysql-bin.000003',
      position: 77,
      gtid: null,
      detail: 'skipped 1',
    });
    expect(set).toMatchObject({ event: 'set', file: null, position: null, gtid: '0-1-5', detail: null });
    expect(Date.parse(set?.at ?? '')).toBeGreaterThanOrEqual(before - 1000);
    // Newest first by insertion, even though the second entry carries an older time.
    expect(skip?.id).toBeGreaterThan(set?.id ?? Infinity);
    store.close();
  });
});

describe('last error', () => {
  const error = {
    message: 'Duplicate entry 5 for key PRIMARY',
    code: 'APPLY',
    file: 'mysql-bin.000012',
    position: 5531,
    gtid: '0-1-8812',
    table: 'shop.orders',
    statement: 'INSERT INTO `shop`.`orders` ...',
    at: '2024-05-01T10:00:00.000Z',
  };

  it('sets, replaces and clears', () => {
    const path = freshPath();
    const store = StateStore.open(path, { create: true });
    expect(store.getLastError()).toBeNull();
    store.setLastError(error);
    expect(store.getLastError()).toEqual(error);
    const other = { ...error, message: 'lost connection', code: 'CONNECTION', file: null, position: null, gtid: null, table: null, statement: null };
    store.setLastError(other);
    expect(store.getLastError()).toEqual(other);
    store.close();

    const reopened = StateStore.open(path);
    expect(reopened.getLastError()).toEqual(other);
    reopened.setLastError(null);
    expect(reopened.getLastError()).toBeNull();
    reopened.setLastError(null); // clearing twice is fine
    reopened.close();
  });

  it('never stores a password that appears in a URL inside the message', () => {
    const store = StateStore.open(freshPath(), { create: true });
    store.setLastError({ ...error, message: 'cannot connect to mysql://repl:hunter2@db:3306' });
    expect(store.getLastError()?.message).not.toContain('hunter2');
    store.close();
  });
});

describe('runner', () => {
  const host = hostname();

  it('records the runner and reports it as active', () => {
    const store = StateStore.open(freshPath(), { create: true });
    store.acquireRunner({ pid: process.pid, hostname: host });
    const runner = store.activeRunner();
    expect(runner).toMatchObject({ pid: process.pid, hostname: host });
    expect(Date.parse(runner?.startedAt ?? '')).not.toBeNaN();
    expect(runner?.heartbeatAt).toBe(runner?.startedAt);
    // The same process may acquire again (e.g. after a reconnect).
    store.acquireRunner({ pid: process.pid, hostname: host });
    store.close();
  });

  it('refuses while another live process holds a fresh row', () => {
    const path = freshPath();
    const store = StateStore.open(path, { create: true });
    const other = liveChild();
    store.acquireRunner({ pid: other, hostname: host });
    const since = store.activeRunner()?.startedAt;

    let caught: unknown;
    try {
      store.acquireRunner({ pid: process.pid, hostname: host });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(StateLockedError);
    expect((caught as Error).message).toBe(
      `another \`binlog-sync start\` (pid ${other} on ${host}, running since ${since}) is using ${path}`,
    );
    // Refusal changes nothing.
    expect(store.activeRunner()?.pid).toBe(other);

    // A second connection (another process's view) is refused too.
    const second = StateStore.open(path);
    expect(() => second.acquireRunner({ pid: process.pid, hostname: host })).toThrow(StateLockedError);
    second.close();
    store.close();
  });

  it('refuses while our parent process holds the row', () => {
    const store = StateStore.open(freshPath(), { create: true });
    store.acquireRunner({ pid: process.ppid, hostname: host });
    expect(() => store.acquireRunner({ pid: process.pid, hostname: host })).toThrow(StateLockedError);
    store.close();
  });

  it('takes over from a process that has exited', async () => {
    const store = StateStore.open(freshPath(), { create: true });
    const dead = await deadPid();
    store.acquireRunner({ pid: dead, hostname: host });
    expect(store.activeRunner()).toBeNull();
    store.acquireRunner({ pid: process.pid, hostname: host });
    expect(store.activeRunner()?.pid).toBe(process.pid);
    store.close();
  });

  it('takes over from a live process whose heartbeat went stale', async () => {
    const store = StateStore.open(freshPath(), { create: true });
    const other = liveChild();
    const old = store.acquireRunner({ pid: other, hostname: host });
    await sleep(60);
    expect(store.activeRunner(10_000)?.pid).toBe(other);
    expect(store.activeRunner(30)).toBeNull();
    expect(() => store.acquireRunner({ pid: process.pid, hostname: host }, 10_000)).toThrow(StateLockedError);
    store.acquireRunner({ pid: process.pid, hostname: host }, 30);
    expect(store.activeRunner()?.pid).toBe(process.pid);
    // The old runner's heartbeat now finds its row gone.
    expect(store.heartbeat(old)).toBe(false);
    store.close();
  });

  it('heartbeat keeps a runner fresh', async () => {
    const store = StateStore.open(freshPath(), { create: true });
    const other = liveChild();
    const lease = store.acquireRunner({ pid: other, hostname: host });
    const startedAt = store.activeRunner()?.startedAt;
    await sleep(300);
    expect(store.heartbeat(lease)).toBe(true);
    // Without the heartbeat the row would be 300 ms old, stale at 250 ms.
    const runner = store.activeRunner(250);
    expect(runner?.pid).toBe(other);
    expect(runner?.startedAt).toBe(startedAt);
    expect(Date.parse(runner?.heartbeatAt ?? '')).toBeGreaterThan(Date.parse(startedAt ?? ''));
    expect(() => store.acquireRunner({ pid: process.pid, hostname: host }, 250)).toThrow(StateLockedError);
    store.close();
  });

  it('releaseRunner removes only its own row', () => {
    const store = StateStore.open(freshPath(), { create: true });
    const other = liveChild();
    const lease = store.acquireRunner({ pid: other, hostname: host });
    store.releaseRunner({ pid: process.pid, epoch: lease.epoch });
    store.releaseRunner({ pid: other, epoch: lease.epoch - 1 });
    expect(store.activeRunner()?.pid).toBe(other);
    store.releaseRunner(lease);
    expect(store.activeRunner()).toBeNull();
    // Gone, not just stale: a heartbeat finds no row to update.
    expect(store.heartbeat(lease)).toBe(false);
    const mine = store.acquireRunner({ pid: process.pid, hostname: host });
    store.releaseRunner(mine);
    expect(store.heartbeat(mine)).toBe(false);
    store.close();
  });

  it('gives each owner a larger epoch, and fences every older one', async () => {
    const store = StateStore.open(freshPath(), { create: true });
    const other = liveChild();
    const first = store.acquireRunner({ pid: other, hostname: host });
    await sleep(60);
    // Taken over after a stall: the same pid would not help the old lease either.
    const second = store.acquireRunner({ pid: process.pid, hostname: host }, 30);
    expect(second.epoch).toBeGreaterThan(first.epoch);
    expect(store.holds(first)).toBe(false);
    expect(store.holds(second)).toBe(true);
    expect(store.heartbeat(first)).toBe(false);
    expect(store.heartbeat(second)).toBe(true);

    // The superseded runner's positions are not written; the owner's are.
    const mine = { file: 'mysql-bin.000002', position: 400, gtid: '0-1-9', appliedAt: '2026-12-01T00:00:00.000Z', sourceTimestamp: null };
    expect(store.savePosition({ ...mine, position: 999 }, first)).toBe(false);
    expect(store.savePosition(mine, second)).toBe(true);
    expect(store.getPosition()).toEqual(mine);

    // A one-off writer (position set, skip, snapshot) supersedes the runner too.
    const oneOff = store.claimEpoch();
    expect(oneOff).toBeGreaterThan(second.epoch);
    expect(store.heartbeat(second)).toBe(false);
    expect(store.savePosition({ ...mine, position: 1 }, second)).toBe(false);
    expect(store.getPosition()?.position).toBe(400);
    // A release by the superseded lease leaves the row alone (it is not ours to remove).
    store.releaseRunner(second);
    expect(store.activeRunner()?.pid).toBe(process.pid);
    store.close();
  });

  it('keeps epochs increasing across connections and reopenings', () => {
    const path = freshPath();
    const a = StateStore.open(path, { create: true });
    const epochs = [a.claimEpoch(), a.claimEpoch()];
    a.close();
    const b = StateStore.open(path);
    epochs.push(b.acquireRunner({ pid: process.pid, hostname: host }).epoch, b.claimEpoch());
    b.close();
    for (let i = 1; i < epochs.length; i++) expect(epochs[i]).toBeGreaterThan(epochs[i - 1]!);
  });

  it('is seen by a read-only store', () => {
    const path = freshPath();
    const writer = StateStore.open(path, { create: true });
    const reader = StateStore.open(path, { readonly: true });
    expect(reader.activeRunner()).toBeNull();
    const lease = writer.acquireRunner({ pid: process.pid, hostname: host });
    expect(reader.activeRunner()?.pid).toBe(process.pid);
    writer.releaseRunner(lease);
    expect(reader.activeRunner()).toBeNull();
    reader.close();
    writer.close();
  });
});
