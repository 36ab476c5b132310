// The last hour of a run, kept in memory for the status page's charts: one
// sample a second (lag, two running totals as per-second rates, and one
// level) in fixed typed arrays, and the reconnects and errors as marks. It
// is bounded by construction: 3,600 samples of five numbers (about 140 KiB)
// and at most 200 marks of at most 300 characters each (about 130 KiB), so a
// replica left running for months holds no more than one left for an hour.
// What the totals and the level are is the run's (a replica applies
// transactions and rows, a relay publishes transactions and events): the
// ChartPlan names them, for /history.json and the page's captions alike.

/** Samples kept: an hour at one a second. */
export const HISTORY_SECONDS = 3600;
/** Marks kept (the oldest are dropped first). */
export const MAX_MARKS = 200;
const MAX_MARK_TEXT = 300;

export type MarkKind = 'reconnect' | 'error';

export interface Mark {
  /** Epoch ms. */
  t: number;
  kind: MarkKind;
  text: string;
}

/** One chart of the page: its series' key in /history.json, its element id, caption and legend. */
export interface ChartSpec {
  key: string;
  id: string;
  title: string;
  label: string;
}

/** What a run charts besides its lag: two totals drawn as rates, then a level. */
export interface ChartPlan {
  rates: readonly [ChartSpec, ChartSpec];
  level: ChartSpec;
}

/** `start` (and `demo`): what the replica applies, and the events waiting for it. */
export const REPLICA_CHARTS: ChartPlan = {
  rates: [
    { key: 'transactionsPerSecond', id: 'tps', title: 'Transactions applied per second', label: 'transactions/s' },
    { key: 'rowsPerSecond', id: 'rps', title: 'Rows applied per second', label: 'rows/s' },
  ],
  level: { key: 'queueDepth', id: 'queue', title: 'Queue depth (events received, not yet applied)', label: 'events queued' },
};

/** `relay`: what the stream has stored (acknowledged), and the messages on their way to it. */
export const RELAY_CHARTS: ChartPlan = {
  rates: [
    { key: 'transactionsPerSecond', id: 'tps', title: 'Transactions published per second (stored in the stream)', label: 'transactions/s' },
    { key: 'eventsPerSecond', id: 'eps', title: 'Binlog events published per second', label: 'events/s' },
  ],
  level: { key: 'messagesInFlight', id: 'inflight', title: 'Messages in flight (published, not yet acknowledged)', label: 'messages' },
};

/** The totals one sample is taken from (a run's counters, as they stand). */
export interface SampleInput {
  lagSeconds: number | null;
  /** Running totals (the plan's two rates, in order): drawn per second. */
  totals: readonly [number, number];
  /** Drawn as it is (the plan's level). */
  level: number;
}

/** Samples as columns (what uPlot draws), oldest first; null where unknown. Keyed by the plan's keys besides t and lag. */
export type HistorySeries = { t: number[]; lag: Array<number | null> } & Record<string, Array<number | null>>;

export class RunHistory {
  private readonly t = new Float64Array(HISTORY_SECONDS);
  // NaN stands for an unknown lag (not streaming): a gap in the chart.
  private readonly lag = new Float64Array(HISTORY_SECONDS);
  private readonly rate0 = new Float64Array(HISTORY_SECONDS);
  private readonly rate1 = new Float64Array(HISTORY_SECONDS);
  private readonly level = new Float64Array(HISTORY_SECONDS);
  /** Samples taken so far (the ring holds the last HISTORY_SECONDS of them). */
  private count = 0;
  private last: { t: number; totals: readonly [number, number] } | null = null;
  private readonly marks: Mark[] = [];

  constructor(readonly plan: ChartPlan = REPLICA_CHARTS) {}

  sample(input: SampleInput, now = Date.now()): void {
    // Per second over the time since the last sample (the timer may fire late).
    const seconds = this.last ? Math.max((now - this.last.t) / 1000, 0.001) : 1;
    // Totals start again at 0 for a new run of the replicator: no negative rate.
    const rate = (total: number, before: number | undefined): number => Math.max(0, total - (before ?? total)) / seconds;
    const i = this.count % HISTORY_SECONDS;
    this.t[i] = now;
    this.lag[i] = input.lagSeconds ?? Number.NaN;
    this.rate0[i] = rate(input.totals[0], this.last?.totals[0]);
    this.rate1[i] = rate(input.totals[1], this.last?.totals[1]);
    this.level[i] = input.level;
    this.count += 1;
    this.last = { t: now, totals: [input.totals[0], input.totals[1]] };
  }

  mark(kind: MarkKind, text: string, now = Date.now()): void {
    this.marks.push({ t: now, kind, text: text.length > MAX_MARK_TEXT ? `${text.slice(0, MAX_MARK_TEXT - 1)}…` : text });
    if (this.marks.length > MAX_MARKS) this.marks.shift();
  }

  /** The samples taken after `since` (epoch ms; all kept when 0), and the marks of the last hour. */
  since(since = 0, now = Date.now()): { series: HistorySeries; marks: Mark[] } {
    const t: number[] = [];
    const lags: Array<number | null> = [];
    const rates0: number[] = [];
    const rates1: number[] = [];
    const levels: number[] = [];
    const kept = Math.min(this.count, HISTORY_SECONDS);
    for (let k = this.count - kept; k < this.count; k++) {
      const i = k % HISTORY_SECONDS;
      if (this.t[i]! <= since) continue;
      const lag = this.lag[i]!;
      t.push(this.t[i]!);
      lags.push(Number.isNaN(lag) ? null : Math.round(lag * 10) / 10);
      rates0.push(Math.round(this.rate0[i]! * 10) / 10);
      rates1.push(Math.round(this.rate1[i]! * 10) / 10);
      levels.push(this.level[i]!);
    }
    const { rates, level } = this.plan;
    const series = { [rates[0].key]: rates0, [rates[1].key]: rates1, [level.key]: levels, t, lag: lags } as HistorySeries;
    return { series, marks: this.marks.filter((m) => m.t > now - HISTORY_SECONDS * 1000) };
  }
}
