// The relay's /metrics and the figures its page lists: counters that show
// the relay's running totals across scrapes, the shared gauges with
// "published" for "applied", and nothing of start's.
import { describe, expect, it } from 'vitest';
import { RelayMetrics, type RelayTotals } from '../../../src/health/relay-metrics.js';
import { relayFacts, relayTotals } from '../../../src/health/serve-relay.js';
import { RelayHealth } from '../../../src/relay/relay-health.js';

const value = (text: string, name: string): number | undefined => {
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
};

describe('RelayMetrics', () => {
  it('shows the running totals as counters, scrape after scrape, and the published position', async () => {
    const totals: RelayTotals = { transactions: 0, events: 0, bytes: 0, duplicates: 0, seq: null, inFlight: 0 };
    const health = new RelayHealth();
    const metrics = new RelayMetrics({ health, position: () => ({ file: 'mysql-bin.000012', position: 4567, gtid: null }), lagThreshold: 5 }, () => totals);
    let text = await metrics.registry.metrics();
    expect(value(text, 'binlog_sync_transactions_published_total')).toBe(0);
    Object.assign(totals, { transactions: 10, events: 52, bytes: 4096, duplicates: 1, seq: 11, inFlight: 3 });
    text = await metrics.registry.metrics();
    expect(value(text, 'binlog_sync_transactions_published_total')).toBe(10);
    expect(value(text, 'binlog_sync_events_published_total')).toBe(52);
    expect(value(text, 'binlog_sync_bytes_published_total')).toBe(4096);
    expect(value(text, 'binlog_sync_duplicates_dropped_total')).toBe(1);
    expect(value(text, 'binlog_sync_stream_last_sequence')).toBe(11);
    expect(value(text, 'binlog_sync_messages_in_flight')).toBe(3);
    Object.assign(totals, { transactions: 25 });
    text = await metrics.registry.metrics();
    expect(value(text, 'binlog_sync_transactions_published_total')).toBe(25);
    expect(value(text, 'binlog_sync_published_binlog_file_number')).toBe(12);
    expect(value(text, 'binlog_sync_published_binlog_position')).toBe(4567);
    // Not streaming: not up.
    expect(value(text, 'binlog_sync_up')).toBe(0);
    expect(text).toMatch(/^# HELP binlog_sync_lag_seconds Age of the oldest source change not yet published/m);
    expect(text).not.toMatch(/_applied_/);
    expect(text).toMatch(/^# TYPE binlog_sync_process_process_resident_memory_bytes gauge$/m);
  });
});

describe('the relay page facts', () => {
  it('reads zero totals before the relay reports, and says what was published', () => {
    const health = new RelayHealth();
    health.watchPublisher({ inFlight: 2 });
    expect(relayTotals(null, health)).toEqual({ transactions: 0, events: 0, bytes: 0, duplicates: 0, seq: null, inFlight: 2 });
    expect(relayFacts(relayTotals(null, health), null)).toEqual({
      'Last commit': 'none published by this relay yet',
      'Stream sequence': 'nothing published by this relay yet',
      Published: '0 transactions, 0 events, 0.00 MiB since the relay started',
    });
    const stats = { transactions: 120, events: 600, bytes: 30 * 1024 * 1024, duplicates: 2, position: null, seq: 4321 };
    expect(relayFacts(relayTotals(stats, health), Date.UTC(2026, 11, 7, 12, 30, 5))).toEqual({
      'Last commit': '2026-12-07 12:30:05 UTC (on the source)',
      'Stream sequence': '4321 (the last message this relay stored)',
      Published: '120 transactions, 600 events, 30 MiB since the relay started; 2 duplicates dropped by the stream',
    });
  });
});
