// The Grafana dashboards in docs/grafana/ beside a live /metrics: the metric
// names their PromQL queries use, and the names an exposition exports.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { REPO_ROOT } from './context.js';

/**
 * The metric names in a PromQL query (or a Grafana label_values() query):
 * what is left once strings, label matchers, ranges, grouping labels,
 * function names and operators are taken out.
 */
function metricNames(query: string): string[] {
  const labelValues = /^label_values\(\s*([^,)]+)/.exec(query);
  const bare = (labelValues ? labelValues[1]! : query)
    .replace(/"(?:[^"\\]|\\.)*"/g, '')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '');
  const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset']);
  return [...bare.matchAll(/\b[a-zA-Z_:][a-zA-Z0-9_:]*\b(?!\s*\()/g)].map((m) => m[0]).filter((name) => !KEYWORDS.has(name));
}

/** The series names a Prometheus exposition (a live /metrics) exports, a histogram's and a summary's suffixed ones with them. */
function exportedNames(exposition: string): Set<string> {
  const exported = new Set<string>();
  for (const [, name, type] of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    exported.add(name!);
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) exported.add(`${name}${suffix}`);
    if (type === 'summary') for (const suffix of ['_sum', '_count']) exported.add(`${name}${suffix}`);
  }
  return exported;
}

/** Every query of a dashboard in docs/grafana/ (panels' and annotations' expr, template variables' query and definition). */
function dashboardQueries(file: string): string[] {
  const dashboard = JSON.parse(readFileSync(join(REPO_ROOT, 'docs', 'grafana', file), 'utf8')) as unknown;
  const queries: string[] = [];
  const collect = (value: unknown, key = ''): void => {
    if (typeof value === 'string' && ['expr', 'query', 'definition'].includes(key)) queries.push(value);
    else if (Array.isArray(value)) value.forEach((v) => collect(v, key));
    else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) collect(v, k);
  };
  collect(dashboard);
  return queries;
}

/**
 * Asserts that a dashboard in docs/grafana/ has more than ten queries, each
 * naming a metric; that every metric it queries is one the live exposition
 * (a /metrics text) exports; and that it charts each of `needed`.
 */
export function expectDashboardOf(file: string, exposition: string, needed: string[]): void {
  const exported = exportedNames(exposition);
  const queries = dashboardQueries(file);
  const named = new Set<string>();
  const nameless: string[] = [];
  for (const query of queries) {
    const names = metricNames(query);
    if (names.length === 0) nameless.push(query);
    for (const name of names) named.add(name);
  }
  expect(queries.length, `${file}: its queries`).toBeGreaterThan(10);
  expect(nameless, `${file}: queries that name no binlog-sync metric`).toEqual([]);
  expect([...named].filter((name) => !exported.has(name)), `${file}: metrics queried that /metrics does not export`).toEqual([]);
  expect(needed.filter((name) => !named.has(name)), `${file}: metrics it should chart`).toEqual([]);
}
