// The live status page at `/` on the metrics port, and the JSON it reads:
// /status.json (the shape of `status --json`, from the running process
// itself) and /history.json (the last hour's samples and marks, what this
// run replicates or relays, and what its charts are). One page for `start`
// and `relay`: it labels what it shows from the run's description. The
// page (web/) and uPlot are files of the package, served from here: nothing
// is fetched from anywhere but this port, so it works offline, and its
// Content-Security-Policy says so to the browser as well.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { StateStore } from '../state/state-store.js';
import type { ChartSpec, RunHistory } from './history.js';
import { buildStatus, type StatusReport } from './status.js';
import type { LiveHealth } from './stream-health.js';

/** What the page says a run does: endpoints as user@host:port or a stream's address, never a password or token. */
export type RunDescription = ReplicaRun | RelayRun;

/** `start` (and `demo`): a source (or a relay's stream) applied to a replica. */
export interface ReplicaRun {
  kind: 'replica';
  source: string;
  replica: string;
  databases: readonly string[];
  includeTables: readonly string[];
  excludeTables: readonly string[];
  rewriteDb: Readonly<Record<string, string>>;
  /** --mask rules as written (a rule holds a method, never the key). */
  mask: readonly string[];
}

/** `relay`: a source's selected databases published to a NATS stream. */
export interface RelayRun {
  kind: 'relay';
  source: string;
  /** The stream's address as describeRelay gives it (servers and stream, no credentials). */
  stream: string;
  databases: readonly string[];
}

export interface PageSources {
  health: LiveHealth;
  state: StateStore;
  lagThreshold: number;
  history: RunHistory;
  run: RunDescription;
  /** Figures of the moment the page lists beside the run's description (e.g. the relay's stream sequence), as label → text. */
  facts?: () => Record<string, string>;
}

/** The status as `status --json` reports it, read from this process's own health (not the second-old copy in the state file). */
export function liveStatus(sources: PageSources): StatusReport {
  const { state } = sources;
  const runner = state.activeRunner();
  const health = sources.health.snapshot();
  return buildStatus({
    runner: runner ? { ...runner, health } : null,
    applied: state.getPosition(),
    // As far as the stream has seen (heartbeats included): the source is not asked again here.
    source: health.sourceFile && health.sourcePosition !== null ? { file: health.sourceFile, position: health.sourcePosition, gtid: null } : null,
    lastError: state.getLastError(),
    lagThreshold: sources.lagThreshold,
    retention: null,
  });
}

const WEB = new URL('../../web/', import.meta.url);
const UPLOT = createRequire(import.meta.url).resolve('uplot/dist/uPlot.iife.min.js');

const STATIC: Record<string, { file: () => URL | string; type: string }> = {
  '/': { file: () => new URL('status.html', WEB), type: 'text/html; charset=utf-8' },
  '/status.js': { file: () => new URL('status.js', WEB), type: 'text/javascript; charset=utf-8' },
  '/status.css': { file: () => new URL('status.css', WEB), type: 'text/css; charset=utf-8' },
  '/uplot.js': { file: () => UPLOT, type: 'text/javascript; charset=utf-8' },
  '/uplot.css': { file: () => UPLOT.replace(/uPlot\.iife\.min\.js$/, 'uPlot.min.css'), type: 'text/css; charset=utf-8' },
};

// Only this origin: a page edited to load anything from elsewhere is refused by the browser too.
const CSP = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const cache = new Map<string, Buffer>();

function sendJson(res: ServerResponse, body: unknown): void {
  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
  res.end(JSON.stringify(body));
}

/** The page's charts in order: the lag, then the run's plan (see history.ts). */
function charts(history: RunHistory): ChartSpec[] {
  const { rates, level } = history.plan;
  return [{ key: 'lag', id: 'lag', title: 'Lag (s)', label: 'lag (s)' }, ...rates, level];
}

/** Answers the page's paths; false for any other (left to the metrics server). */
export function servePage(sources: PageSources, req: IncomingMessage, res: ServerResponse): boolean {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (url.pathname === '/status.json') {
    sendJson(res, liveStatus(sources));
    return true;
  }
  if (url.pathname === '/history.json') {
    const since = Number(url.searchParams.get('since') ?? 0);
    sendJson(res, {
      now: Date.now(),
      lagThresholdSeconds: sources.lagThreshold,
      run: sources.run,
      charts: charts(sources.history),
      facts: sources.facts?.() ?? {},
      ...sources.history.since(Number.isFinite(since) ? since : 0),
    });
    return true;
  }
  const asset = STATIC[url.pathname];
  if (!asset) return false;
  let body = cache.get(url.pathname);
  if (!body) {
    body = readFileSync(asset.file());
    cache.set(url.pathname, body);
  }
  res.writeHead(200, { 'Content-Type': asset.type, 'Content-Security-Policy': CSP, 'X-Content-Type-Options': 'nosniff' });
  res.end(body);
  return true;
}
