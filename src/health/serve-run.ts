// Everything the metrics port serves for one run (`start --metrics-port`,
// `demo`, `relay --metrics-port`): Prometheus metrics, /healthz, and the
// status page with the history it draws. The history is fed from the run's
// typed events and its once-a-second progress, so nothing in the replicator
// or the relay knows the page exists. servePort is the part every run
// shares; serveRun is `start`'s (serve-relay.ts the relay's).
import { formatPosition } from '../position.js';
import type { ReplicatorStats } from '../replicator/session.js';
import { RunEvents } from '../replicator/run-events.js';
import type { StateStore } from '../state/state-store.js';
import { REPLICA_CHARTS, RunHistory, type ChartPlan, type SampleInput } from './history.js';
import { ReplicationMetrics, serveMetrics, type MetricsSources, type RunMetrics } from './metrics.js';
import { servePage, type RunDescription } from './status-page.js';
import type { LiveHealth, StreamHealth } from './stream-health.js';

/** What servePort gives the run to feed. */
export interface ServedPort<M extends RunMetrics> {
  metrics: M;
  /** To pass to the run: its reconnects and errors become marks on the charts. */
  events: RunEvents;
  /** Called once a second by the run: takes a sample for the charts. */
  sample: (input: SampleInput) => void;
  port: number;
  close: () => Promise<void>;
}

export interface ServePortOptions {
  host: string;
  port: number;
  health: LiveHealth;
  state: StateStore;
  lagThreshold: number;
  run: RunDescription;
}

/** What a run's own part is: its metrics (made from the shared sources), its charts and its facts of the moment. */
export interface RunPage<M extends RunMetrics> {
  metrics: (sources: MetricsSources) => M;
  charts: ChartPlan;
  facts?: () => Record<string, string>;
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

export async function servePort<M extends RunMetrics>(options: ServePortOptions, own: RunPage<M>): Promise<ServedPort<M>> {
  const { health, state, lagThreshold } = options;
  const metricSources: MetricsSources = { health, position: () => state.getPosition(), lagThreshold };
  const metrics = own.metrics(metricSources);
  const history = new RunHistory(own.charts);
  const events = new RunEvents();
  markRunEvents(events, history);
  const page = { health, state, lagThreshold, history, run: options.run, ...(own.facts ? { facts: own.facts } : {}) };
  const server = await serveMetrics(options.host, options.port, metrics, metricSources, (req, res) => servePage(page, req, res));
  return { metrics, events, sample: (input) => history.sample(input), port: server.port, close: server.close };
}

export interface ServedRun {
  metrics: ReplicationMetrics;
  /** To pass to runReplicator: the reconnects and errors become marks on the charts. */
  events: RunEvents;
  /** To pass to runReplicator: called once a second, it takes a sample. */
  onProgress: (stats: Readonly<ReplicatorStats>) => void;
  port: number;
  close: () => Promise<void>;
}

export interface ServeRunOptions extends ServePortOptions {
  health: StreamHealth;
}

/** `start`'s (and `demo`'s): transactions and rows applied, and the events queued for the replica. */
export async function serveRun(options: ServeRunOptions): Promise<ServedRun> {
  const { health } = options;
  const served = await servePort(options, { metrics: (sources) => new ReplicationMetrics(sources), charts: REPLICA_CHARTS });
  return {
    metrics: served.metrics,
    events: served.events,
    onProgress: (stats) => served.sample({ lagSeconds: health.lagSeconds(), totals: [stats.transactions, stats.rows], level: health.queueDepth }),
    port: served.port,
    close: served.close,
  };
}
