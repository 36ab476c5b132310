import { describe, expect, it } from 'vitest';
import {
  buildStatus,
  decideState,
  retentionFor,
  STATUS_EXIT_CODES,
  type HealthState,
  type Retention,
  type StatusInputs,
} from '../../../src/health/status.js';
import type { AppliedPosition, BinlogPosition } from '../../../src/position.js';
import type { LastError, RunnerHealth, RunnerInfo } from '../../../src/state/state-store.js';

describe('decideState', () => {
  it.each<[boolean, number | null, number, HealthState]>([
    [false, null, 5, 'STOPPED'],
    [false, 0, 5, 'STOPPED'],
    [false, 100, 5, 'STOPPED'],
    [true, null, 5, 'UNKNOWN'],
    [true, 0, 5, 'HEALTHY'],
    [true, 4.99, 5, 'HEALTHY'],
    [true, 5, 5, 'LAGGING'],
    [true, 5.01, 5, 'LAGGING'],
    [true, 3600, 5, 'LAGGING'],
    [true, 0, 0, 'LAGGING'],
    [true, 0.5, 1, 'HEALTHY'],
    [true, 1, 1, 'LAGGING'],
  ])('running=%j lag=%j threshold=%j → %s', (running, lag, threshold, expected) => {
    expect(decideState(running, lag, threshold)).toBe(expected);
  });
});

describe('STATUS_EXIT_CODES', () => {
  it('maps each state to its documented exit code', () => {
    expect(STATUS_EXIT_CODES).toEqual({ HEALTHY: 0, LAGGING: 1, STOPPED: 2, UNKNOWN: 3 });
  });
});

const APPLIED: AppliedPosition = {
  file: 'mysql-bin.000012',
  position: 5531,
  gtid: '0-1-8812',
  appliedAt: '2026-11-26T12:00:00.123Z',
  sourceTimestamp: Date.UTC(2026, 10, 26, 12, 0, 0),
};

function health(overrides: Partial<RunnerHealth> = {}): RunnerHealth {
  return {
    sourceConnected: true,
    lagSeconds: 0,
    sourceFile: 'mysql-bin.000012',
    sourcePosition: 5531,
    clockOffsetMs: 12,
    reconnects: 0,
    ...overrides,
  };
}

function runner(h: RunnerHealth | null): RunnerInfo {
  return { pid: 4242, hostname: 'dev-laptop', startedAt: '2026-11-26T11:00:00.000Z', heartbeatAt: '2026-11-26T12:00:01.000Z', health: h };
}

function inputs(overrides: Partial<StatusInputs> = {}): StatusInputs {
  return { runner: null, applied: null, source: null, lastError: null, lagThreshold: 5, retention: null, ...overrides };
}

describe('buildStatus', () => {
  it('reports STOPPED with no runner', () => {
    expect(buildStatus(inputs())).toEqual({
      state: 'STOPPED',
      running: false,
      lagSeconds: null,
      lagThresholdSeconds: 5,
      applied: null,
      source: null,
      lastError: null,
      runner: null,
      retention: null,
    });
  });

  it.each<[string, RunnerHealth | null, number, HealthState, number | null, boolean, number]>([
    ['connected and caught up', health(), 5, 'HEALTHY', 0, true, 0],
    ['connected, lag rounded to 0.1 s', health({ lagSeconds: 1.234 }), 5, 'HEALTHY', 1.2, true, 0],
    ['connected, lag rounded up', health({ lagSeconds: 2.36 }), 5, 'HEALTHY', 2.4, true, 0],
    ['connected, lag exactly at the threshold', health({ lagSeconds: 5 }), 5, 'LAGGING', 5, true, 0],
    ['connected, lagging', health({ lagSeconds: 12.34, reconnects: 2 }), 5, 'LAGGING', 12.3, true, 2],
    ['not connected: a stale lag is not reported', health({ sourceConnected: false, lagSeconds: 3, reconnects: 4 }), 5, 'UNKNOWN', null, false, 4],
    ['not connected with lag 0', health({ sourceConnected: false, lagSeconds: 0 }), 5, 'UNKNOWN', null, false, 0],
    ['connected but lag unknown', health({ lagSeconds: null }), 5, 'UNKNOWN', null, true, 0],
    ['no health published yet', null, 5, 'UNKNOWN', null, false, 0],
  ])('%s', (_label, h, threshold, state, lagSeconds, sourceConnected, reconnects) => {
    const report = buildStatus(inputs({ runner: runner(h), lagThreshold: threshold }));
    expect(report.state).toBe(state);
    expect(report.running).toBe(true);
    expect(report.lagSeconds).toBe(lagSeconds);
    expect(report.lagThresholdSeconds).toBe(threshold);
    expect(report.runner).toEqual({
      pid: 4242,
      hostname: 'dev-laptop',
      startedAt: '2026-11-26T11:00:00.000Z',
      sourceConnected,
      reconnects,
      applyMode: null,
      capabilities: null,
      sqlPathTables: [],
    });
  });

  it('reports the applied position without its source timestamp, and passes the rest through', () => {
    const source: BinlogPosition = { file: 'mysql-bin.000013', position: 120, gtid: '0-1-8813' };
    const lastError: LastError = {
      message: 'Duplicate entry',
      code: 'APPLY_FAILED',
      file: 'mysql-bin.000012',
      position: 5531,
      gtid: '0-1-8812',
      table: 'app.users',
      statement: 'INSERT INTO app.users ...',
      at: '2026-11-26T12:00:02.000Z',
    };
    const retention: Retention = { expireSeconds: 604_800, fileOnSource: true, secondsLeft: 603_950, warning: null };
    const published = health({
      lagSeconds: 0.04,
      applyMode: { kind: 'careful', left: 3 },
      capabilities: { binlogStatements: true, loadData: false, decodeThread: true },
      sqlPathTables: ['app.users'],
    });
    const report = buildStatus(inputs({ runner: runner(published), applied: APPLIED, source, lastError, retention, lagThreshold: 10 }));
    expect(report).toEqual({
      state: 'HEALTHY',
      running: true,
      lagSeconds: 0,
      lagThresholdSeconds: 10,
      applied: { file: 'mysql-bin.000012', position: 5531, gtid: '0-1-8812', appliedAt: '2026-11-26T12:00:00.123Z', streamSeq: null },
      source,
      lastError,
      runner: {
        pid: 4242,
        hostname: 'dev-laptop',
        startedAt: '2026-11-26T11:00:00.000Z',
        sourceConnected: true,
        reconnects: 0,
        applyMode: { kind: 'careful', left: 3 },
        capabilities: { binlogStatements: true, loadData: false, decodeThread: true },
        sqlPathTables: ['app.users'],
      },
      retention,
    });
    expect(report.applied).not.toHaveProperty('sourceTimestamp');
  });

  it('keeps the applied position and last error when stopped', () => {
    const lastError: LastError = {
      message: 'lost',
      code: 'CONNECTION',
      file: null,
      position: null,
      gtid: null,
      table: null,
      statement: null,
      at: '2026-11-26T12:00:02.000Z',
    };
    const report = buildStatus(inputs({ applied: APPLIED, lastError }));
    expect(report.state).toBe('STOPPED');
    expect(report.applied).toEqual({ file: 'mysql-bin.000012', position: 5531, gtid: '0-1-8812', appliedAt: '2026-11-26T12:00:00.123Z', streamSeq: null });
    expect(report.lastError).toBe(lastError);
  });

  it("shows the relay stream's message of the position (start --from)", () => {
    const report = buildStatus(inputs({ applied: { ...APPLIED, streamSeq: 4711 } }));
    expect(report.applied).toMatchObject({ file: 'mysql-bin.000012', position: 5531, streamSeq: 4711 });
  });
});

describe('retentionFor', () => {
  const T = APPLIED.sourceTimestamp!;
  const FILES = ['mysql-bin.000011', 'mysql-bin.000012', 'mysql-bin.000013'];
  const WEEK = 604_800;
  const at = (secondsLater: number): number => T + secondsLater * 1000;
  const soon = (minutes: number): string =>
    `binlog mysql-bin.000012 of the stored position may be purged on the source in ${minutes} min; let \`start\` catch up`;

  it.each<[string, AppliedPosition | null]>([
    ['no applied position', null],
    ['an applied position with only a GTID', { ...APPLIED, file: null, position: null }],
  ])('is null for %s', (_label, applied) => {
    expect(retentionFor(applied, FILES, WEEK, at(10))).toBeNull();
  });

  it('warns that a purged file needs a snapshot, with no time left', () => {
    const r = retentionFor(APPLIED, ['mysql-bin.000013', 'mysql-bin.000014'], WEEK, at(10));
    expect(r).toEqual({
      expireSeconds: WEEK,
      fileOnSource: false,
      secondsLeft: 0,
      warning: 'binlog mysql-bin.000012 of the stored position has been purged on the source; run `binlog-sync snapshot` to start over',
    });
    expect(r?.warning).toContain('snapshot');
  });

  it('says a file is purged even when the source keeps binlogs forever', () => {
    expect(retentionFor(APPLIED, [], null, at(10))).toMatchObject({ expireSeconds: null, fileOnSource: false, secondsLeft: 0 });
  });

  it.each<[string, number | null, AppliedPosition]>([
    ['no expiry', null, APPLIED],
    ['expiry 0', 0, APPLIED],
    ['no source timestamp', WEEK, { ...APPLIED, sourceTimestamp: null }],
  ])('does not know the time left with %s', (_label, expireSeconds, applied) => {
    expect(retentionFor(applied, FILES, expireSeconds, at(10))).toEqual({ expireSeconds, fileOnSource: true, secondsLeft: null, warning: null });
  });

  it.each<[string, number, number, number, string | null]>([
    ['just applied', WEEK, 0, WEEK, null],
    ['as in the documented example', WEEK, 850, 603_950, null],
    ['rounded to the second', WEEK, 850.4, 603_950, null],
    ['exactly a day left: no warning', WEEK, WEEK - 86_400, 86_400, null],
    ['just under a day left', WEEK, WEEK - 86_399, 86_399, soon(1440)],
    ['an hour left', WEEK, WEEK - 3600, 3600, soon(60)],
    ['past expiry: clamped at 0', WEEK, WEEK + 500, 0, soon(0)],
    // Short retention: the warning starts when a quarter of it is left.
    ['one-hour retention, just over a quarter left', 3600, 2699, 901, null],
    ['one-hour retention, exactly a quarter left', 3600, 2700, 900, null],
    ['one-hour retention, just under a quarter left', 3600, 2701, 899, soon(15)],
    // Long retention: the day limit applies, not the quarter.
    ['thirty-day retention, two days left', 2_592_000, 2_592_000 - 172_800, 172_800, null],
    ['thirty-day retention, half a day left', 2_592_000, 2_592_000 - 43_200, 43_200, soon(720)],
  ])('%s', (_label, expireSeconds, elapsed, secondsLeft, warning) => {
    expect(retentionFor(APPLIED, FILES, expireSeconds, at(elapsed))).toEqual({ expireSeconds, fileOnSource: true, secondsLeft, warning });
  });

  it('counts from the source time, whatever the applied time says', () => {
    const applied = { ...APPLIED, appliedAt: '2030-01-01T00:00:00.000Z' };
    expect(retentionFor(applied, FILES, WEEK, at(1000))?.secondsLeft).toBe(WEEK - 1000);
  });
});

describe('status rounding', () => {
  it('decides on the lag it shows: 4.96 s shows as 5 s and is LAGGING at a 5 s threshold', () => {
    const report = buildStatus({
      runner: { pid: 1, hostname: 'h', startedAt: 'x', heartbeatAt: 'y', health: { sourceConnected: true, lagSeconds: 4.96, sourceFile: null, sourcePosition: null, clockOffsetMs: 0, reconnects: 0 } },
      applied: null,
      source: null,
      lastError: null,
      lagThreshold: 5,
      retention: null,
    });
    expect(report).toMatchObject({ state: 'LAGGING', lagSeconds: 5 });
  });
});
