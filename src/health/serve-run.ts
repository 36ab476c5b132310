// Everything the metrics port serves for one run (`start --metrics-port`, and
// `demo`): Prometheus metrics, /healthz, and the status page with the history
// it draws. The history is fed from the run's typed events and its once-a-
// second progress, so nothing in the replicator knows the page exists.
import { formatPosition } from '../position.js';
import type { ReplicatorStats } from '../replicator/session.js';
import { RunEvents } from '../replicator/run-events.js';
import type { StateStore } from '../state/state-store.js';
import { RunHistory } from './history.js';
import { ReplicationMetrics, serveMetrics } from './metrics.js';
import { servePage, type RunDescription } from './status-page.js';
import type { StreamHealth } from './stream-health.js';

export interface ServedRun {
  metrics: ReplicationMetrics;
  /** To pass to runReplicator: the reconnects and errors become marks on the charts. */
  events: RunEvents;
  /** To pass to runReplicator: called once a second, it takes a sample. */
  onProgress: (stats: Readonly<ReplicatorStats>) => void;
  port: number;
  close: () => Promise<void>;
}

export interface ServeRunOptions {
  host: string;
  port: number;
  health: StreamHealth;
  state: StateStore;
  lagThreshold: number;
  run: RunDescription;
}

/** Records the run's reconnects and errors as marks on `history`. */
export function markRunEvents(events: RunEvents, history: RunHistory): void {
  let sessions = 0;
  events.on('streaming', ({ position }) => {
    sessions += 1;
    if (sessions > 1) history.mark('reconnect', `streaming again from ${formatPosition(position)}`);
  });
  events.on('reconnect', ({ error, delayMs }) => history.mark('error', `${error} (retried after ${(delayMs / 1000).toFixed(1)} s)`));
  events.on('stopped', ({ error }) => {
    if (error) history.mark('error', `stopped: ${error}`);
  });
}

export async function serveRun(options: ServeRunOptions): Promise<ServedRun> {
  const { health, state, lagThreshold } = options;
  const metricSources = { health, position: () => state.getPosition(), lagThreshold };
  const metrics = new ReplicationMetrics(metricSources);
  const history = new RunHistory();
  const events = new RunEvents();
  markRunEvents(events, history);
  const page = { health, state, lagThreshold, history, run: options.run };
  const server = await serveMetrics(options.host, options.port, metrics, metricSources, (req, res) => servePage(page, req, res));
  return {
    metrics,
    events,
    onProgress: (stats) => history.sample({ lagSeconds: health.lagSeconds(), transactions: stats.transactions, rows: stats.rows, queueDepth: health.queueDepth }),
    port: server.port,
    close: server.close,
  };
}
