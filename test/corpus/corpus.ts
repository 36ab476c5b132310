// One corpus session: three servers started once, then each test file in
// turn: reset the servers, point both replicas at the source's current
// position, run the file through mariadb-test, wait for both replicas, read
// the three binlogs and the final tables, judge. A server a test broke is
// started again before the next test.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Connection } from 'mysql2/promise';
import { imageOf, userDatabases, type DatabaseImage } from '../support/compare.js';
import type { ManagedServer } from '../support/servers.js';
import { BinlogSyncRun, statePathFor } from './binlog-sync-run.js';
import { decodeRowChanges } from './binlog-rows.js';
import { runMariadbTest } from './mariadb-test.js';
import { compareImages, compareRowChanges } from './oracle.js';
import { connect, masterStatus, nativeApplied, repositionNative, startCorpusServers, type CorpusServers, type FilePosition } from './servers.js';
import { preflight, type TestFile } from './test-files.js';

export type Verdict = 'equal' | 'different' | 'stopped' | 'unfair' | 'skipped';

export interface TestResult {
  test: string;
  verdict: Verdict;
  /** Why: the table and what differs, the error, the skip reason. */
  detail: string;
  /** How mariadb-test itself ended (its result file may differ here: these servers log ROW). */
  mariadbTest?: string;
  /** binlog-sync's row path as `status --json` reported it (binlogStatements: the BINLOG path). */
  rowPath?: string;
  databases?: string[];
  ms: number;
}

export interface CorpusOptions {
  workDir: string;
  /**
   * The databases binlog-sync replicates: those every selected test names.
   * One `start` serves all the tests (a process per test costs seconds on two
   * cores); a test that stops it gets a fresh one at the source's position.
   */
  databases: string[];
  /** Per test file: mariadb-test's limit, and each replica's to catch up. */
  testTimeoutMs: number;
  catchUpTimeoutMs: number;
}

// mtr: the runner's procedures on the source; binlog_sync: binlog-sync's position table on its replica.
const KEEP = new Set(['mysql', 'information_schema', 'performance_schema', 'sys', 'mtr', 'binlog_sync']);

/** Variables that move by themselves or may not be set back: never restored. */
const VOLATILE = /^(gtid_|timestamp|last_insert_id|insert_id|rand_seed|pseudo_|warning_count|error_count|identity|log_bin_basename|server_uid|system_time_zone|hostname|version|thread_pool|innodb_version)/;

export class Corpus {
  private n = 0;
  private globals = new Map<string, string>();
  private current: BinlogSyncRun | undefined;
  /** Replicas still applying a file's changes after the catch-up timeout: killed and started again before the next file. */
  private busy = new Set<ManagedServer>();

  private constructor(
    private readonly servers: CorpusServers,
    private readonly options: CorpusOptions,
  ) {}

  static async start(options: CorpusOptions): Promise<Corpus> {
    mkdirSync(join(options.workDir, 'state'), { recursive: true });
    const servers = await startCorpusServers(options.workDir);
    const corpus = new Corpus(servers, options);
    await corpus.installRunnerSchema();
    corpus.globals = await globalVariables(servers.source);
    return corpus;
  }

  /** The `mtr` database tests call (`mtr.add_suppression`), on the source only and unlogged. */
  private async installRunnerSchema(): Promise<void> {
    const conn = await connect(this.servers.source);
    try {
      await conn.query(
        `SET SESSION sql_log_bin = 0; CREATE DATABASE IF NOT EXISTS mtr;
         CREATE TABLE IF NOT EXISTS mtr.test_suppressions (pattern VARCHAR(255)) ENGINE=MyISAM;
         CREATE PROCEDURE IF NOT EXISTS mtr.add_suppression(pattern VARCHAR(255)) BEGIN END;
         CREATE PROCEDURE IF NOT EXISTS mtr.check_warnings(OUT result INT) BEGIN SET result = 0; END;
         CREATE PROCEDURE IF NOT EXISTS mtr.check_testcase() BEGIN END;
         CREATE PROCEDURE IF NOT EXISTS mtr.force_restart() BEGIN END;`,
      );
    } finally {
      await conn.end();
    }
  }

  async run(test: TestFile): Promise<TestResult> {
    const started = Date.now();
    const pre = preflight(test);
    if (pre.skip) return { test: test.name, verdict: 'skipped', detail: pre.skip, ms: 0 };
    const result = await this.runFile(test);
    return { ...result, databases: pre.databases, ms: Date.now() - started };
  }

  private async runFile(test: TestFile): Promise<Omit<TestResult, 'ms'>> {
    const { source, native, ours } = this.servers;
    await this.ensureAlive();
    const [src, nat, own] = await Promise.all([connect(source), connect(native), connect(ours)]);
    try {
      await Promise.all([resetDatabases(src), resetDatabases(nat), resetDatabases(own)]);
      const starts = await Promise.all([src, nat, own].map(rotate));
      const from = await masterStatus(src);
      await repositionNative(nat, source.info.port, from);
      const run = await this.binlogSync();

      const socket = await scalar(src, 'SELECT @@socket');
      const mt = await runMariadbTest(test.path, { port: source.info.port, socket, varDir: this.servers.varDir }, this.options.testTimeoutMs);
      const mariadbTest = `${mt.outcome}${mt.message ? `: ${mt.message}` : ''}`;
      if (mt.outcome === 'skipped') return { test: test.name, verdict: 'skipped', detail: `the test skipped itself: ${mt.message}`, mariadbTest };
      if (mt.outcome === 'timeout') return { test: test.name, verdict: 'skipped', detail: `timeout: mariadb-test ran longer than ${this.options.testTimeoutMs / 1000} s`, mariadbTest };
      if (!(await alive(source))) return { test: test.name, verdict: 'skipped', detail: 'the test stopped the source', mariadbTest };

      const target = await masterStatus(src);
      const [nativeState, caughtUp] = await Promise.all([
        nativeApplied(nat, target, this.options.catchUpTimeoutMs),
        run.caughtUp(target, this.options.catchUpTimeoutMs),
      ]);
      // `status --json` only when it did not catch up: a process per test costs a second on two cores.
      const status = caughtUp ? null : await run.status();
      const rowPath = run.rowPath;

      if (nativeState.error?.startsWith('not caught up')) this.busy.add(native);
      if (!caughtUp && !status?.lastError) this.busy.add(ours);
      if (nativeState.error) return { test: test.name, verdict: 'unfair', detail: `native replica stopped: ${nativeState.error.slice(0, 300)}`, mariadbTest, rowPath };
      if (status?.state === 'STOPPED' || status?.lastError) {
        return { test: test.name, verdict: 'stopped', detail: oneLine(status?.lastError?.message ?? 'stopped'), mariadbTest, rowPath };
      }
      if (!caughtUp) {
        const exit = run.exitMessage();
        const why = exit ? `exited: ${exit}` : `not caught up within ${this.options.catchUpTimeoutMs / 1000} s (${status?.state ?? 'no status'})`;
        return { test: test.name, verdict: 'stopped', detail: oneLine(why), mariadbTest, rowPath };
      }

      const judged = await this.judge([src, nat, own], [source, native, ours], starts);
      return { test: test.name, ...judged, mariadbTest, rowPath };
    } finally {
      await Promise.all([src, nat, own].map((c) => c.end().catch(() => undefined)));
      await this.restoreGlobals();
    }
  }

  private async judge(
    conns: [Connection, Connection, Connection],
    servers: [ManagedServer, ManagedServer, ManagedServer],
    starts: FilePosition[],
  ): Promise<{ verdict: Verdict; detail: string }> {
    const replicated = new Set(this.options.databases);
    const changes = await Promise.all(conns.map(async (c, i) => decodeRowChanges(await segmentFiles(c, starts[i]!), replicated)));
    // The final state of every replicated database one of the three has now.
    const present = new Set<string>();
    for (const c of conns) for (const db of await userDatabases(c)) if (replicated.has(db)) present.add(db);
    const images = await Promise.all(servers.map((s) => imagesOf(s, [...present].sort())));
    const [srcRows, natRows, ownRows] = changes.map((c) => c.byTable);
    const nativeRows = compareRowChanges(srcRows!, natRows!);
    if (nativeRows) return { verdict: 'unfair', detail: `native differs: ${nativeRows}` };
    const nativeFinal = compareImages(images[0]!, images[1]!);
    if (nativeFinal) return { verdict: 'unfair', detail: `native differs: ${nativeFinal}` };
    const ownRowDiff = compareRowChanges(srcRows!, ownRows!);
    if (ownRowDiff) return { verdict: 'different', detail: ownRowDiff };
    const ownFinal = compareImages(images[0]!, images[2]!);
    if (ownFinal) return { verdict: 'different', detail: ownFinal };
    const rows = [...srcRows!.values()].reduce((a, l) => a + l.length, 0);
    return { verdict: 'equal', detail: `${rows} row change(s) in ${srcRows!.size} table(s)` };
  }

  /**
   * Starts again a server a test stopped or crashed; kills and starts again a
   * replica still applying (a keyless table's updates can take an hour), which
   * would hold its tables' locks against the next file's reset.
   */
  private async ensureAlive(): Promise<void> {
    if (this.busy.has(this.servers.ours)) {
      await this.current?.stop();
      this.current = undefined;
    }
    for (const server of this.busy) {
      await server.kill();
      await server.start();
    }
    this.busy.clear();
    for (const server of [this.servers.source, this.servers.native, this.servers.ours]) {
      if (await alive(server)) continue;
      await server.stop().catch(() => undefined);
      await server.start();
    }
  }

  /** Sets back the source's global variables a test changed (SET GLOBAL outlives the test). */
  private async restoreGlobals(): Promise<void> {
    if (!(await alive(this.servers.source))) return;
    const now = await globalVariables(this.servers.source);
    const conn = await connect(this.servers.source);
    try {
      for (const [name, value] of this.globals) {
        if (now.get(name) === value || VOLATILE.test(name)) continue;
        await conn.query(`SET GLOBAL ${name} = ?`, [value]).catch(() => conn.query(`SET GLOBAL ${name} = ${value === '' ? "''" : value}`).catch(() => undefined));
      }
    } finally {
      await conn.end();
    }
  }

  /** The running `start`, or a fresh one at the source's current position when there is none or it stopped. */
  private async binlogSync(): Promise<BinlogSyncRun> {
    if (this.current && !this.current.exited && !this.current.failed()) return this.current;
    await this.current?.stop();
    this.n++;
    const dir = join(this.options.workDir, 'state');
    this.current = new BinlogSyncRun(this.servers.source, this.servers.ours, statePathFor(dir, this.n), join(dir, `start-${this.n}.log`), this.options.databases);
    await this.current.start();
    return this.current;
  }

  async close(): Promise<void> {
    await this.current?.stop().catch(() => undefined);
    await Promise.all([this.servers.source, this.servers.native, this.servers.ours].map((s) => s.destroy()));
  }
}

async function scalar(conn: Connection, sql: string): Promise<string> {
  const [rows] = await conn.query({ sql, rowsAsArray: true });
  return String((rows as unknown[][])[0]![0]);
}

async function globalVariables(server: ManagedServer): Promise<Map<string, string>> {
  const conn = await connect(server);
  try {
    const [rows] = await conn.query('SHOW GLOBAL VARIABLES');
    return new Map((rows as Array<{ Variable_name: string; Value: string }>).map((r) => [r.Variable_name, r.Value]));
  } finally {
    await conn.end();
  }
}

async function alive(server: ManagedServer): Promise<boolean> {
  try {
    const conn = await connect(server);
    await conn.end();
    return true;
  } catch {
    return false;
  }
}

/** Drops what the last test left (unlogged), and gives the test its `test` database. */
async function resetDatabases(conn: Connection): Promise<void> {
  await conn.query('SET SESSION sql_log_bin = 0');
  const [rows] = await conn.query('SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA');
  for (const { name } of rows as Array<{ name: string }>) {
    if (!KEEP.has(name)) await conn.query(`DROP DATABASE \`${name.replace(/`/g, '``')}\``);
  }
  await conn.query('CREATE DATABASE test');
}

/** A new binlog file from here on: the test's events are those of the files from this one. */
async function rotate(conn: Connection): Promise<FilePosition> {
  await conn.query('FLUSH LOCAL BINARY LOGS');
  return masterStatus(conn);
}

/** The binlog files written since `start` (rotated once more so each is closed), as paths. */
async function segmentFiles(conn: Connection, start: FilePosition): Promise<string[]> {
  await conn.query('FLUSH LOCAL BINARY LOGS');
  const dataDir = await scalar(conn, 'SELECT @@datadir');
  const current = await masterStatus(conn);
  const [rows] = await conn.query('SHOW BINARY LOGS');
  return (rows as Array<{ Log_name: string }>)
    .map((r) => r.Log_name)
    .filter((name) => name >= start.file && name < current.file)
    .map((name) => join(dataDir, name));
}

async function imagesOf(server: ManagedServer, databases: string[]): Promise<Record<string, DatabaseImage>> {
  const conn = await connect(server);
  try {
    const out: Record<string, DatabaseImage> = {};
    for (const db of databases) out[db] = await imageOf(conn, db);
    return out;
  } finally {
    await conn.end();
  }
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim().slice(0, 400);
}
