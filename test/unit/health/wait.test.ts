import { describe, expect, it } from 'vitest';
import { hasApplied } from '../../../src/health/wait.js';
import type { AppliedPosition, BinlogPosition } from '../../../src/position.js';
import type { RunnerHealth, RunnerInfo } from '../../../src/state/state-store.js';

function applied(file: string | null, position: number | null, gtid: string | null = null): AppliedPosition {
  return { file, position, gtid, appliedAt: '2026-11-26T12:00:00.000Z', sourceTimestamp: Date.UTC(2026, 10, 26, 12) };
}

function target(file: string | null, position: number | null, gtid: string | null = null): BinlogPosition {
  return { file, position, gtid };
}

function runner(health: Partial<RunnerHealth> | null): RunnerInfo {
  return {
    pid: 4242,
    hostname: 'dev-laptop',
    startedAt: '2026-11-26T11:00:00.000Z',
    heartbeatAt: '2026-11-26T12:00:01.000Z',
    health:
      health === null
        ? null
        : {
            sourceConnected: true,
            lagSeconds: 0,
            pending: false,
            sourceFile: 'mysql-bin.000003',
            sourcePosition: 900,
            appliedThroughFile: 'mysql-bin.000003',
            appliedThroughPosition: 900,
            clockOffsetMs: 0,
            reconnects: 0,
            ...health,
          },
  };
}

describe('hasApplied', () => {
  describe('by file and position', () => {
    it.each<[string, AppliedPosition, BinlogPosition, boolean]>([
      ['the same position', applied('mysql-bin.000003', 900), target('mysql-bin.000003', 900), true],
      ['further in the same file', applied('mysql-bin.000003', 1200), target('mysql-bin.000003', 900), true],
      ['earlier in the same file', applied('mysql-bin.000003', 899), target('mysql-bin.000003', 900), false],
      ['a later file, at a small offset', applied('mysql-bin.000004', 4), target('mysql-bin.000003', 90_000), true],
      ['an earlier file, at a large offset', applied('mysql-bin.000002', 90_000), target('mysql-bin.000003', 4), false],
      ['file numbers compared as numbers', applied('mysql-bin.1000000', 4), target('mysql-bin.999999', 500), true],
      ['different binlog base names', applied('other-bin.000009', 900), target('mysql-bin.000003', 900), false],
      ['the applied position has no file', applied(null, null), target('mysql-bin.000003', 900), false],
      ['the target has no file', applied('mysql-bin.000003', 900), target(null, null), false],
    ])('%s → %j', (_label, a, t, expected) => {
      expect(hasApplied(a, t, null)).toBe(expected);
    });
  });

  describe('by GTID', () => {
    it.each<[string, AppliedPosition, BinlogPosition, boolean]>([
      ['the same GTID, no files', applied(null, null, '0-1-100'), target(null, null, '0-1-100'), true],
      ['a later sequence number', applied(null, null, '0-1-101'), target(null, null, '0-1-100'), true],
      ['an earlier sequence number', applied(null, null, '0-1-99'), target(null, null, '0-1-100'), false],
      [
        'covered although the files differ in base name',
        applied('other-bin.000001', 4, '0-1-100,1-2-7'),
        target('mysql-bin.000009', 500, '0-1-100,1-2-5'),
        true,
      ],
      ['covered although the file position is behind', applied('mysql-bin.000003', 100, '0-2-100'), target('mysql-bin.000003', 900, '0-1-100'), true],
      ['a domain of the target is missing', applied(null, null, '0-1-100'), target(null, null, '0-1-100,1-2-1'), false],
      ['the applied position has no GTID', applied(null, null, null), target(null, null, '0-1-100'), false],
      ['the target has no GTID', applied(null, null, '0-1-100'), target(null, null, null), false],
      [
        'MySQL GTID sets are not compared',
        applied(null, null, '3e11fa47-71ca-11e1-9e33-c80aa9429562:1-10'),
        target(null, null, '3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5'),
        false,
      ],
    ])('%s → %j', (_label, a, t, expected) => {
      expect(hasApplied(a, t, null)).toBe(expected);
    });
  });

  describe('through the runner (idle after a rotation)', () => {
    const behind = applied('mysql-bin.000003', 500);
    const nothingApplied = { appliedThroughFile: undefined, appliedThroughPosition: undefined };

    it.each<[string, AppliedPosition | null, BinlogPosition, RunnerInfo | null, boolean]>([
      ['no runner', behind, target('mysql-bin.000003', 900), null, false],
      ['applied through the target', behind, target('mysql-bin.000003', 900), runner({}), true],
      ['applied through past the target', behind, target('mysql-bin.000003', 900), runner({ appliedThroughPosition: 1500 }), true],
      [
        'applied through a later file',
        behind,
        target('mysql-bin.000003', 90_000),
        runner({ appliedThroughFile: 'mysql-bin.000004', appliedThroughPosition: 4 }),
        true,
      ],
      ['applied through the target, nothing stored yet', null, target('mysql-bin.000003', 900), runner({}), true],
      ['applied through the target, the stream down since', behind, target('mysql-bin.000003', 900), runner({ sourceConnected: false }), true],
      ['applied through short of the target', behind, target('mysql-bin.000003', 900), runner({ appliedThroughPosition: 899 }), false],
      ['applied through an earlier file', behind, target('mysql-bin.000004', 4), runner({}), false],
      // A transaction received, then rolled back to be applied again (a retry, a
      // reconnect): the new stream has nothing pending yet, and has seen past the target.
      [
        'the stream has seen past the target, but applied only short of it (a retry)',
        behind,
        target('mysql-bin.000003', 900),
        runner({ sourcePosition: 1500, pending: false, lagSeconds: 0, appliedThroughPosition: 500 }),
        false,
      ],
      [
        'a new stream, nothing pending yet, nothing applied through',
        behind,
        target('mysql-bin.000003', 900),
        runner({ sourcePosition: 1500, pending: false, lagSeconds: 0, ...nothingApplied }),
        false,
      ],
      ['an older runner (publishes no applied-through position)', behind, target('mysql-bin.000003', 900), runner(nothingApplied), false],
      ['no health published', behind, target('mysql-bin.000003', 900), runner(null), false],
      [
        'different binlog base names',
        behind,
        target('mysql-bin.000003', 900),
        runner({ appliedThroughFile: 'other-bin.000009', appliedThroughPosition: 90_000 }),
        false,
      ],
      ['a GTID-only target', behind, target(null, null, '0-1-100'), runner({}), false],
    ])('%s → %j', (_label, a, t, r, expected) => {
      expect(hasApplied(a, t, r)).toBe(expected);
    });
  });
});
