/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// The live status page of `start --metrics-port`, as a person opens it: in
// headless Chromium, under a write load, against real servers. It must show
// the state in words, a lag value and charts that draw; leave HEALTHY for
// LAGGING while the replica is held up by a table lock; fetch nothing from
// anywhere but the metrics port; and show no password. Beside it, the
// Grafana dashboard in docs/ may only query metrics that /metrics exports.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mysql, { type Connection } from 'mysql2/promise';
import type { Browser, Page } from 'puppeteer-core';
import { chartLine, findChromium, NO_CHROMIUM, openWatchedPage } from '../support/browser.js';
import { backgroundLoad, eventually, EXACT_VALUES, REPO_ROOT, tempDir, testServers, uniqueName } from '../support/context.js';
import { Replication } from '../support/replication.js';
import { APPLIER_PASSWORD, REPL_PASSWORD } from '../support/servers.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { expectDashboardOf } from '../support/grafana.js';
import { freePort } from '../../src/servers/local-server.js';

const chromium = findChromium();
if (!chromium) console.warn(`status-page.test.ts: skipping the browser tests: ${NO_CHROMIUM}`);

/** The screenshot docs/operations.md shows: rewritten with BINLOG_SYNC_UPDATE_SCREENSHOT=1 (the test's own goes to a temporary folder). */
const SCREENSHOT_DOC = join(REPO_ROOT, 'docs', 'images', 'status-page.png');

const db = uniqueName('page');
let replication: Replication;
let port: number;
let origin: string;
let source: Connection;
let load: { stop: () => Promise<number> } | undefined;
/** Between `start` and the source, to cut the connection (a reconnect to mark). */
let proxy: TcpProxy;
const shots = tempDir('binlog-sync-page-');

beforeAll(async () => {
  const { source: sourceServer } = testServers();
  port = await freePort();
  origin = `http://127.0.0.1:${port}`;
  proxy = await TcpProxy.start(sourceServer.host, sourceServer.port);
  const viaProxy = new URL(sourceServer.userUrl);
  viaProxy.port = String(proxy.port);
  replication = new Replication({
    databases: [db],
    source: { ...sourceServer, port: proxy.port, userUrl: viaProxy.toString().replace(/\/$/, '') },
    args: ['--metrics-port', String(port)],
    logLevel: 'info',
  });
  await replication.setCurrentPosition();
  replication.start();
  await replication.streaming();
  // Created once `start` streams: the replica gets the database from the binlog.
  source = await mysql.createConnection({ uri: sourceServer.adminUrl, ...EXACT_VALUES });
  await source.query(`CREATE DATABASE \`${db}\``);
  await source.query(`CREATE TABLE \`${db}\`.wait_times (id INT AUTO_INCREMENT PRIMARY KEY, ride INT NOT NULL, minutes INT NOT NULL)`);
  await replication.caughtUp();
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
  await replication?.close();
  await proxy?.close();
  await source?.query(`DROP DATABASE IF EXISTS \`${db}\``);
  await source?.end();
  shots.cleanup();
});

describe('what the page reads', () => {
  it('/status.json has the shape of `status --json`, and no password', async () => {
    const live = (await (await fetch(`${origin}/status.json`)).json()) as Record<string, unknown>;
    const cli = (await replication.status()) as unknown as Record<string, unknown>;
    const shape = (value: unknown): unknown =>
      value !== null && typeof value === 'object' && !Array.isArray(value)
        ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, k === 'retention' || k === 'source' ? typeof v : shape(v)]).sort())
        : typeof value;
    // (The source and retention are asked of the source by `status --source` only: null without it.)
    expect(shape(live)).toEqual(shape(cli));
    expect(live).toMatchObject({ running: true, lagThresholdSeconds: 5 });
    for (const path of ['/status.json', '/history.json', '/']) {
      const body = await (await fetch(`${origin}${path}`)).text();
      expect(body).not.toContain(REPL_PASSWORD);
      expect(body).not.toContain(APPLIER_PASSWORD);
    }
  });

  it('/history.json keeps one sample a second, and what was asked for since', async () => {
    type History = { series: { t: number[]; transactionsPerSecond: number[] } };
    // A few seconds of the load, sampled once a second.
    const all = await eventually(
      async () => (await (await fetch(`${origin}/history.json`)).json()) as History,
      (h) => h.series.t.length >= 3 && Math.max(...h.series.transactionsPerSecond) > 0,
      { timeoutMs: 20_000, intervalMs: 500 },
    );
    const gaps = all.series.t.slice(1).map((t, i) => t - all.series.t[i]!);
    for (const gap of gaps) expect(gap).toBeGreaterThan(500);
    const last = all.series.t.at(-1)!;
    const later = (await (await fetch(`${origin}/history.json?since=${last}`)).json()) as { series: { t: number[] } };
    for (const t of later.series.t) expect(t).toBeGreaterThan(last);
  });
});

describe('the Grafana dashboard (docs/grafana/binlog-sync.json)', () => {
  it('queries only metrics that a live /metrics exports, and covers lag, throughput, state, reconnects, errors and RSS', async () => {
    const exposition = await (await fetch(`${origin}/metrics`)).text();
    expect(exposition).toMatch(/^# TYPE binlog_sync_lag_seconds /m);
    expectDashboardOf('binlog-sync.json', exposition, [
      'binlog_sync_lag_seconds',
      'binlog_sync_transactions_applied_total',
      'binlog_sync_rows_applied_total',
      'binlog_sync_up',
      'binlog_sync_reconnects_total',
      'binlog_sync_errors_total',
      'binlog_sync_process_process_resident_memory_bytes',
    ]);
  });
});

// Last: its final test stops `start`.
describe.skipIf(!chromium)(chromium ? 'the status page in headless Chromium' : `the status page in headless Chromium: skipped, ${NO_CHROMIUM}`, () => {
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

  it('shows HEALTHY in words, a lag value and charts that draw, under a write load', async () => {
    await page.goto(`${origin}/`, { waitUntil: 'load' });
    // The charts drew a few seconds of samples (one a second) with the load's transactions.
    await page.waitForFunction(
      () => [...document.querySelectorAll<HTMLElement>('.chart')].every((c) => Number(c.dataset.points ?? 0) >= 5),
      { timeout: 30_000 },
    );
    // (On a loaded machine the load's first seconds may lag: the page says HEALTHY once the replica keeps up.)
    await page.waitForFunction(() => document.getElementById('state')!.textContent === 'HEALTHY', { timeout: 30_000 });
    const seen = await page.evaluate(() => ({
      state: document.getElementById('state')!.textContent,
      colour: getComputedStyle(document.getElementById('state')!).backgroundColor,
      lag: document.getElementById('lag')!.textContent,
      facts: Object.fromEntries([...document.querySelectorAll<HTMLElement>('dd[data-fact]')].map((dd) => [dd.dataset.fact, dd.textContent])),
      text: document.body.innerText,
    }));
    expect(seen.state).toBe('HEALTHY');
    expect(seen.colour).toBe('rgb(26, 127, 55)'); // green
    expect(seen.lag).toMatch(/^lag \d+\.\d s$/);
    expect(seen.facts.Databases).toBe(db);
    expect(seen.facts.Source).toMatch(/^repl_user@127\.0\.0\.1:\d+$/);
    expect(seen.facts.Replica).toMatch(/^binlog_sync@127\.0\.0\.1:\d+$/);
    expect(seen.facts['Apply path']).toMatch(/^row events applied (by the replica's own row code|as SQL statements)/);
    expect(seen.facts['Applied position']).toMatch(/^\S+\.\d{6}:\d+/);
    expect(seen.facts['Last commit']).toMatch(/\d+ s ago\)$/);
    expect(seen.text).not.toContain(REPL_PASSWORD);
    expect(seen.text).not.toContain(APPLIER_PASSWORD);

    // What a person sees in the transactions chart: the series' green line, drawn above zero.
    const chart = await chartLine(page, '#chart-tps canvas');
    expect(chart.line).toBeGreaterThan(100);
    // Higher than the chart's bottom quarter: transactions were applied every second.
    expect(chart.highest).toBeLessThan(chart.height * 0.75);

    const shot = join(shots.path, 'status-page.png');
    await page.screenshot({ path: shot, fullPage: true });
    expect(statSync(shot).size).toBeGreaterThan(20_000);
  });

  it('leaves HEALTHY for LAGGING within 15 s while a table lock holds the replica up, and comes back', async () => {
    const blocker = await mysql.createConnection({ uri: testServers().replica.adminUrl });
    try {
      await blocker.query(`LOCK TABLES \`${db}\`.wait_times WRITE`);
      const locked = Date.now();
      await page.waitForFunction(() => document.getElementById('state')!.dataset.state === 'LAGGING', { timeout: 15_000 });
      expect(Date.now() - locked).toBeLessThan(15_000);
      const seen = await page.evaluate(() => ({
        lag: document.getElementById('lag')!.textContent,
        colour: getComputedStyle(document.getElementById('state')!).backgroundColor,
      }));
      expect(Number(/^lag (\d+\.\d) s$/.exec(seen.lag ?? '')?.[1])).toBeGreaterThanOrEqual(5);
      expect(seen.colour).toBe('rgb(188, 76, 0)'); // orange
    } finally {
      await blocker.query('UNLOCK TABLES');
      await blocker.end();
    }
    await page.waitForFunction(() => document.getElementById('state')!.dataset.state === 'HEALTHY', { timeout: 30_000 });
  });

  it('marks a lost connection to the source: the error, then the reconnect, listed and drawn on the charts', async () => {
    proxy.reset();
    await page.waitForFunction(
      () => {
        const kinds = [...document.querySelectorAll('#marks .key')].map((k) => k.textContent);
        return kinds.includes('error') && kinds.includes('reconnect');
      },
      { timeout: 30_000 },
    );
    const seen = await page.evaluate(() => ({
      marks: [...document.querySelectorAll('#marks li')].map((li) => li.textContent),
      error: document.getElementById('error')!.hidden ? null : document.getElementById('error-message')!.textContent,
      reconnects: document.querySelector<HTMLElement>('dd[data-fact="Reconnects"]')!.textContent,
    }));
    expect(seen.marks.some((m) => /^reconnect .*streaming again from \S+:\d+/.test(m ?? ''))).toBe(true);
    expect(seen.marks.some((m) => /^error .*retried after \d+\.\d s/.test(m ?? ''))).toBe(true);
    expect(seen.error).toMatch(/retried after/);
    expect(Number(seen.reconnects)).toBeGreaterThanOrEqual(1);
    // A mark is a vertical line in its colour across the charts (#cf222e for an error).
    const red = await page.evaluate(() => {
      const canvas = document.querySelector<HTMLCanvasElement>('#chart-queue canvas')!;
      const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
      let n = 0;
      for (let i = 0; i < data.length; i += 4) if (Math.abs(data[i]! - 0xcf) < 12 && Math.abs(data[i + 1]! - 0x22) < 12 && Math.abs(data[i + 2]! - 0x2e) < 12) n += 1;
      return n;
    });
    expect(red).toBeGreaterThan(50);
    await page.waitForFunction(() => document.getElementById('state')!.dataset.state === 'HEALTHY', { timeout: 30_000 });
    // docs/operations.md's picture: the lag's rise and fall, the backlog caught up, the reconnect marked.
    if (process.env.BINLOG_SYNC_UPDATE_SCREENSHOT === '1') {
      await new Promise((r) => setTimeout(r, 4000));
      await page.screenshot({ path: SCREENSHOT_DOC as `${string}.png`, fullPage: true });
    }
  });

  it('says STOPPED in red when binlog-sync stops, keeping what it drew', async () => {
    await replication.stop();
    await page.waitForFunction(() => document.getElementById('state')!.dataset.state === 'STOPPED', { timeout: 15_000 });
    const seen = await page.evaluate(() => ({
      colour: getComputedStyle(document.getElementById('state')!).backgroundColor,
      updated: document.getElementById('updated')!.textContent,
      points: Number(document.querySelector<HTMLElement>('#chart-lag')!.dataset.points),
    }));
    expect(seen.colour).toBe('rgb(207, 34, 46)'); // red
    expect(seen.updated).toMatch(/^no answer from binlog-sync since /);
    expect(seen.points).toBeGreaterThan(10);
  });

  it('makes no request outside the metrics port, and none is refused', () => {
    expect(requested.length).toBeGreaterThan(5);
    const elsewhere = requested.filter((url) => new URL(url).origin !== origin);
    expect(elsewhere).toEqual([]);
    expect(requested).toContain(`${origin}/status.json`);
    // (The failed fetches after the stop are the only complaints.)
    expect(complaints.filter((c) => !/Failed to load resource: net::ERR_CONNECTION_REFUSED/.test(c))).toEqual([]);
  });
});
