// Pure: the runner's one line per test and its summary.
import type { TestResult } from './corpus.js';

export interface Summary {
  run: number;
  counted: number;
  equal: number;
  different: number;
  stopped: number;
  unfair: number;
  skipped: number;
  skippedBy: Record<string, number>;
}

export function formatLine(r: TestResult): string {
  const path = r.rowPath && (r.verdict === 'different' || r.verdict === 'stopped') ? ` [${r.rowPath} path]` : '';
  const time = r.ms > 0 ? ` (${(r.ms / 1000).toFixed(1)} s)` : '';
  return `${r.test.padEnd(40)} ${r.verdict}${r.detail ? ` (${r.detail})` : ''}${path}${time}`;
}

/** A skip reason without its particulars, to group by: "needs server options (x.opt)" -> "needs server options". */
function reasonKind(detail: string): string {
  return detail
    .replace(/\s*\(.*$/, '')
    .replace(/^the test skipped itself: .*/, 'the test skipped itself (unmet requirement)')
    .replace(/^runner error: .*/, 'runner error')
    .replace(/^timeout: .*/, 'timeout');
}

export function summarise(results: TestResult[]): Summary {
  const s: Summary = { run: 0, counted: 0, equal: 0, different: 0, stopped: 0, unfair: 0, skipped: 0, skippedBy: {} };
  for (const r of results) {
    if (r.verdict === 'skipped') {
      s.skipped++;
      const kind = reasonKind(r.detail);
      s.skippedBy[kind] = (s.skippedBy[kind] ?? 0) + 1;
      continue;
    }
    s.run++;
    if (r.verdict === 'unfair') s.unfair++;
    else {
      s.counted++;
      s[r.verdict]++;
    }
  }
  return s;
}

export function formatSummary(s: Summary): string {
  const skipped = Object.entries(s.skippedBy)
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');
  return (
    `run ${s.run}, counted ${s.counted}: equal ${s.equal}, different ${s.different}, stopped ${s.stopped}; ` +
    `unfair (native replica differs) ${s.unfair}; skipped ${s.skipped}${skipped ? ` (${skipped})` : ''}`
  );
}
