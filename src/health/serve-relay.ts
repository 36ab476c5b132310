// The metrics port of `relay --metrics-port`: servePort (serve-run.ts) with
// the relay's metrics (relay-metrics.ts), its charts (transactions and
// events published, messages in flight) and the stream's figures listed on
// the page. Loaded by the relay's action for --metrics-port only.
import type { RelayHealth } from '../relay/relay-health.js';
import type { RelayStats } from '../relay/relay.js';
import { RELAY_CHARTS } from './history.js';
import { RelayMetrics, type RelayTotals } from './relay-metrics.js';
import { servePort, type ServePortOptions } from './serve-run.js';
import type { RunEvents } from '../replicator/run-events.js';

export interface ServedRelay {
  metrics: RelayMetrics;
  /** To pass to runRelay: its retries and stop become marks on the charts. */
  events: RunEvents;
  /** To pass to runRelay: called once a second, it takes a sample. */
  onProgress: (stats: Readonly<RelayStats>) => void;
  port: number;
  close: () => Promise<void>;
}

export interface ServeRelayOptions extends ServePortOptions {
  health: RelayHealth;
  run: ServePortOptions['run'] & { kind: 'relay' };
}

/** The totals /metrics and the page read: the last stats the relay reported (it reports every second, and at the first scrape none yet). */
export function relayTotals(stats: Readonly<RelayStats> | null, health: RelayHealth): RelayTotals {
  return {
    transactions: stats?.transactions ?? 0,
    events: stats?.events ?? 0,
    bytes: stats?.bytes ?? 0,
    duplicates: stats?.duplicates ?? 0,
    seq: stats?.seq ?? null,
    inFlight: health.inFlight,
  };
}

/** What the page lists of the stream beside the run's description (`lastCommit`: source ms of the last transaction stored). */
export function relayFacts(totals: RelayTotals, lastCommit: number | null): Record<string, string> {
  const mib = totals.bytes / (1024 * 1024);
  return {
    // On the source's clock, in UTC: the page does not know the source's zone.
    'Last commit': lastCommit === null ? 'none published by this relay yet' : `${new Date(lastCommit).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC')} (on the source)`,
    'Stream sequence': totals.seq === null ? 'nothing published by this relay yet' : `${totals.seq} (the last message this relay stored)`,
    Published: `${totals.transactions} transactions, ${totals.events} events, ${mib < 10 ? mib.toFixed(2) : mib.toFixed(0)} MiB since the relay started${
      totals.duplicates > 0 ? `; ${totals.duplicates} duplicates dropped by the stream` : ''
    }`,
  };
}

export async function serveRelay(options: ServeRelayOptions): Promise<ServedRelay> {
  const { health } = options;
  // The relay's stats object is the one it keeps for the whole run: holding it is reading its totals live.
  let stats: Readonly<RelayStats> | null = null;
  const totals = (): RelayTotals => relayTotals(stats, health);
  const served = await servePort(options, {
    metrics: (sources) => new RelayMetrics(sources, totals),
    charts: RELAY_CHARTS,
    facts: () => relayFacts(totals(), health.lastCommitTime),
  });
  return {
    metrics: served.metrics,
    events: served.events,
    onProgress: (s) => {
      stats = s;
      served.sample({ lagSeconds: health.lagSeconds(), totals: [s.transactions, s.events], level: health.inFlight });
    },
    port: served.port,
    close: served.close,
  };
}
