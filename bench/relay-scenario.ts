// The bench's `relay` scenario (issue #25): a sysbench backlog (oltp_write_only
// into a database of its own) caught up by replicas of its own, each alone
// and timed from rest: by `binlog-sync start` reading the source, and by
// `binlog-sync relay` into a NATS JetStream stream (a nats-server of its own,
// see test/support/nats.ts) with `binlog-sync start --from` on it, started
// together. Then a third replica catches up from the stream alone, the
// backlog relayed already: a developer's laptop coming back, the relay
// having run all along. The schemas and sysbench's prepared rows reach them
// all first, untimed. Each ratio is direct / relayed: 1 is as fast, the
// issue asks for 0.8 or more.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { compareFilePositions, type BinlogPosition } from '../src/position.js';
import { StateStore } from '../src/state/state-store.js';
import { destroyServers, startServer, type ManagedServer } from '../test/support/servers.js';
import { startNats } from '../test/support/nats.js';
import { cpuSeconds } from './proc.js';

export interface RelayScenarioResult {
  scenario: string;
  /** `start` from the source, seconds (the "native" column of the report). */
  nativeSeconds: number;
  /** `relay` and `start --from`, seconds. */
  oursSeconds: number;
  ratio: number;
  transactions: number;
  identical: boolean;
  /** CPU seconds each process of ours (and NATS) used in the timed part, start-up included. */
  processCpuSeconds: Record<string, number>;
}

export interface RelayScenarioOptions {
  cli: string;
  events: number;
  threads: number;
  tables: number;
  rows: number;
}

const DATABASE = 'relaybench';

export async function relayScenario(
  source: ManagedServer,
  options: RelayScenarioOptions,
  identical: (source: ManagedServer, replicas: ManagedServer[], databases: string[]) => Promise<boolean>,
): Promise<RelayScenarioResult[]> {
  const work = mkdtempSync(join(tmpdir(), 'binlog-sync-bench-relay-'));
  const nats = await startNats();
  const [direct, fed, later] = await Promise.all([
    startServer({ role: 'replica', serverId: 21 }),
    startServer({ role: 'replica', serverId: 22 }),
    startServer({ role: 'replica', serverId: 23 }),
  ]);
  const stream = `${nats.url}/RELAYBENCH`;
  const state = (name: string): string => join(work, `${name}.sqlite`);
  // BENCH_CPU_PROF: each process's CPU profiles into a folder of that folder named for its part.
  const profile = (part: string): string[] => (process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', join(process.env.BENCH_CPU_PROF, part)] : []);
  const run = (args: string[], part: string): ChildProcess =>
    spawn(process.execPath, [...profile(part), options.cli, ...args, '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const startDirect = (): ChildProcess => run(['start', '--source', source.info.userUrl, '--replica', direct.info.userUrl, '--databases', DATABASE, '--state', state('direct')], 'direct');
  const startRelay = (): ChildProcess => run(['relay', '--source', source.info.userUrl, '--databases', DATABASE, '--to', stream, '--state', state('relay')], 'relay');
  const startFed = (): ChildProcess => run(['start', '--from', stream, '--replica', fed.info.userUrl, '--databases', DATABASE, '--state', state('fed')], 'fed');
  const startLater = (): ChildProcess => run(['start', '--from', stream, '--replica', later.info.userUrl, '--databases', DATABASE, '--state', state('later')], 'later');
  const conn = await mysql.createConnection({ uri: source.info.adminUrl, multipleStatements: true });
  try {
    // Both from before the database exists: its DDL and sysbench's prepared rows reach both (untimed).
    const begin = await masterStatus(conn);
    cli(options.cli, ['position', 'set', '--file', begin.file!, '--pos', String(begin.position), '--replica', direct.info.userUrl, '--state', state('direct')]);
    cli(options.cli, ['position', 'set', '--file', begin.file!, '--pos', String(begin.position), '--state', state('relay')]);
    await conn.query(`CREATE DATABASE ${DATABASE}`);
    sysbench(source, options, 'prepare');
    const prepared = await masterStatus(conn);
    // (The relay makes the stream: the consumers are started once it streams.)
    let children = [startDirect(), startRelay()];
    await streaming(state('relay'));
    children.push(startFed(), startLater());
    await Promise.all([applied(state('direct'), prepared), applied(state('fed'), prepared), applied(state('later'), prepared)]);
    for (const child of children) await stop(child);

    // The backlog, written with everything stopped.
    sysbench(source, options, 'run');
    const target = await masterStatus(conn);

    // (CPU read when the target is reached, before the processes are stopped; a process's CPU from its start.)
    const cpuOf = (named: Record<string, ChildProcess | number | undefined>): Record<string, number> =>
      Object.fromEntries(Object.entries(named).map(([name, p]) => [name, typeof p === 'object' ? cpuSeconds(p.pid) : cpuSeconds(p)]));
    let started = performance.now();
    let natsCpu = cpuSeconds(nats.pid);
    children = [startDirect()];
    await applied(state('direct'), target);
    const nativeSeconds = (performance.now() - started) / 1000;
    const directCpu = cpuOf({ start: children[0] });
    for (const child of children) await stop(child);

    started = performance.now();
    natsCpu = cpuSeconds(nats.pid);
    children = [startRelay(), startFed()];
    await applied(state('fed'), target);
    const oursSeconds = (performance.now() - started) / 1000;
    const relayedCpu = { ...cpuOf({ relay: children[0], 'start --from': children[1] }), nats: cpuSeconds(nats.pid) - natsCpu };
    for (const child of children) await stop(child);

    // The backlog is in the stream now: a replica that was away catches up from it alone.
    started = performance.now();
    natsCpu = cpuSeconds(nats.pid);
    children = [startLater()];
    await applied(state('later'), target);
    const laterSeconds = (performance.now() - started) / 1000;
    const laterCpu = { ...cpuOf({ 'start --from': children[0] }), nats: cpuSeconds(nats.pid) - natsCpu };
    for (const child of children) await stop(child);

    const same = await identical(source, [direct, fed, later], [DATABASE]);
    return [
      { scenario: `relay+consumer (${options.events} tx)`, nativeSeconds, oursSeconds, ratio: nativeSeconds / oursSeconds, transactions: options.events, identical: same, processCpuSeconds: { ...directCpu, ...relayedCpu } },
      { scenario: `consumer of relayed backlog`, nativeSeconds, oursSeconds: laterSeconds, ratio: nativeSeconds / laterSeconds, transactions: options.events, identical: same, processCpuSeconds: { ...directCpu, ...laterCpu } },
    ];
  } finally {
    await conn.query(`DROP DATABASE IF EXISTS ${DATABASE}`).catch(() => undefined);
    await conn.end();
    await destroyServers(direct, fed, later);
    await nats.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

function cli(path: string, args: string[]): void {
  const r = spawnSync(process.execPath, [path, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`binlog-sync ${args.join(' ')} failed: ${r.stderr}`);
}

function sysbench(source: ManagedServer, options: RelayScenarioOptions, command: 'prepare' | 'run'): void {
  const args = [
    'oltp_write_only',
    '--mysql-host=127.0.0.1',
    `--mysql-port=${source.info.port}`,
    '--mysql-user=root',
    `--mysql-db=${DATABASE}`,
    `--tables=${options.tables}`,
    `--table-size=${options.rows}`,
    ...(command === 'run' ? [`--threads=${options.threads}`, `--events=${options.events}`, '--time=0', '--report-interval=0'] : []),
    command,
  ];
  const r = spawnSync('sysbench', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`sysbench ${command} failed (apt-get install sysbench): ${r.stderr || r.stdout}`);
}

async function masterStatus(conn: mysql.Connection): Promise<BinlogPosition> {
  const [rows] = await conn.query('SHOW MASTER STATUS');
  const row = (rows as Array<{ File: string; Position: string | number }>)[0]!;
  return { file: row.File, position: Number(row.Position), gtid: null };
}

/** Until the state file's position is at `target` (the backlog's last transaction is ours: the position reaches it). */
async function applied(path: string, target: BinlogPosition): Promise<void> {
  const deadline = Date.now() + 30 * 60_000;
  for (;;) {
    try {
      const state = StateStore.open(path, { readonly: true });
      try {
        const at = state.getPosition();
        if (at && (compareFilePositions(at, target) ?? -1) >= 0) return;
      } finally {
        state.close();
      }
    } catch {
      // (Not made yet.)
    }
    if (Date.now() > deadline) throw new Error(`${path} did not reach ${target.file}:${target.position}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Until the runner of a state file says its stream is alive. */
async function streaming(path: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const state = StateStore.open(path, { readonly: true });
      try {
        if (state.activeRunner()?.health?.sourceConnected) return;
      } finally {
        state.close();
      }
    } catch {
      // (Not made yet.)
    }
    if (Date.now() > deadline) throw new Error(`${path}: not streaming after 60 s`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const closed = new Promise((resolve) => child.once('close', resolve));
  child.kill('SIGTERM');
  await closed;
}
