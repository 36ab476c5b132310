// The relay's Prometheus metrics: RunMetrics' (lag, source connection,
// state, errors, reconnects, the published position, process figures) and
// what the relay has stored in its stream. Its counters are read from the
// relay's running totals when scraped, not fed event by event: the relay's
// hot path knows nothing of prom-client (loaded for --metrics-port only).
import { Counter } from 'prom-client';
import { RunMetrics, type MetricsSources } from './metrics.js';

/** The relay's running totals since it started (RelayStats and its health, as they stand). */
export interface RelayTotals {
  transactions: number;
  events: number;
  bytes: number;
  duplicates: number;
  /** The stream sequence of the last message stored; null before any. */
  seq: number | null;
  /** Messages published and not acknowledged yet. */
  inFlight: number;
}

export class RelayMetrics extends RunMetrics {
  constructor(sources: MetricsSources, totals: () => Readonly<RelayTotals>) {
    super(sources, 'published');
    this.total('binlog_sync_transactions_published_total', 'Source transactions stored in the NATS stream (acknowledged by JetStream)', () => totals().transactions);
    this.total('binlog_sync_events_published_total', 'Binlog events of the transactions stored in the stream (format descriptions left out)', () => totals().events);
    this.total('binlog_sync_bytes_published_total', 'Message payload bytes stored in the stream', () => totals().bytes);
    this.total(
      'binlog_sync_duplicates_dropped_total',
      'Messages JetStream dropped as duplicates of one it holds (published again after a restart: never stored twice)',
      () => totals().duplicates,
    );
    this.gauge('binlog_sync_stream_last_sequence', 'Stream sequence of the last message this relay stored', () => totals().seq);
    this.gauge('binlog_sync_messages_in_flight', 'Messages published to the stream and not acknowledged yet', () => totals().inFlight);
  }

  /** A counter that shows a running total: what it grew by since the last scrape is added. */
  private total(name: string, help: string, read: () => number): void {
    let counted = 0;
    new Counter({
      name,
      help,
      registers: [this.registry],
      collect() {
        const now = read();
        if (now > counted) this.inc(now - counted);
        counted = Math.max(counted, now);
      },
    });
  }
}
