// The status page's memory of the last hour: per-second rates from running
// totals, unknown lag as a gap, an hour kept and no more, marks capped, and
// what was asked for since a time.
import { describe, expect, it } from 'vitest';
import { HISTORY_SECONDS, MAX_MARKS, RELAY_CHARTS, RunHistory } from '../../../src/health/history.js';

const T0 = Date.UTC(2026, 11, 7, 12);

describe('RunHistory', () => {
  it('turns running totals into per-second rates, over the time between samples', () => {
    const history = new RunHistory();
    history.sample({ lagSeconds: 0, totals: [100, 1000], level: 0 }, T0);
    history.sample({ lagSeconds: 1.24, totals: [110, 1050], level: 7 }, T0 + 1000);
    // The timer fired late: 2 s since the last sample.
    history.sample({ lagSeconds: null, totals: [130, 1050], level: 0 }, T0 + 3000);
    const { series } = history.since(0, T0 + 3000);
    expect(series).toEqual({
      t: [T0, T0 + 1000, T0 + 3000],
      lag: [0, 1.2, null],
      transactionsPerSecond: [0, 10, 10],
      rowsPerSecond: [0, 50, 0],
      queueDepth: [0, 7, 0],
    });
  });

  it('never shows a negative rate when the totals start again (a new run)', () => {
    const history = new RunHistory();
    history.sample({ lagSeconds: 0, totals: [500, 500], level: 0 }, T0);
    history.sample({ lagSeconds: 0, totals: [3, 3], level: 0 }, T0 + 1000);
    expect(history.since(0, T0 + 1000).series.transactionsPerSecond).toEqual([0, 0]);
  });

  it('keeps the last hour of samples and no more, oldest first', () => {
    const history = new RunHistory();
    const total = HISTORY_SECONDS + 250;
    for (let i = 0; i < total; i++) history.sample({ lagSeconds: 0, totals: [i, 0], level: i }, T0 + i * 1000);
    const { series } = history.since(0, T0 + total * 1000);
    expect(series.t).toHaveLength(HISTORY_SECONDS);
    expect(series.t[0]).toBe(T0 + 250 * 1000);
    expect(series.queueDepth.at(-1)).toBe(total - 1);
    expect(series.t.every((t, i) => i === 0 || t > series.t[i - 1]!)).toBe(true);
  });

  it('answers with the samples after `since` only', () => {
    const history = new RunHistory();
    for (let i = 0; i < 10; i++) history.sample({ lagSeconds: 0, totals: [0, 0], level: i }, T0 + i * 1000);
    expect(history.since(T0 + 7000, T0 + 9000).series.queueDepth).toEqual([8, 9]);
    expect(history.since(T0 + 9000, T0 + 9000).series.t).toEqual([]);
  });

  it('keeps at most MAX_MARKS marks of the last hour, each cut to a bounded length', () => {
    const history = new RunHistory();
    for (let i = 0; i < MAX_MARKS + 5; i++) history.mark(i % 2 ? 'reconnect' : 'error', `mark ${i} ${'x'.repeat(i === MAX_MARKS + 4 ? 1000 : 0)}`, T0 + i);
    const { marks } = history.since(0, T0 + 1000);
    expect(marks).toHaveLength(MAX_MARKS);
    expect(marks[0]!.text).toBe('mark 5 ');
    expect(marks.at(-1)!.text.length).toBeLessThanOrEqual(300);
    expect(marks.at(-1)!.text.endsWith('…')).toBe(true);
    // An hour later they are gone from what the page is sent.
    expect(history.since(0, T0 + HISTORY_SECONDS * 1000 + 1000).marks).toEqual([]);
  });

  it("names the series by the run's chart plan: a relay's events and messages in flight", () => {
    const history = new RunHistory(RELAY_CHARTS);
    history.sample({ lagSeconds: 0, totals: [10, 40], level: 2 }, T0);
    history.sample({ lagSeconds: 0.5, totals: [15, 62], level: 0 }, T0 + 1000);
    expect(history.since(0, T0 + 1000).series).toEqual({
      t: [T0, T0 + 1000],
      lag: [0, 0.5],
      transactionsPerSecond: [0, 5],
      eventsPerSecond: [0, 22],
      messagesInFlight: [2, 0],
    });
  });
});
