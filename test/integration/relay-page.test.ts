/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// The live status page of `relay --metrics-port`, as a person opens it: in
// headless Chromium, under a write load, with a real source and a NATS
// server of the test's own (test/support/nats.ts). It must show the state in
// words, a lag value, charts of what is published that draw, the stream it
// keeps, and no password; /metrics must name the relay's figures; the relay
// held up (its NATS connection silently cut by a proxy) must leave HEALTHY
// for LAGGING and come back, the retry marked; it must say STOPPED when the
// relay stops; and the page must fetch nothing from anywhere but the
// metrics port. Beside it, the relay's Grafana dashboard in docs/ may only
// query metrics that its /metrics exports.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mysql, { type Connection } from 'mysql2/promise';
import type { Browser, Page } from 'puppeteer-core';
import { chartLine, findChromium, NO_CHROMIUM, openWatchedPage } from '../support/browser.js';
import { backgroundLoad, eventually, EXACT_VALUES, REPO_ROOT, runCli, spawnCli, tempDir, testServers, uniqueName } from '../support/context.js';
import { isStreaming } from '../support/replication.js';
import { REPL_PASSWORD } from '../support/servers.js';
import { startNats, type TestNats } from '../support/nats.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { expectDashboardOf } from '../support/grafana.js';
import { freePort } from '../../src/servers/local-server.js';

const chromium = findChromium();
if (!chromium) console.warn(`relay-page.test.ts: skipping the browser tests: ${NO_CHROMIUM}`);

/** The screenshot docs/relay.md shows: written with BINLOG_SYNC_UPDATE_SCREENSHOT=1. */
const SCREENSHOT_DOC = join(REPO_ROOT, 'docs', 'images', 'relay-status-page.png');

/** The figures a relay's /metrics names, each charted by its Grafana dashboard too. */
const RELAY_METRICS = [
  'binlog_sync_lag_seconds',
  'binlog_sync_source_connected',
  'binlog_sync_up',
  'binlog_sync_reconnects_total',
  'binlog_sync_errors_total',
  'binlog_sync_transactions_published_total',
  'binlog_sync_events_published_total',
  'binlog_sync_bytes_published_total',
  'binlog_sync_duplicates_dropped_total',
  'binlog_sync_stream_last_sequence',
  'binlog_sync_messages_in_flight',
  'binlog_sync_published_binlog_file_number',
  'binlog_sync_published_binlog_position',
  'binlog_sync_process_process_resident_memory_bytes',
];

const db = uniqueName('relay_page');
const STREAM = `PAGE_${db.replace(/\W/g, '_')}`;
const scratch = tempDir('binlog-sync-relay-page-');
const statePath = join(scratch.path, 'relay.sqlite');
let nats: TestNats;
/** Between the relay and NATS, to hold the relay up: acknowledgements stop coming. */
let natsProxy: TcpProxy;
let port: number;
let origin: string;
let relay: ReturnType<typeof spawnCli>;
let source: Connection;
let load: { stop: () => Promise<number> } | undefined;

const get = async (path: string): Promise<Response> => fetch(`${origin}${path}`);

beforeAll(async () => {
  const { source: sourceServer } = testServers();
  nats = await startNats();
  const natsUrl = new URL(nats.url);
  natsProxy = await TcpProxy.start(natsUrl.hostname, Number(natsUrl.port));
  port = await freePort();
  origin = `http://127.0.0.1:${port}`;
  const set = await runCli(['position', 'set', '--current', '--source', sourceServer.userUrl, '--state', statePath]);
  expect(set.code, set.stderr).toBe(0);
  relay = spawnCli([
    'relay',
    '--source',
    sourceServer.userUrl,
    '--databases',
    db,
    '--to',
    `nats://127.0.0.1:${natsProxy.port}/${STREAM}`,
    '--state',
    statePath,
    '--metrics-port',
    String(port),
    '--log-level',
    'info',
  ]);
  await eventually(
    async () => {
      if (relay.exitCode !== null) throw new Error(`the relay exited (${relay.exitCode}):\n${relay.output().stderr.slice(-3000)}`);
      return isStreaming(statePath, relay.pid);
    },
    (streaming) => streaming,
    { timeoutMs: 30_000, intervalMs: 100 },
  );
  // Created once the relay streams: its DDL goes through the stream too.
  source = await mysql.createConnection({ uri: sourceServer.adminUrl, ...EXACT_VALUES });
  await source.query(`CREATE DATABASE \`${db}\``);
  await source.query(`CREATE TABLE \`${db}\`.wait_times (id INT AUTO_INCREMENT PRIMARY KEY, ride INT NOT NULL, minutes INT NOT NULL)`);
  // A steady write load of small transactions, as a person watching the page would have.
  load = backgroundLoad(
    () => mysql.createConnection({ uri: sourceServer.adminUrl }),
    async (conn, i) => {
      await conn.query(`INSERT INTO \`${db}\`.wait_times (ride, minutes) VALUES (?, ?), (?, ?)`, [i % 50, i % 90, (i + 7) % 50, (i * 3) % 90]);
      await new Promise((r) => setTimeout(r, 20));
    },
  );
});

afterAll(async () => {
  await load?.stop();
  if (relay && relay.exitCode === null && relay.signalCode === null) relay.kill('SIGKILL');
  await source?.query(`DROP DATABASE IF EXISTS \`${db}\``);
  await source?.end();
  await natsProxy?.close();
  await nats?.stop();
  scratch.cleanup();
});

describe('what the relay serves', () => {
  it('/status.json has the shape of `status --json --state` on its state file, and nothing serves a password', async () => {
    const live = (await (await get('/status.json')).json()) as Record<string, unknown>;
    const cli = JSON.parse((await runCli(['status', '--json', '--state', statePath])).stdout) as Record<string, unknown>;
    const shape = (value: unknown): unknown =>
      value !== null && typeof value === 'object' && !Array.isArray(value)
        ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, k === 'retention' || k === 'source' || k === 'applied' ? typeof v : shape(v)]).sort())
        : typeof value;
    // (`applied` is null until the relay has stored something; `source` and `retention` are asked of the source by `status --source` only.)
    expect(shape(live)).toEqual(shape(cli));
    expect(live).toMatchObject({ running: true, lagThresholdSeconds: 5, lastError: null });
    for (const path of ['/status.json', '/history.json', '/', '/metrics', '/healthz']) {
      expect(await (await get(path)).text(), path).not.toContain(REPL_PASSWORD);
    }
  });

  it('/metrics names what the relay published, and /healthz says HEALTHY', async () => {
    const value = (text: string, name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
    const metrics = await eventually(
      async () => (await get('/metrics')).text(),
      (text) => value(text, 'binlog_sync_transactions_published_total') > 10,
      { timeoutMs: 20_000, intervalMs: 500 },
    );
    for (const name of RELAY_METRICS) {
      expect(metrics, name).toMatch(new RegExp(`^# TYPE ${name} `, 'm'));
    }
    // Nothing is applied by a relay: start's figures are not there.
    expect(metrics).not.toMatch(/binlog_sync_(rows|transactions)_applied_total/);
    expect(value(metrics, 'binlog_sync_events_published_total')).toBeGreaterThan(value(metrics, 'binlog_sync_transactions_published_total'));
    expect(value(metrics, 'binlog_sync_bytes_published_total')).toBeGreaterThan(1000);
    expect(value(metrics, 'binlog_sync_stream_last_sequence')).toBeGreaterThan(10);
    expect(value(metrics, 'binlog_sync_source_connected')).toBe(1);

    const health = await eventually(
      async () => {
        const res = await get('/healthz');
        return { code: res.status, body: (await res.json()) as { state: string } };
      },
      (h) => h.code === 200,
      { timeoutMs: 20_000, intervalMs: 500 },
    );
    expect(health.body.state).toBe('HEALTHY');
  });

  it('/history.json lists the relay charts, which say "published", with one sample a second', async () => {
    type History = { run: { kind: string; stream: string }; charts: Array<{ key: string; title: string }>; series: Record<string, number[]> };
    const history = await eventually(
      async () => (await (await get('/history.json')).json()) as History,
      (h) => h.series.t!.length >= 3 && Math.max(...h.series.transactionsPerSecond!) > 0,
      { timeoutMs: 20_000, intervalMs: 500 },
    );
    expect(history.run).toMatchObject({ kind: 'relay', stream: expect.stringContaining(STREAM) });
    expect(history.charts.map((c) => c.key)).toEqual(['lag', 'transactionsPerSecond', 'eventsPerSecond', 'messagesInFlight']);
    for (const chart of history.charts) expect(chart.title).not.toMatch(/applied/i);
    expect(history.charts[1]!.title).toMatch(/published/);
    expect(Math.max(...history.series.eventsPerSecond!)).toBeGreaterThan(0);
  });
});

describe('the Grafana dashboard (docs/grafana/binlog-sync-relay.json)', () => {
  it("queries only metrics that a live relay's /metrics exports, and charts each of the relay's figures", async () => {
    const exposition = await (await fetch(`${origin}/metrics`)).text();
    expect(exposition).toMatch(/^# TYPE binlog_sync_transactions_published_total /m);
    expectDashboardOf('binlog-sync-relay.json', exposition, RELAY_METRICS);
  });
});

// Last: its final tests stop the relay.
describe.skipIf(!chromium)(chromium ? 'the relay status page in headless Chromium' : `the relay status page in headless Chromium: skipped, ${NO_CHROMIUM}`, () => {
  let browser: Browser;
  let page: Page;
  let requested: string[] = [];
  let complaints: string[] = [];

  beforeAll(async () => {
    ({ browser, page, requested, complaints } = await openWatchedPage(chromium!));
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('shows HEALTHY in words, a lag value, the stream and charts of what is published that draw', async () => {
    await page.goto(`${origin}/`, { waitUntil: 'load' });
    await page.waitForFunction(
      () => {
        const charts = [...document.querySelectorAll<HTMLElement>('.chart')];
        return charts.length === 4 && charts.every((c) => Number(c.dataset.points ?? 0) >= 5);
      },
      { timeout: 30_000 },
    );
    await page.waitForFunction(() => document.getElementById('state')!.textContent === 'HEALTHY', { timeout: 30_000 });
    const seen = await page.evaluate(() => ({
      title: document.getElementById('title')!.textContent,
      state: document.getElementById('state')!.textContent,
      colour: getComputedStyle(document.getElementById('state')!).backgroundColor,
      lag: document.getElementById('lag')!.textContent,
      facts: Object.fromEntries([...document.querySelectorAll<HTMLElement>('dd[data-fact]')].map((dd) => [dd.dataset.fact, dd.textContent])),
      captions: [...document.querySelectorAll('figcaption')].map((c) => c.textContent ?? ''),
      text: document.body.innerText,
    }));
    expect(seen.title).toBe('binlog-sync relay');
    expect(seen.state).toBe('HEALTHY');
    expect(seen.colour).toBe('rgb(26, 127, 55)'); // green
    expect(seen.lag).toMatch(/^lag \d+\.\d s$/);
    expect(seen.facts.Source).toMatch(/^repl_user@127\.0\.0\.1:\d+$/);
    expect(seen.facts.Stream).toContain(`127.0.0.1:${natsProxy.port}`);
    expect(seen.facts.Stream).toContain(STREAM);
    expect(seen.facts.Databases).toBe(db);
    expect(seen.facts['Published position']).toMatch(/^\S+\.\d{6}:\d+( \(GTID \d+-\d+-\d+\))?$/);
    // File, offset and the GTID of the last transaction stored or passed over (another database's: it has its GTID too).
    await page.waitForFunction(() => /^\S+\.\d{6}:\d+ \(GTID \d+-\d+-\d+\)$/.test(document.querySelector('dd[data-fact="Published position"]')?.textContent ?? ''), { timeout: 10_000 });
    expect(seen.facts['Last published']).toMatch(/\d+ s ago\)$/);
    expect(seen.facts['Last commit']).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(on the source\)$/);
    expect(seen.facts['Stream sequence']).toMatch(/^\d+ /);
    expect(seen.facts.Published).toMatch(/^\d+ transactions, \d+ events, /);
    expect(seen.facts).not.toHaveProperty('Replica');
    expect(seen.captions.join(' | ')).toMatch(/Transactions published per second/);
    expect(seen.captions.join(' | ')).not.toMatch(/applied/i);
    expect(seen.text).not.toContain(REPL_PASSWORD);

    // What a person sees in the transactions chart: the series' green line, drawn above zero.
    const chart = await chartLine(page, '#chart-tps canvas');
    expect(chart.line).toBeGreaterThan(100);
    expect(chart.highest).toBeLessThan(chart.height * 0.75);
  });

  it('leaves HEALTHY for LAGGING within 15 s while NATS does not acknowledge, and comes back after the retry', async () => {
    // The connection stays open and nothing comes back: what the relay published waits for its acknowledgement.
    natsProxy.blackhole();
    const held = Date.now();
    try {
      await page.waitForFunction(() => document.getElementById('state')!.dataset.state === 'LAGGING', { timeout: 15_000 });
      expect(Date.now() - held).toBeLessThan(15_000);
      const seen = await page.evaluate(() => ({
        lag: document.getElementById('lag')!.textContent,
        colour: getComputedStyle(document.getElementById('state')!).backgroundColor,
      }));
      expect(Number(/^lag (\d+\.\d) s$/.exec(seen.lag ?? '')?.[1])).toBeGreaterThanOrEqual(5);
      expect(seen.colour).toBe('rgb(188, 76, 0)'); // orange
      const health = await get('/healthz');
      expect(health.status).toBe(503);
      expect(((await health.json()) as { state: string }).state).not.toBe('HEALTHY');
    } finally {
      // NATS is back: the connection is made again; what was never acknowledged is published again by the next session.
      natsProxy.reset();
      natsProxy.restore();
    }
    await page.waitForFunction(() => document.getElementById('state')!.dataset.state === 'HEALTHY', { timeout: 60_000 }).catch((error: Error) => {
      throw new Error(`${error.message}; the relay ${relay.exitCode === null ? 'runs' : `exited (${relay.exitCode})`}:\n${relay.output().stderr.slice(-4000)}`);
    });
    await page.waitForFunction(() => [...document.querySelectorAll('#marks .key')].some((k) => k.textContent === 'error'), { timeout: 10_000 });
    const reconnects = await page.evaluate(() => document.querySelector<HTMLElement>('dd[data-fact="Reconnects"]')!.textContent);
    expect(Number(reconnects)).toBeGreaterThanOrEqual(1);
    expect(relay.output().stderr).toMatch(/retrying in/);
    // docs/relay.md's picture: the lag's rise and fall while NATS was cut off, the messages in flight, the retry marked.
    if (process.env.BINLOG_SYNC_UPDATE_SCREENSHOT === '1') {
      await new Promise((r) => setTimeout(r, 4000));
      await page.screenshot({ path: SCREENSHOT_DOC as `${string}.png`, fullPage: true });
    }
  });

  it('says STOPPED in red when the relay stops, which it does cleanly', async () => {
    await load?.stop();
    load = undefined;
    expect(relay.exitCode, relay.output().stderr.slice(-2000)).toBeNull();
    const closed = new Promise<number | null>((resolve) => relay.once('close', (code) => resolve(code)));
    relay.kill('SIGTERM');
    expect(await closed, relay.output().stderr.slice(-2000)).toBe(0);
    await page.waitForFunction(() => document.getElementById('state')!.dataset.state === 'STOPPED', { timeout: 15_000 });
    const seen = await page.evaluate(() => ({
      colour: getComputedStyle(document.getElementById('state')!).backgroundColor,
      points: Number(document.querySelector<HTMLElement>('#chart-lag')!.dataset.points),
    }));
    expect(seen.colour).toBe('rgb(207, 34, 46)'); // red
    expect(seen.points).toBeGreaterThan(10);
  });

  it('makes no request outside the metrics port, and none is refused', () => {
    expect(requested.length).toBeGreaterThan(5);
    const elsewhere = requested.filter((url) => new URL(url).origin !== origin);
    expect(elsewhere).toEqual([]);
    expect(requested).toContain(`${origin}/history.json?since=0`);
    expect(complaints.filter((c) => !/Failed to load resource: net::ERR_CONNECTION_REFUSED/.test(c))).toEqual([]);
  });
});
