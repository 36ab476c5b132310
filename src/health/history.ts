// The last hour of a run, kept in memory for the status page's charts: one
// sample a second (lag, transactions and rows applied per second, queue
// depth) in fixed typed arrays, and the reconnects and errors as marks. It
// is bounded by construction: 3,600 samples of five numbers (about 140 KiB)
// and at most 200 marks of at most 300 characters each (about 130 KiB), so a
// replica left running for months holds no more than one left for an hour.

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

/** The totals one sample is taken from (ReplicatorStats' counters). */
export interface SampleInput {
  lagSeconds: number | null;
  transactions: number;
  rows: number;
  queueDepth: number;
}

/** Samples as columns (what uPlot draws), oldest first; null where unknown. */
export interface HistorySeries {
  t: number[];
  lag: Array<number | null>;
  transactionsPerSecond: number[];
  rowsPerSecond: number[];
  queueDepth: number[];
}

export class RunHistory {
  private readonly t = new Float64Array(HISTORY_SECONDS);
  // NaN stands for an unknown lag (not streaming): a gap in the chart.
  private readonly lag = new Float64Array(HISTORY_SECONDS);
  private readonly tps = new Float64Array(HISTORY_SECONDS);
  private readonly rps = new Float64Array(HISTORY_SECONDS);
  private readonly queue = new Float64Array(HISTORY_SECONDS);
  /** Samples taken so far (the ring holds the last HISTORY_SECONDS of them). */
  private count = 0;
  private last: { t: number; transactions: number; rows: number } | null = null;
  private readonly marks: Mark[] = [];

  sample(input: SampleInput, now = Date.now()): void {
    // Per second over the time since the last sample (the timer may fire late).
    const seconds = this.last ? Math.max((now - this.last.t) / 1000, 0.001) : 1;
    // Totals start again at 0 for a new run of the replicator: no negative rate.
    const rate = (total: number, before: number | undefined): number => Math.max(0, total - (before ?? total)) / seconds;
    const i = this.count % HISTORY_SECONDS;
    this.t[i] = now;
    this.lag[i] = input.lagSeconds ?? Number.NaN;
    this.tps[i] = rate(input.transactions, this.last?.transactions);
    this.rps[i] = rate(input.rows, this.last?.rows);
    this.queue[i] = input.queueDepth;
    this.count += 1;
    this.last = { t: now, transactions: input.transactions, rows: input.rows };
  }

  mark(kind: MarkKind, text: string, now = Date.now()): void {
    this.marks.push({ t: now, kind, text: text.length > MAX_MARK_TEXT ? `${text.slice(0, MAX_MARK_TEXT - 1)}…` : text });
    if (this.marks.length > MAX_MARKS) this.marks.shift();
  }

  /** The samples taken after `since` (epoch ms; all kept when 0), and the marks of the last hour. */
  since(since = 0, now = Date.now()): { series: HistorySeries; marks: Mark[] } {
    const series: HistorySeries = { t: [], lag: [], transactionsPerSecond: [], rowsPerSecond: [], queueDepth: [] };
    const kept = Math.min(this.count, HISTORY_SECONDS);
    for (let k = this.count - kept; k < this.count; k++) {
      const i = k % HISTORY_SECONDS;
      if (this.t[i]! <= since) continue;
      const lag = this.lag[i]!;
      series.t.push(this.t[i]!);
      series.lag.push(Number.isNaN(lag) ? null : Math.round(lag * 10) / 10);
      series.transactionsPerSecond.push(Math.round(this.tps[i]! * 10) / 10);
      series.rowsPerSecond.push(Math.round(this.rps[i]! * 10) / 10);
      series.queueDepth.push(this.queue[i]!);
    }
    return { series, marks: this.marks.filter((m) => m.t > now - HISTORY_SECONDS * 1000) };
  }
}
