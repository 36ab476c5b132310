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

    it.each<[string, AppliedPosition | null, BinlogPosition, RunnerInfo | null, boolean]>([
      ['no runner', behind, target('mysql-bin.000003', 900), null, false],
      ['caught up, the stream at the target', behind, target('mysql-bin.000003', 900), runner({}), true],
      ['caught up, the stream past the target', behind, target('mysql-bin.000003', 900), runner({ sourcePosition: 1500 }), true],
      ['caught up, the stream in a later file', behind, target('mysql-bin.000003', 90_000), runner({ sourceFile: 'mysql-bin.000004', sourcePosition: 4 }), true],
      ['caught up, nothing applied yet', null, target('mysql-bin.000003', 900), runner({}), true],
      ['caught up, but the stream is short of the target', behind, target('mysql-bin.000003', 900), runner({ sourcePosition: 899 }), false],
      ['caught up, but the stream is in an earlier file', behind, target('mysql-bin.000004', 4), runner({}), false],
      ['a change still pending', behind, target('mysql-bin.000003', 900), runner({ lagSeconds: 0.2, pending: true }), false],
      ['a change pending even at a lag that reads 0 (clock offset)', behind, target('mysql-bin.000003', 900), runner({ lagSeconds: 0, pending: true }), false],
      ['pending unknown (older runner)', behind, target('mysql-bin.000003', 900), runner({ pending: undefined }), false],
      ['disconnected', behind, target('mysql-bin.000003', 900), runner({ sourceConnected: false }), false],
      ['no health published', behind, target('mysql-bin.000003', 900), runner(null), false],
      ['the stream has no file yet', behind, target('mysql-bin.000003', 900), runner({ sourceFile: null, sourcePosition: null }), false],
      ['the stream has a file but no position', behind, target('mysql-bin.000003', 900), runner({ sourcePosition: null }), false],
      [
        'different binlog base names',
        behind,
        target('mysql-bin.000003', 900),
        runner({ sourceFile: 'other-bin.000009', sourcePosition: 90_000 }),
        false,
      ],
      ['a GTID-only target', behind, target(null, null, '0-1-100'), runner({}), false],
    ])('%s → %j', (_label, a, t, r, expected) => {
      expect(hasApplied(a, t, r)).toBe(expected);
    });
  });
});
