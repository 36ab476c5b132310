// Prometheus metrics and /healthz for a run served on --metrics-port.
// RunMetrics is what every run has (process figures, lag, the source
// connection, the state, errors, reconnects, how far it has got);
// ReplicationMetrics adds `start`'s rows and transactions applied (fed by
// the session as it applies), and relay-metrics.ts the relay's figures.
// Only these modules import prom-client, and they are loaded for
// --metrics-port only.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { binlogFileNumber, type BinlogPosition } from '../position.js';
import { decideState, type HealthState } from './status.js';
import type { LiveHealth } from './stream-health.js';
import type { RowsKind, TableDef } from '../source/events.js';

export interface MetricsSources {
  health: LiveHealth;
  position: () => BinlogPosition | null;
  lagThreshold: number;
}

/** What a run does with a source change: a replica applies it, a relay publishes it (the word in names and help). */
export type RunVerb = 'applied' | 'published';

export class RunMetrics {
  readonly registry = new Registry();
  private readonly errors = new Counter({
    name: 'binlog_sync_errors_total',
    help: 'Errors, by code (retried or not)',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });
  private readonly reconnects = new Counter({
    name: 'binlog_sync_reconnects_total',
    help: 'Sessions started again after a fault',
    registers: [this.registry],
  });

  constructor(sources: MetricsSources, verb: RunVerb) {
    collectDefaultMetrics({ register: this.registry, prefix: 'binlog_sync_process_' });
    this.gauge('binlog_sync_lag_seconds', `Age of the oldest source change not yet ${verb} (0 when caught up)`, () => sources.health.lagSeconds());
    this.gauge('binlog_sync_source_connected', '1 while the binlog stream from the source is alive', () => (sources.health.connected ? 1 : 0));
    this.gauge(`binlog_sync_${verb}_binlog_file_number`, `Sequence number of the binlog file of the last ${verb} position`, () => {
      const file = sources.position()?.file;
      return file ? binlogFileNumber(file) : null;
    });
    this.gauge(`binlog_sync_${verb}_binlog_position`, `Offset of the last ${verb} position in its binlog file`, () => sources.position()?.position ?? null);
    this.gauge('binlog_sync_up', '1 when HEALTHY, 0 otherwise', () => (healthState(sources) === 'HEALTHY' ? 1 : 0));
  }

  /** A gauge read when scraped; absent while `read` has no value. */
  protected gauge(name: string, help: string, read: () => number | null): void {
    new Gauge({
      name,
      help,
      registers: [this.registry],
      collect() {
        const value = read();
        if (value !== null && Number.isFinite(value)) this.set(value);
        else this.reset();
      },
    });
  }

  error(code: string): void {
    this.errors.inc({ code });
  }

  reconnected(): void {
    this.reconnects.inc();
  }
}

export class ReplicationMetrics extends RunMetrics {

  /**
   * Rows counted since the last scrape, by table (its definition object,
   * shared by its events) and kind: added to the counter when it is read.
   * (prom-client hashes its labels on every inc, once per rows event: a
   * tenth of the main thread's work on small transactions.)
   */
  private readonly pendingRows = new Map<TableDef, { name: string; insert: number; update: number; delete: number }>();
  private readonly rows = new Counter({
    name: 'binlog_sync_rows_applied_total',
    help: 'Rows applied to the replica, by table and kind of change',
    labelNames: ['table', 'kind'] as const,
    registers: [this.registry],
    collect: () => this.flushRows(),
  });
  private readonly transactions = new Counter({
    name: 'binlog_sync_transactions_applied_total',
    help: 'Source transactions applied to the replica',
    registers: [this.registry],
  });
  private readonly applySeconds = new Histogram({
    name: 'binlog_sync_transaction_apply_seconds',
    help: 'Time to apply one source transaction on the replica, from its first change to its commit',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  constructor(sources: MetricsSources) {
    super(sources, 'applied');
  }

  rowsApplied(table: TableDef, kind: RowsKind, count: number): void {
    let counts = this.pendingRows.get(table);
    if (!counts) {
      counts = { name: `${table.database}.${table.table}`, insert: 0, update: 0, delete: 0 };
      this.pendingRows.set(table, counts);
    }
    counts[kind] += count;
  }

  private flushRows(): void {
    for (const counts of this.pendingRows.values()) {
      for (const kind of ['insert', 'update', 'delete'] as const) if (counts[kind] > 0) this.rows.inc({ table: counts.name, kind }, counts[kind]);
    }
    // (Table definitions come anew after a DDL: the old ones are let go of.)
    this.pendingRows.clear();
  }

  transactionApplied(seconds: number): void {
    this.transactions.inc();
    this.applySeconds.observe(seconds);
  }
}

export function healthState(sources: MetricsSources): HealthState {
  return decideState(true, sources.health.lagSeconds(), sources.lagThreshold);
}

/** Serves /metrics and /healthz until closed, and whatever `more` answers (the status page: true when it did). */
export async function serveMetrics(
  host: string,
  port: number,
  metrics: RunMetrics,
  sources: MetricsSources,
  more: (req: IncomingMessage, res: ServerResponse) => boolean = () => false,
): Promise<{ close: () => Promise<void>; port: number }> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics') {
      metrics.registry
        .metrics()
        .then((body) => {
          res.writeHead(200, { 'Content-Type': metrics.registry.contentType });
          res.end(body);
        })
        .catch((error: unknown) => {
          res.writeHead(500).end(String(error));
        });
      return;
    }
    if (path === '/healthz') {
      const state = healthState(sources);
      res.writeHead(state === 'HEALTHY' ? 200 : 503, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ state, lagSeconds: sources.health.lagSeconds(), sourceConnected: sources.health.connected }));
      return;
    }
    try {
      if (more(req, res)) return;
    } catch (error) {
      // A page that cannot be served must never take the replicator down with it.
      res.writeHead(500).end(`${String(error)}\n`);
      return;
    }
    res.writeHead(404).end('not found: try / (the status page), /status.json, /metrics or /healthz\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : port,
    // Scrapers keep connections alive; they must not hold up a stop.
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
