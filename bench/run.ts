// npm run bench: binlog-sync against the server's own replication, on the same
// machine in the same run. One source, two replicas with identical settings:
// one fed by the native replica threads, one by `binlog-sync start`. Each
// backlog scenario is written with both appliers stopped, then each catches
// up alone and is timed; both replicas must end identical to the source.
//
//   npm run bench -- [--scenarios startup,sysbench,masked,bulk,big,steady,replay,relay] [--sysbench-events 40000] [--sysbench-threads 4]
//                    [--sysbench-tables 4] [--sysbench-rows 10000] [--bulk-rows 200000]
//                    [--mask 'sbtest.*.c=hash'] [--steady-rate 1000] [--steady-seconds 10]
//                    [--steady-warmup-seconds 1] [--startup-runs 9] [--repeat 1] [--out bench-results/latest.json]
// With --repeat N, each backlog scenario runs N times and the median of each side is reported
// (this machine's timings vary by about ±20 % from run to run).
//
// masked: a third replica, seeded by `snapshot --mask` and fed by `start --mask`, catches up
// the sysbench backlog too (the same backlog, each applier alone): masked against unmasked.
//
// startup: `start` started again and again with nothing to catch up; the median time from
// spawning it to its streaming (its "replicating from" line), and the startupMs that line reports.
//
// replay: the bulk backlog (--bulk-rows) recorded in a binlog file of its own, applied to empty
// replicas by `mariadb-binlog FILE | mariadb` and by `binlog-sync replay FILE` (replay-scenario.ts).
//
// relay: a sysbench backlog (--sysbench-*) caught up by `start` from the source against `relay`
// into a NATS JetStream stream plus `start --from` on it (relay-scenario.ts); "native" is `start` there.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import mysql, { type Connection } from 'mysql2/promise';
import { StateStore } from '../src/state/state-store.js';
import { compareFilePositions, type BinlogPosition } from '../src/position.js';
import { REPL_PASSWORD, REPL_USER, destroyServers, startServer, type ManagedServer } from '../test/support/servers.js';
import { imageOf } from '../test/support/compare.js';
import { Masker } from '../src/mask/masker.js';
import { valueBytes } from '../src/mask/methods.js';
import type { TableDef } from '../src/source/events.js';
import { replayScenario } from './replay-scenario.js';
import { relayScenario } from './relay-scenario.js';
import { cpuSeconds, machineIdleSeconds } from './proc.js';

const { values: flags } = parseArgs({
  options: {
    scenarios: { type: 'string', default: 'startup,sysbench,masked,bulk,big,steady,replay,relay' },
    'sysbench-events': { type: 'string', default: '40000' },
    'sysbench-threads': { type: 'string', default: '4' },
    'sysbench-tables': { type: 'string', default: '4' },
    'sysbench-rows': { type: 'string', default: '10000' },
    'bulk-rows': { type: 'string', default: '200000' },
    'big-rows': { type: 'string', default: '1000000' },
    /** The masked scenario's rules (comma-separated): one column of each sysbench table. */
    mask: { type: 'string', default: 'sbtest.*.c=hash' },
    'steady-rate': { type: 'string', default: '1000' },
    'steady-seconds': { type: 'string', default: '10' },
    'steady-warmup-seconds': { type: 'string', default: '1' },
    'startup-runs': { type: 'string', default: '9' },
    out: { type: 'string', default: 'bench-results/latest.json' },
    repeat: { type: 'string', default: '1' },
  },
});
const num = (name: keyof typeof flags): number => Number(flags[name]);
const REPO = resolve(dirname(new URL(import.meta.url).pathname), '..');
const DATABASES = ['sbtest', 'bulk', 'big', 'steady'];

interface ScenarioResult {
  scenario: string;
  /** Every run's seconds, when repeated. */
  runs?: Array<{ native: number; ours: number; binlogSyncCpu?: number; ratio?: number }>;
  nativeSeconds?: number;
  oursSeconds?: number;
  ratio?: number;
  transactions?: number;
  rows?: number;
  latencyMs?: { native: { p50: number; p99: number }; ours: { p50: number; p99: number } };
  /** Peak RSS of binlog-sync while catching up (MiB). */
  peakRssMiB?: number;
  /** The row path binlog-sync's run took (see Ours.rowPath). */
  rowPath?: string;
  /** CPU seconds used while catching up: each replica server, and binlog-sync itself. */
  cpuSeconds?: { nativeReplica: number; oursReplica: number; binlogSync: number; source: number; machineIdle: number };
  /** The masked scenario: the same backlog caught up by binlog-sync without masking, in the same run. */
  unmasked?: {
    rules: string[];
    /** Median seconds of the unmasked catch-up. */
    seconds: number;
    /** Masked seconds / unmasked seconds (of the medians), and of each run. */
    slowdown: number;
    runs?: number[];
    /** binlog-sync's CPU per source transaction, milliseconds (medians). */
    cpuMsPerTransaction: { unmasked: number; masked: number };
  };
  /** The relay scenarios: CPU seconds of each process in the timed part, start-up included, by name. */
  processCpuSeconds?: Record<string, number>;
  /** The startup scenario: medians over `runs` starts, in ms. */
  startupMs?: { spawnToStreaming: number; reported: number; runs: number };
  identical: boolean;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** The server's process id, from its pid file (local servers only). */
async function serverPid(server: ManagedServer): Promise<number | undefined> {
  const conn = await admin(server);
  try {
    const [rows] = await conn.query('SELECT @@pid_file AS f');
    return Number(readFileSync((rows as Array<{ f: string }>)[0]!.f, 'utf8').trim());
  } catch {
    return undefined;
  } finally {
    await conn.end();
  }
}
const admin = (s: ManagedServer): Promise<Connection> => mysql.createConnection({ uri: s.info.adminUrl, multipleStatements: true, supportBigNumbers: true, bigNumberStrings: true });

async function masterStatus(conn: Connection): Promise<BinlogPosition> {
  const [rows] = await conn.query('SHOW MASTER STATUS');
  const row = (rows as Array<{ File: string; Position: string | number }>)[0]!;
  return { file: row.File, position: Number(row.Position), gtid: null };
}

async function slaveStatus(conn: Connection): Promise<Record<string, string>> {
  const [rows] = await conn.query('SHOW SLAVE STATUS');
  return (rows as Array<Record<string, string>>)[0] ?? {};
}

/** The native replica: its IO thread always runs; its SQL thread is the applier we time. */
class NativeReplica {
  constructor(readonly server: ManagedServer, private readonly conn: Connection) {}

  static async configure(server: ManagedServer, source: ManagedServer, at: BinlogPosition): Promise<NativeReplica> {
    const conn = await admin(server);
    await conn.query(
      `CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=${source.info.port}, MASTER_USER='${REPL_USER}', MASTER_PASSWORD='${REPL_PASSWORD}', ` +
        `MASTER_LOG_FILE='${at.file}', MASTER_LOG_POS=${at.position}`,
    );
    await conn.query('START SLAVE');
    return new NativeReplica(server, conn);
  }

  async stopApplier(): Promise<void> {
    await this.conn.query('STOP SLAVE SQL_THREAD');
  }

  async startApplier(): Promise<void> {
    await this.conn.query('START SLAVE SQL_THREAD');
  }

  /** Waits until the IO thread has fetched up to `target` (relay log complete). */
  fetched(target: BinlogPosition): Promise<void> {
    return this.reached(target, { file: 'Master_Log_File', position: 'Read_Master_Log_Pos', error: 'Last_IO_Error', thread: 'IO' }, 5);
  }

  /** Waits until the SQL thread has applied up to `target`. */
  applied(target: BinlogPosition): Promise<void> {
    return this.reached(target, { file: 'Relay_Master_Log_File', position: 'Exec_Master_Log_Pos', error: 'Last_SQL_Error', thread: 'SQL' }, 2);
  }

  private async reached(target: BinlogPosition, fields: { file: string; position: string; error: string; thread: string }, pollMs: number): Promise<void> {
    for (;;) {
      const s = await slaveStatus(this.conn);
      const order = compareFilePositions({ file: s[fields.file] ?? null, position: Number(s[fields.position]), gtid: null }, target);
      if (order !== null && order >= 0) return;
      if (s[fields.error]) throw new Error(`native replica ${fields.thread} error: ${s[fields.error]}`);
      await sleep(pollMs);
    }
  }

  async close(): Promise<void> {
    await this.conn.end();
  }
}

/** `binlog-sync start` as a child process. */
class Ours {
  private child: ChildProcess | undefined;
  private stderr = '';
  peakRssMiB = 0;
  /** Peak RSS of the current process only (each start is a new process). */
  processPeakRssMiB = 0;
  /** The last start: ms from spawning it to its "replicating from" line, and the startupMs that line reports. */
  startup: { spawnToStreamingMs: number; reportedMs: number | undefined } | undefined;
  private sampler: NodeJS.Timeout | undefined;

  /** `options`: what `start` (and `snapshot`) take besides the endpoints, e.g. --mask rules. */
  constructor(private readonly source: ManagedServer, readonly replica: ManagedServer, readonly statePath: string, private readonly options: string[] = []) {}

  args(): string[] {
    return ['--source', this.source.info.userUrl, '--replica', this.replica.info.userUrl, '--state', this.statePath];
  }

  /** Seeds the replica with `snapshot` (so it records the masking it was seeded with). */
  snapshot(): void {
    const r = spawnSync(process.execPath, [join(REPO, 'bin/binlog-sync.js'), 'snapshot', '--databases', DATABASES.join(','), ...this.options, ...this.args()], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`snapshot failed: ${r.stderr}`);
  }

  setPosition(at: BinlogPosition): void {
    const r = spawnSync(process.execPath, [join(REPO, 'bin/binlog-sync.js'), 'position', 'set', '--file', at.file!, '--pos', String(at.position), ...this.args()], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`position set failed: ${r.stderr}`);
  }

  /** Starts the applier; resolves once it streams (so start-up is not counted as catch-up). */
  async start(): Promise<void> {
    this.stderr = '';
    this.processPeakRssMiB = 0;
    this.startup = undefined;
    const spawned = performance.now();
    // BENCH_CPU_PROF: CPU profiles into that folder; BENCH_NODE_FLAGS: more flags for node (e.g. --trace-gc), its output appended to BENCH_CHILD_STDOUT.
    const flags = [...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF] : []), ...(process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? [])];
    const stdout = process.env.BENCH_CHILD_STDOUT ? openSync(process.env.BENCH_CHILD_STDOUT, 'a') : 'ignore';
    this.child = spawn(process.execPath, [...flags, join(REPO, 'bin/binlog-sync.js'), 'start', '--databases', DATABASES.join(','), ...this.options, ...this.args()], { stdio: ['ignore', stdout, 'pipe'] });
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      this.stderr += d;
      // (Timed as the line arrives, not when the loop below next looks.)
      if (!this.startup && this.stderr.includes('replicating from')) {
        const reported = /"startupMs":(\d+)[^\n]*replicating from/.exec(this.stderr)?.[1];
        this.startup = { spawnToStreamingMs: performance.now() - spawned, reportedMs: reported === undefined ? undefined : Number(reported) };
      }
    });
    this.sampler = setInterval(() => {
      try {
        const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${this.child!.pid}/status`, 'utf8'));
        if (m) {
          this.processPeakRssMiB = Math.max(this.processPeakRssMiB, Number(m[1]) / 1024);
          this.peakRssMiB = Math.max(this.peakRssMiB, this.processPeakRssMiB);
        }
      } catch {
        // gone
      }
    }, 100);
    while (!this.stderr.includes('replicating from')) {
      if (this.child.exitCode !== null) throw new Error(`binlog-sync start exited: ${this.stderr}`);
      await sleep(5);
    }
  }

  cpuSeconds(): number {
    return cpuSeconds(this.child?.pid);
  }

  async applied(target: BinlogPosition): Promise<void> {
    const state = StateStore.open(this.statePath, { readonly: true });
    try {
      for (;;) {
        const at = state.getPosition();
        const order = at ? compareFilePositions(at, target) : null;
        if (order !== null && order >= 0) return;
        if (this.child && this.child.exitCode !== null) throw new Error(`binlog-sync start exited: ${this.stderr.slice(-2000)}`);
        await sleep(2);
      }
    } finally {
      state.close();
    }
  }

  /**
   * The row path the run took, as its runner's health says once a heartbeat
   * newer than now is published: "BINLOG statements", "SQL statements" (the
   * replica refused them), or BINLOG with the tables that went as SQL.
   */
  async rowPath(): Promise<string> {
    const asked = Date.now();
    const state = StateStore.open(this.statePath, { readonly: true });
    try {
      for (let tries = 0; ; tries++) {
        const runner = state.activeRunner();
        const health = runner?.health;
        if (runner && health && (Date.parse(runner.heartbeatAt) > asked || tries >= 150)) {
          if (health.capabilities?.binlogStatements === false) return 'SQL statements';
          const sql = health.sqlPathTables ?? [];
          return sql.length > 0 ? `BINLOG statements, SQL for ${sql.join(', ')}` : 'BINLOG statements';
        }
        if (tries >= 150) return 'unknown (no runner health)';
        await sleep(20);
      }
    } finally {
      state.close();
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.sampler);
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const closed = new Promise((r) => child.once('close', r));
    child.kill('SIGTERM');
    await closed;
  }
}

async function identical(source: ManagedServer, replicas: ManagedServer[], databases: string[]): Promise<boolean> {
  const s = await admin(source);
  try {
    for (const db of databases) {
      const expected = JSON.stringify(await imageOf(s, db));
      for (const r of replicas) {
        const conn = await admin(r);
        const actual = JSON.stringify(await imageOf(conn, db));
        await conn.end();
        if (actual !== expected) return false;
      }
    }
    return true;
  } finally {
    await s.end();
  }
}

/**
 * Like identical(), for a masked copy: its image against the source's rows as
 * the masking writes them (masked here, from the bytes the source holds), so
 * the rows snapshot masked and the rows `start` masked must both agree.
 */
async function identicalMasked(source: ManagedServer, replica: ManagedServer, database: string, masker: Masker): Promise<boolean> {
  const [s, r] = await Promise.all([admin(source), admin(replica)]);
  try {
    const actual = await imageOf(r, database);
    const expectedTables = (await imageOf(s, database)).tables;
    if (Object.keys(actual.tables).join() !== Object.keys(expectedTables).join()) return false;
    const hex = (v: unknown): string => (v === null || v === undefined ? 'NULL' : valueBytes(v).toString('hex').toUpperCase());
    for (const [table, image] of Object.entries(expectedTables)) {
      const [cols] = await s.query(
        'SELECT COLUMN_NAME AS name, COLUMN_TYPE AS type, CHARACTER_SET_NAME AS cs, COLLATION_NAME AS collation FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION',
        [database, table],
      );
      const columns = (cols as Array<{ name: string; type: string; cs: string | null; collation: string | null }>).map((c) => ({
        name: c.name,
        kind: 'plain' as const,
        sqlType: c.type,
        ...(c.cs ? { characterSet: c.cs } : {}),
        ...(c.collation ? { collation: c.collation } : {}),
      }));
      const def: TableDef = { database, table, columns, primaryKey: [] };
      const select = columns.map((c) => `CAST(\`${c.name}\` AS BINARY)`).join(', ');
      const [rows] = await s.query({ sql: `SELECT ${select} FROM \`${database}\`.\`${table}\``, rowsAsArray: true });
      const images = rows as unknown[][];
      masker.maskImages(def, images);
      const expected = images.map((row) => row.map(hex).join('|')).sort();
      const mine = actual.tables[table];
      if (!mine || mine.definition !== image.definition || JSON.stringify(mine.rows) !== JSON.stringify(expected)) return false;
    }
    return true;
  } finally {
    await Promise.all([s.end(), r.end()]);
  }
}

/**
 * Writes a backlog with every applier stopped, then times each catching up
 * alone: the native replica, then each of ours in `order` (indices into
 * `ours`). One result per applier of ours, in the order of `ours`, each with
 * the native time.
 */
async function backlog(
  name: string,
  source: ManagedServer,
  native: NativeReplica,
  ours: readonly Ours[],
  order: readonly number[],
  write: () => Promise<{ transactions?: number; rows?: number }>,
): Promise<ScenarioResult[]> {
  await native.stopApplier();
  for (const o of ours) await o.stop();
  const counts = await write();
  const conn = await admin(source);
  const target = await masterStatus(conn);
  await conn.end();
  await native.fetched(target);

  const [nativePid, sourcePid, ...oursPids] = await Promise.all([serverPid(native.server), serverPid(source), ...ours.map((o) => serverPid(o.replica))]);
  const started = performance.now();
  const cpu = cpuSeconds(nativePid);
  await native.startApplier();
  await native.applied(target);
  const nativeSeconds = (performance.now() - started) / 1000;
  const nativeReplica = cpuSeconds(nativePid) - cpu;

  const results: ScenarioResult[] = [];
  for (const i of order) {
    const applier = ours[i]!;
    await applier.start();
    const started = performance.now();
    const cpu = cpuSeconds(oursPids[i]);
    const ourCpu = applier.cpuSeconds();
    const sourceCpu = cpuSeconds(sourcePid);
    const idle = machineIdleSeconds();
    await applier.applied(target);
    const oursSeconds = (performance.now() - started) / 1000;
    const cpuSpent = {
      nativeReplica,
      oursReplica: cpuSeconds(oursPids[i]) - cpu,
      binlogSync: applier.cpuSeconds() - ourCpu,
      source: cpuSeconds(sourcePid) - sourceCpu,
      machineIdle: machineIdleSeconds() - idle,
    };
    const peakRssMiB = Math.round(applier.processPeakRssMiB);
    const rowPath = await applier.rowPath();
    results[i] = { scenario: name, nativeSeconds, oursSeconds, ratio: nativeSeconds / oursSeconds, ...counts, cpuSeconds: cpuSpent, peakRssMiB, rowPath, identical: false };
  }
  return results;
}

/** A relay scenario's runs as one result: median seconds and CPU (each figure apart), every run's seconds when more than one. */
function medianOfRuns(first: ScenarioResult, mine: ScenarioResult[]): ScenarioResult {
  const nativeSeconds = median(mine.map((r) => r.nativeSeconds!));
  const oursSeconds = median(mine.map((r) => r.oursSeconds!));
  const processCpuSeconds = Object.fromEntries(Object.keys(first.processCpuSeconds ?? {}).map((name) => [name, median(mine.map((r) => r.processCpuSeconds![name]!))]));
  return {
    ...first,
    nativeSeconds,
    oursSeconds,
    ratio: nativeSeconds / oursSeconds,
    processCpuSeconds,
    identical: mine.every((r) => r.identical),
    ...(mine.length > 1 ? { runs: mine.map((r) => ({ native: r.nativeSeconds!, ours: r.oursSeconds!, ratio: r.ratio! })) } : {}),
  };
}

function sysbench(source: ManagedServer, command: 'prepare' | 'run'): void {
  const args = [
    'oltp_write_only',
    `--mysql-host=127.0.0.1`,
    `--mysql-port=${source.info.port}`,
    '--mysql-user=root',
    '--mysql-db=sbtest',
    `--tables=${num('sysbench-tables')}`,
    `--table-size=${num('sysbench-rows')}`,
    ...(command === 'run' ? [`--threads=${num('sysbench-threads')}`, `--events=${num('sysbench-events')}`, '--time=0', '--report-interval=0'] : []),
    command,
  ];
  const r = spawnSync('sysbench', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`sysbench ${command} failed (apt-get install sysbench): ${r.stderr || r.stdout}`);
}

async function steady(source: ManagedServer, native: NativeReplica, ours: Ours): Promise<ScenarioResult> {
  await native.startApplier();
  await ours.stop();
  await ours.start();
  const rate = num('steady-rate');
  const seconds = num('steady-seconds');
  const conn = await admin(source);
  // Steady state, not start-up: a second of warm-up rows (negative ids, not
  // measured) at the same rate must reach both replicas first.
  const warmup = Math.round(rate * num('steady-warmup-seconds'));
  for (let id = 1; id <= warmup; id++) {
    await conn.query('INSERT INTO steady.events (id, at) VALUES (?, NOW(6))', [-id]);
    await sleep(1000 / rate);
  }
  for (const server of [native.server, ours.replica]) {
    const c = await admin(server);
    while (((await c.query('SELECT COUNT(*) AS n FROM steady.events WHERE id < 0'))[0] as Array<{ n: number }>)[0]!.n < warmup) await sleep(5);
    await c.end();
  }
  const committedAt = new Map<number, number>();
  const visible = { native: new Map<number, number>(), ours: new Map<number, number>() };
  let running = true;
  const watch = async (server: ManagedServer, seen: Map<number, number>): Promise<void> => {
    const c = await admin(server);
    let last = 0;
    while (running || last < committedAt.size) {
      const [rows] = await c.query('SELECT COALESCE(MAX(id), 0) AS m FROM steady.events');
      const max = Number((rows as Array<{ m: string }>)[0]!.m);
      const now = performance.now();
      for (let id = last + 1; id <= max; id++) seen.set(id, now);
      last = Math.max(last, max);
      if (!running && last >= committedAt.size) break;
      await sleep(1);
    }
    await c.end();
  };
  const watchers = [watch(native.server, visible.native), watch(ours.replica, visible.ours)];
  const start = performance.now();
  for (let id = 1; id <= rate * seconds; id++) {
    const due = start + (id * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    await conn.query('INSERT INTO steady.events (id, at) VALUES (?, NOW(6))', [id]);
    committedAt.set(id, performance.now());
  }
  running = false;
  await Promise.all(watchers);
  await conn.end();
  const percentiles = (seen: Map<number, number>): { p50: number; p99: number } => {
    const lat = [...committedAt].map(([id, at]) => (seen.get(id) ?? Infinity) - at).sort((a, b) => a - b);
    return { p50: lat[Math.floor(lat.length * 0.5)]!, p99: lat[Math.floor(lat.length * 0.99)]! };
  };
  return {
    scenario: `steady ${rate} tx/s`,
    transactions: committedAt.size,
    latencyMs: { native: percentiles(visible.native), ours: percentiles(visible.ours) },
    peakRssMiB: Math.round(ours.processPeakRssMiB),
    identical: false,
  };
}

/** Start-up of `start`: stopped and started `runs` times with nothing to catch up. */
async function startup(ours: Ours, runs: number): Promise<ScenarioResult> {
  const spawnToStreaming: number[] = [];
  const reported: number[] = [];
  for (let run = 0; run < runs; run++) {
    await ours.stop();
    await ours.start();
    spawnToStreaming.push(ours.startup!.spawnToStreamingMs);
    if (ours.startup!.reportedMs !== undefined) reported.push(ours.startup!.reportedMs);
  }
  return {
    scenario: 'start-up of start',
    startupMs: { spawnToStreaming: median(spawnToStreaming), reported: reported.length > 0 ? median(reported) : NaN, runs },
    identical: true, // (nothing is replicated: no copy to compare)
  };
}

async function main(): Promise<void> {
  const scenarios = flags.scenarios!.split(',');
  const work = mkdtempSync(join(tmpdir(), 'binlog-sync-bench-'));
  const withMasks = scenarios.includes('masked');
  const withSysbench = withMasks || scenarios.includes('sysbench');
  const [source, nativeServer, oursServer, maskedServer] = await Promise.all([
    startServer({ role: 'source', serverId: 1 }),
    startServer({ role: 'replica', serverId: 2 }),
    startServer({ role: 'replica', serverId: 3 }),
    ...(withMasks ? [startServer({ role: 'replica', serverId: 4 })] : []),
  ]);
  const results: ScenarioResult[] = [];
  let native: NativeReplica | undefined;
  const ours = new Ours(source, oursServer, join(work, 'state.sqlite'));
  const maskRules = flags.mask!.split(',').map((r) => r.trim()).filter(Boolean);
  const maskKey = join(work, 'mask.key');
  writeFileSync(maskKey, randomBytes(32).toString('hex'));
  const maskOptions = [...maskRules.flatMap((r) => ['--mask', r]), '--mask-key-file', maskKey];
  const masked = maskedServer ? new Ours(source, maskedServer, join(work, 'masked.sqlite'), maskOptions) : undefined;
  try {
    const conn = await admin(source);
    const at = await masterStatus(conn);
    native = await NativeReplica.configure(nativeServer, source, at);
    ours.setPosition(at);
    // Schemas and starting data are replicated by both (untimed).
    await conn.query('CREATE DATABASE sbtest; CREATE DATABASE bulk; CREATE DATABASE steady');
    await conn.query('CREATE TABLE bulk.items (id INT PRIMARY KEY, a INT, b VARCHAR(40), c DOUBLE)');
    await conn.query('CREATE DATABASE big; CREATE TABLE big.rows (id INT PRIMARY KEY, a INT, b VARCHAR(60))');
    await conn.query('CREATE TABLE steady.events (id INT PRIMARY KEY, at DATETIME(6))');
    if (withSysbench) sysbench(source, 'prepare');
    // The masked copy is seeded masked by snapshot, which records its masking for `start` (untimed).
    masked?.snapshot();
    await ours.start();
    await masked?.start();
    const ready = await masterStatus(conn);
    await Promise.all([native.applied(ready), ours.applied(ready), masked?.applied(ready)]);
    await masked?.stop();
    if (scenarios.includes('startup')) results.push(await startup(ours, Math.max(1, num('startup-runs'))));

    const repeat = Math.max(1, num('repeat'));
    /** The appliers caught up with the source (untimed), so a new backlog starts from rest. */
    const settle = async (appliers: readonly Ours[]): Promise<void> => {
      await native!.startApplier();
      for (const o of appliers) {
        await o.stop();
        await o.start();
      }
      const at = await masterStatus(conn);
      await Promise.all([native!.applied(at), ...appliers.map((o) => o.applied(at))]);
    };
    /**
     * Runs a backlog scenario `repeat` times and keeps the median of each side
     * (CPU too, figure by figure): one result per applier of ours, which take
     * turns at catching up first.
     */
    const repeated = async (
      name: string,
      prepare: (run: number) => Promise<void>,
      write: (run: number) => Promise<{ transactions?: number; rows?: number }>,
      appliers: readonly Ours[] = [ours],
    ): Promise<ScenarioResult[]> => {
      const runs: ScenarioResult[][] = [];
      for (let run = 0; run < repeat; run++) {
        await prepare(run);
        await settle(appliers);
        const order = appliers.map((_, i) => (i + run) % appliers.length);
        runs.push(await backlog(name, source, native!, appliers, order, () => write(run)));
      }
      return appliers.map((_, i) => {
        const mine = runs.map((r) => r[i]!);
        const nativeSeconds = median(mine.map((r) => r.nativeSeconds!));
        const oursSeconds = median(mine.map((r) => r.oursSeconds!));
        const cpu = (field: keyof NonNullable<ScenarioResult['cpuSeconds']>): number => median(mine.map((r) => r.cpuSeconds![field]));
        return {
          ...mine[0]!,
          nativeSeconds,
          oursSeconds,
          ratio: nativeSeconds / oursSeconds,
          cpuSeconds: { nativeReplica: cpu('nativeReplica'), oursReplica: cpu('oursReplica'), binlogSync: cpu('binlogSync'), source: cpu('source'), machineIdle: cpu('machineIdle') },
          peakRssMiB: Math.max(...mine.map((r) => r.peakRssMiB!)),
          ...(repeat > 1 ? { runs: mine.map((r) => ({ native: r.nativeSeconds!, ours: r.oursSeconds!, binlogSyncCpu: r.cpuSeconds!.binlogSync })) } : {}),
        };
      });
    };
    if (withSysbench) {
      const events = num('sysbench-events');
      const [r, m] = await repeated(
        'sysbench oltp_write_only',
        async () => undefined,
        async () => {
          sysbench(source, 'run');
          return { transactions: events };
        },
        masked ? [ours, masked] : [ours],
      );
      await masked?.stop();
      r!.identical = await identical(source, [nativeServer, oursServer], ['sbtest']);
      results.push(r!);
      if (m) {
        // Masked, the same backlog: against binlog-sync unmasked, in the same runs.
        const perTransaction = (x: ScenarioResult): number => (x.cpuSeconds!.binlogSync * 1000) / events;
        m.scenario = 'sysbench masked';
        m.unmasked = {
          rules: maskRules,
          seconds: r!.oursSeconds!,
          slowdown: m.oursSeconds! / r!.oursSeconds!,
          ...(m.runs ? { runs: m.runs.map((x, i) => x.ours / r!.runs![i]!.ours) } : {}),
          cpuMsPerTransaction: { unmasked: perTransaction(r!), masked: perTransaction(m) },
        };
        m.identical = await identicalMasked(source, maskedServer!, 'sbtest', new Masker({ rules: maskRules, key: readFileSync(maskKey) }));
        results.push(m);
      }
    }
    /**
     * A scenario writing to one table: each run on a table of its own, created
     * (and replicated) like `base` before the timed backlog.
     */
    const tableScenario = async (name: string, base: string, write: (table: string) => Promise<{ transactions: number; rows: number }>): Promise<void> => {
      const table = (run: number): string => (run === 0 ? base : `${base}_${run}`);
      const [r] = await repeated(
        name,
        async (run) => {
          if (run > 0) await conn.query(`CREATE TABLE ${table(run)} LIKE ${base}`);
        },
        (run) => write(table(run)),
      );
      if (!r) throw new Error('no result');
      r.identical = await identical(source, [nativeServer, oursServer], [base.split('.')[0]!]);
      results.push(r);
    };
    if (scenarios.includes('bulk')) {
      const n = num('bulk-rows');
      await tableScenario('bulk rows', 'bulk.items', async (table) => {
        await conn.query(`INSERT INTO ${table} SELECT seq, seq % 1000, CONCAT('item ', seq), seq / 3 FROM mysql.seq_1_to_${n}`);
        await conn.query(`UPDATE ${table} SET a = a + 1, b = CONCAT(b, "!")`);
        await conn.query(`DELETE FROM ${table} WHERE id <= ${Math.floor(n / 2)}`);
        return { transactions: 3, rows: n + n + Math.floor(n / 2) };
      });
    }
    if (scenarios.includes('big')) {
      // One transaction of n rows: memory must stay flat while it streams through.
      const n = num('big-rows');
      await tableScenario(`one ${n.toLocaleString('en')}-row transaction`, 'big.rows', async (table) => {
        await conn.query(`INSERT INTO ${table} SELECT seq, seq % 1000, CONCAT('row ', seq, ' of the big transaction') FROM mysql.seq_1_to_${n}`);
        return { transactions: 1, rows: n };
      });
    }
    if (scenarios.includes('steady')) {
      const r = await steady(source, native, ours);
      r.identical = await identical(source, [nativeServer, oursServer], ['steady']);
      results.push(r);
    }
    // (Last: its servers are its own, and its binlog file on the source too.)
    if (scenarios.includes('replay')) results.push(await replayScenario(source, num('bulk-rows'), join(REPO, 'bin/binlog-sync.js'), identical));
    if (scenarios.includes('relay')) {
      const options = { cli: join(REPO, 'bin/binlog-sync.js'), events: num('sysbench-events'), threads: num('sysbench-threads'), tables: num('sysbench-tables'), rows: num('sysbench-rows') };
      // (Each run with servers and a NATS of its own; the medians reported, and every run's seconds.)
      const runs: ScenarioResult[][] = [];
      for (let run = 0; run < repeat; run++) runs.push(await relayScenario(source, options, identical));
      results.push(...runs[0]!.map((first, i) => medianOfRuns(first, runs.map((r) => r[i]!))));
    }
    await conn.end();
  } finally {
    await ours.stop();
    await masked?.stop();
    await native?.close();
    await destroyServers(source, nativeServer, oursServer, ...(maskedServer ? [maskedServer] : []));
    rmSync(work, { recursive: true, force: true });
  }

  const report = { date: new Date().toISOString(), node: process.version, peakRssMiB: Math.round(ours.peakRssMiB), results };
  console.log('\nscenario                      native s   ours s   native/ours   identical');
  for (const r of results) {
    if (r.startupMs) {
      const { spawnToStreaming, reported, runs } = r.startupMs;
      console.log(`${r.scenario.padEnd(28)}  spawn to streaming: median ${spawnToStreaming.toFixed(0)} ms (startupMs ${reported.toFixed(0)} ms) over ${runs} starts`);
    } else if (r.latencyMs) {
      console.log(
        `${r.scenario.padEnd(28)}  visibility p50/p99: native ${r.latencyMs.native.p50.toFixed(1)}/${r.latencyMs.native.p99.toFixed(1)} ms, ` +
          `ours ${r.latencyMs.ours.p50.toFixed(1)}/${r.latencyMs.ours.p99.toFixed(1)} ms   ${r.identical}`,
      );
      if (r.peakRssMiB !== undefined) console.log(`${''.padEnd(28)}  peak RSS of binlog-sync: ${r.peakRssMiB} MiB`);
    } else {
      console.log(`${r.scenario.padEnd(28)}  ${r.nativeSeconds!.toFixed(2).padStart(8)} ${r.oursSeconds!.toFixed(2).padStart(8)}   ${r.ratio!.toFixed(2).padStart(11)}   ${r.identical}`);
      if (r.rowPath) console.log(`${''.padEnd(28)}  row path: ${r.rowPath}`);
      if (r.runs) console.log(`${''.padEnd(28)}  runs, native/ours: ${r.runs.map((x) => (x.native / x.ours).toFixed(2)).join(', ')} (medians above)`);
      const c = r.cpuSeconds;
      if (c) console.log(`${''.padEnd(28)}  CPU s: native replica ${c.nativeReplica.toFixed(2)}; ours: replica ${c.oursReplica.toFixed(2)}, binlog-sync ${c.binlogSync.toFixed(2)}, source ${c.source.toFixed(2)}, machine idle ${c.machineIdle.toFixed(2)}`);
      // binlog-sync's own CPU per source transaction and per row change (issue #22's target: 30 µs per sysbench transaction).
      if (c && (r.transactions || r.rows)) {
        const per = (n: number | undefined, what: string): string => (n ? `${((c.binlogSync * 1e6) / n).toFixed(1)} µs per ${what}` : '');
        console.log(`${''.padEnd(28)}  binlog-sync CPU: ${[per(r.transactions, 'transaction'), per(r.rows, 'row change')].filter(Boolean).join(', ')}`);
      }
      const p = r.processCpuSeconds;
      if (p && r.transactions) {
        const each = Object.entries(p).map(([name, s]) => `${name} ${s.toFixed(2)} (${((s * 1e6) / r.transactions!).toFixed(0)} µs/tx)`);
        console.log(`${''.padEnd(28)}  CPU s, start-up included: ${each.join(', ')}`);
      }
      const u = r.unmasked;
      if (u) {
        console.log(
          `${''.padEnd(28)}  masked (${u.rules.join(', ')}) / unmasked: time ${r.oursSeconds!.toFixed(2)} / ${u.seconds.toFixed(2)} s = ${u.slowdown.toFixed(2)}` +
            `${u.runs ? ` (runs ${u.runs.map((x) => x.toFixed(2)).join(', ')})` : ''}; ` +
            `binlog-sync CPU per transaction ${u.cpuMsPerTransaction.masked.toFixed(3)} / ${u.cpuMsPerTransaction.unmasked.toFixed(3)} ms = ${(u.cpuMsPerTransaction.masked / u.cpuMsPerTransaction.unmasked).toFixed(2)}`,
        );
      }
      if (r.peakRssMiB !== undefined) console.log(`${''.padEnd(28)}  peak RSS of binlog-sync: ${r.peakRssMiB} MiB`);
    }
  }
  console.log(`peak RSS of binlog-sync: ${report.peakRssMiB} MiB`);
  mkdirSync(dirname(resolve(flags.out!)), { recursive: true });
  writeFileSync(resolve(flags.out!), `${JSON.stringify(report, null, 2)}\n`);
  console.log(`written to ${flags.out}`);
  if (results.some((r) => !r.identical)) process.exitCode = 1;
}

await main();
