// Helpers for integration test files: connections to the shared servers,
// databases of their own (so files run in any order and in parallel), state
// files in a temp folder, and the built CLI run as a user would run it.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import mysql, { type Connection } from 'mysql2/promise';
import { inject } from 'vitest';
import type { Role, ServerInfo, TestServers } from './servers.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI = join(REPO_ROOT, 'bin', 'binlog-sync.js');

export function testServers(): TestServers {
  return inject('servers');
}

/** Options that make mysql2 return exact values (big numbers and dates as strings). */
export const EXACT_VALUES = {
  supportBigNumbers: true,
  bigNumberStrings: true,
  dateStrings: true,
  multipleStatements: true,
  timezone: 'Z',
} as const;

/** An admin connection to the source or replica, for set-up and checks. */
export async function adminConnection(role: Role, server?: ServerInfo): Promise<Connection> {
  const info = server ?? testServers()[role];
  return mysql.createConnection({ uri: info.adminUrl, ...EXACT_VALUES });
}

/** A name no other test file uses: `prefix_<random>` (fits MySQL's 64-character limit). */
export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(5).toString('hex')}`.slice(0, 64);
}

/** A fresh temp folder, removed by the returned cleanup. */
export function tempDir(prefix = 'binlog-sync-test-'): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/** Drops the named databases on both servers (ignores the ones that do not exist). */
export async function dropDatabases(names: string[]): Promise<void> {
  for (const role of ['source', 'replica'] as const) {
    const conn = await adminConnection(role);
    try {
      for (const name of names) await conn.query(`DROP DATABASE IF EXISTS \`${name.replace(/`/g, "``")}\``);
    } finally {
      await conn.end();
    }
  }
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  timeoutMs?: number;
}

/** The process environment for the CLI: no BINLOG_SYNC_* leaking in from the developer's shell. */
function cliEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('BINLOG_SYNC_')) env[k] = v;
  // The row path under test (vitest.config.ts runs the exactness suites on both).
  if (process.env.BINLOG_SYNC_TEST_ROW_APPLIER) env.BINLOG_SYNC_ROW_APPLIER = process.env.BINLOG_SYNC_TEST_ROW_APPLIER;
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) env[k] = v;
  return env;
}

/** Starts the built CLI; the caller decides when it ends (signals, `wait`). */
export function spawnCli(args: string[], options: CliOptions = {}): ChildProcess & { output: () => CliResult } {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: options.cwd ?? REPO_ROOT,
    env: cliEnv(options.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return Object.assign(child, {
    output: (): CliResult => ({ code: child.exitCode, signal: child.signalCode, stdout, stderr }),
  });
}

/** Runs the built CLI to completion. */
export async function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  const child = spawnCli(args, options);
  const timeout = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
  await new Promise<void>((resolve) => child.once('close', () => resolve()));
  clearTimeout(timeout);
  return child.output();
}

/** Waits until a condition holds, polling; fails with the last value seen. */
export async function eventually<T>(
  probe: () => Promise<T>,
  accept: (value: T) => boolean,
  { timeoutMs = 30_000, intervalMs = 50 } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T = await probe();
  while (!accept(last)) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms; last value: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, intervalMs));
    last = await probe();
  }
  return last;
}

/**
 * A steady write load: `step` runs again and again on a connection of its
 * own (made by `open`) until stopped; `stop` resolves with the steps done.
 */
export function backgroundLoad(
  open: () => Promise<Connection>,
  step: (conn: Connection, i: number) => Promise<void>,
): { stop: () => Promise<number> } {
  let running = true;
  let count = 0;
  const done = (async () => {
    const conn = await open();
    try {
      for (let i = 1; running; i++) {
        await step(conn, i);
        count = i;
      }
    } finally {
      await conn.end();
    }
  })();
  return {
    stop: async () => {
      running = false;
      await done;
      return count;
    },
  };
}
