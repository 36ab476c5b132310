// Headless Chromium for the status page tests (status-page, relay-page):
// the browser found on this machine, and a page that records every request
// it makes and every complaint of its console, to prove what a person sees
// and that nothing is fetched from outside the metrics port.
import { existsSync } from 'node:fs';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';

/** Debian's chromium (installed by .ci/run), or the browser named by BINLOG_SYNC_TEST_CHROMIUM. */
export function findChromium(): string | null {
  const candidates = [process.env.BINLOG_SYNC_TEST_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];
  return candidates.find((path): path is string => path !== undefined && path !== '' && existsSync(path)) ?? null;
}

export const NO_CHROMIUM = 'no Chromium on this machine (apt-get install chromium, or set BINLOG_SYNC_TEST_CHROMIUM to a Chrome/Chromium binary)';

export interface WatchedPage {
  browser: Browser;
  page: Page;
  /** Every URL the page requested, in order. */
  requested: string[];
  /** What the browser's console said in errors and warnings: a request the page's Content-Security-Policy refused would be here. */
  complaints: string[];
}

/** A new page in a new headless browser, its requests and complaints recorded. */
export async function openWatchedPage(chromium: string): Promise<WatchedPage> {
  const browser = await puppeteer.launch({
    executablePath: chromium,
    headless: true,
    // As root (CI) Chromium refuses to start without --no-sandbox.
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 1100 });
  const watched: WatchedPage = { browser, page, requested: [], complaints: [] };
  page.on('request', (request) => watched.requested.push(request.url()));
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warn') watched.complaints.push(message.text());
  });
  page.on('pageerror', (error) => watched.complaints.push(String(error)));
  return watched;
}

/**
 * What a person sees of a chart's series: how many pixels of the canvas
 * under `selector` are of the line's colour (the stroke #1a7f37 by default,
 * anti-aliased edges aside), the highest row one is in, and the canvas height.
 */
export async function chartLine(page: Page, selector: string, rgb: [number, number, number] = [0x1a, 0x7f, 0x37]): Promise<{ line: number; highest: number; height: number }> {
  return page.evaluate(
    (selector, [r, g, b]) => {
      const canvas = document.querySelector<HTMLCanvasElement>(selector)!;
      const { data, width, height } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
      let line = 0;
      let highest = height;
      for (let i = 0; i < data.length; i += 4) {
        if (Math.abs(data[i]! - r) < 12 && Math.abs(data[i + 1]! - g) < 12 && Math.abs(data[i + 2]! - b) < 12 && data[i + 3]! > 200) {
          line += 1;
          highest = Math.min(highest, Math.floor(i / 4 / width));
        }
      }
      return { line, highest, height };
    },
    selector,
    rgb,
  );
}
