// `binlog-sync relay` and `start --from` through NATS restarts, and the
// stream sequence a `start --from` replica checkpoints. A relay and a
// replica fed by its stream run under a steady write load while the
// nats-server is stopped (SIGTERM, then SIGKILL) and started again on the
// same port with the same JetStream store: both carry on by themselves, and
// the replica ends identical to the source, nothing doubled (a table
// without a key shows a double). The replica's checkpoint row and state
// file hold the sequence of the last message applied, and a replica
// started again reads on from the message after it. A replica whose
// checkpoint table predates the sequence (its column dropped on a replica
// server of this file's own) gets it in place, keeping its position.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection } from 'mysql2/promise';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { adminConnection, backgroundLoad, runCli, spawnCli, tempDir, testServers, uniqueName } from '../support/context.js';
import { expectIdentical } from '../support/compare.js';
import { untilStreaming } from '../support/replication.js';
import { destroyServers, startServer, type ManagedServer, type ServerInfo } from '../support/servers.js';
import { startNats, type TestNats } from '../support/nats.js';
import { StateStore } from '../../src/state/state-store.js';

const db = uniqueName('relay_restart');
const STREAM = `RESTART_${db.replace(/\W/g, '_')}`;
const scratch = tempDir('binlog-sync-relay-restart-');
let server: ManagedServer;
let nats: TestNats;
let source: Connection;
let replica: Connection;
const children: Array<ReturnType<typeof spawnCli>> = [];
const ownReplicas: ManagedServer[] = [];

const streamUrl = (): string => `${nats.url}/${STREAM}`;
const state = (name: string): string => join(scratch.path, `${name}.sqlite`);

function relay(): ReturnType<typeof spawnCli> {
  const child = spawnCli(['relay', '--source', server.info.userUrl, '--databases', db, '--to', streamUrl(), '--state', state('relay'), '--retention-age', '1d', '--log-level', 'debug']);
  children.push(child);
  return child;
}

/** A replica fed by the stream, into database `${db}_${name}` (of the shared replica server, unless another is named). */
function consumer(name: string, on: ServerInfo = testServers().replica): ReturnType<typeof spawnCli> {
  const child = spawnCli(['start', '--from', streamUrl(), '--replica', on.userUrl, '--databases', db, '--rewrite-db', `${db}=${db}_${name}`, '--state', state(name), '--log-level', 'debug']);
  children.push(child);
  return child;
}

async function stop(child: ReturnType<typeof spawnCli>): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  child.kill('SIGTERM');
  await closed;
  return child.exitCode;
}

/** Replica `name` has applied everything the source wrote (the relay first has it all in the stream). */
async function waitFor(name: string): Promise<void> {
  await relayCaughtUp();
  const result = await runCli(['wait', '--from', streamUrl(), '--state', state(name), '--timeout', '90'], { timeoutMs: 120_000 });
  expect(result.stderr + result.stdout, `wait for ${name}`).toMatch(/caught up/);
  expect(result.code).toBe(0);
}

/** The relay has published everything the source wrote (after a restart it may still be in its backoff). */
async function relayCaughtUp(): Promise<void> {
  const result = await runCli(['wait', '--source', server.info.userUrl, '--state', state('relay'), '--timeout', '90'], { timeoutMs: 120_000 });
  expect(result.stderr + result.stdout, 'wait for the relay').toMatch(/caught up/);
  expect(result.code).toBe(0);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function alive(child: ReturnType<typeof spawnCli>, what: string): void {
  expect(child.exitCode, `${what} exited:\n${child.output().stderr.slice(-3000)}\n${child.output().stdout.slice(-3000)}`).toBeNull();
  expect(child.signalCode).toBeNull();
}

/** The stream's messages: the source position each ends at, by sequence. */
async function streamMessages(): Promise<Map<number, { file: string; position: number; part: string }>> {
  const nc = await connect({ servers: nats.url.replace('nats://', '') });
  try {
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info(STREAM);
    const messages = new Map<number, { file: string; position: number; part: string }>();
    for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
      const m = await jsm.streams.getMessage(STREAM, { seq });
      messages.set(seq, { file: m!.header!.get('Binlog-File'), position: Number(m!.header!.get('Binlog-Position')), part: m!.header!.get('Binlog-Part') });
    }
    return messages;
  } finally {
    await nc.close();
  }
}

/** The replica's checkpoint row of a state file's stream. */
async function checkpointOf(name: string, conn: Connection = replica): Promise<{ binlog_file: string; binlog_position: string; stream_seq: string | null }> {
  const store = StateStore.open(state(name), { readonly: true });
  const streamId = store.streamId;
  store.close();
  const [rows] = await conn.query('SELECT binlog_file, binlog_position, stream_seq FROM binlog_sync.positions WHERE stream_id = ?', [streamId]);
  return (rows as Array<{ binlog_file: string; binlog_position: string; stream_seq: string | null }>)[0]!;
}

beforeAll(async () => {
  nats = await startNats();
  server = await startServer({ role: 'source', serverId: 74 });
  source = await adminConnection('source', server.info);
  replica = await adminConnection('replica');
  const set = await runCli(['position', 'set', '--current', '--source', server.info.userUrl, '--state', state('relay')]);
  expect(set.stderr).toBe('');
  expect(set.code).toBe(0);
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const name of ['a']) await replica?.query(`DROP DATABASE IF EXISTS \`${db}_${name}\``).catch(() => undefined);
  await source?.end();
  await replica?.end();
  await destroyServers(server, ...ownReplicas);
  await nats?.stop();
  scratch.cleanup();
});

describe('relay through NATS restarts', () => {
  it('relay and start --from carry on by themselves when nats-server restarts (SIGTERM, SIGKILL), exactly once, and checkpoint the stream sequence', async () => {
    const relayProcess = relay();
    await untilStreaming(state('relay'), relayProcess);
    await source.query(`CREATE DATABASE \`${db}\``);
    await source.query(`CREATE TABLE \`${db}\`.accounts (id INT PRIMARY KEY, balance DECIMAL(20,2) NOT NULL, note VARCHAR(40))`);
    await source.query(`CREATE TABLE \`${db}\`.keyless (k INT, v VARCHAR(20))`);
    let a = consumer('a');
    await untilStreaming(state('a'), a);

    const load = backgroundLoad(
      () => adminConnection('source', server.info),
      async (conn, i) => {
        await conn.query('BEGIN');
        await conn.query(`INSERT INTO \`${db}\`.accounts (id, balance, note) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE balance = balance + 1`, [i % 89, i * 1.25, `n${i}`]);
        await conn.query(`INSERT INTO \`${db}\`.keyless VALUES (?, ?)`, [i, `r${i}`]);
        await conn.query('COMMIT');
        if (i % 50 === 0) await conn.query(`ALTER TABLE \`${db}\`.accounts ADD COLUMN c${i} INT DEFAULT ${i}`);
        // (A steady load, not a flood: the point is transactions in flight when the server goes.)
        if (i % 5 === 0) await sleep(5);
      },
    );
    await sleep(2500);
    // An orderly shutdown, down for a while: the clients reconnect once it is back.
    await nats.restart('SIGTERM', 2000);
    await sleep(4000);
    alive(relayProcess, 'the relay');
    alive(a, 'the replica');
    // A crash: whatever was on its way is lost, or stored without its acknowledgement.
    await nats.restart('SIGKILL', 1000);
    await sleep(4000);
    const steps = await load.stop();
    expect(steps).toBeGreaterThan(100);
    alive(relayProcess, 'the relay');
    alive(a, 'the replica');

    await waitFor('a');
    await expectIdentical(db, `${db}_a`, { source: server.info });
    // Every transaction once in the stream: its messages' positions are distinct, in increasing order.
    const messages = await streamMessages();
    let previous = '';
    for (const [seq, m] of messages) {
      const id = `${m.file}:${String(m.position).padStart(12, '0')}:${m.part}`;
      expect(id > previous, `message ${seq} (${id}) after ${previous}: in order, once`).toBe(true);
      previous = id;
    }

    // The checkpoint holds the sequence of the last message applied, in the replica row and the state file alike.
    const lastSeq = Math.max(...messages.keys());
    const checkpoint = await checkpointOf('a');
    expect(Number(checkpoint.stream_seq)).toBe(lastSeq);
    expect(messages.get(lastSeq)).toMatchObject({ file: checkpoint.binlog_file, position: Number(checkpoint.binlog_position) });
    const status = JSON.parse((await runCli(['status', '--json', '--state', state('a')])).stdout) as { applied: { file: string; position: number; streamSeq: number | null } };
    expect(status.applied).toMatchObject({ file: checkpoint.binlog_file, position: Number(checkpoint.binlog_position), streamSeq: lastSeq });
    const relayStatus = JSON.parse((await runCli(['status', '--json', '--state', state('relay')])).stdout) as { applied: { streamSeq: number | null } };
    expect(relayStatus.applied.streamSeq).toBe(lastSeq);

    // Started again, the replica reads on from the message after the one stored.
    expect(await stop(a)).toBe(0);
    await source.query(`INSERT INTO \`${db}\`.accounts (id, balance, note) VALUES (1000, 1, 'while it was stopped')`);
    a = consumer('a');
    await untilStreaming(state('a'), a);
    await waitFor('a');
    expect(a.output().stderr).toContain(`message ${lastSeq + 1} (after ${checkpoint.binlog_file}:${checkpoint.binlog_position}, the message stored with it)`);
    await expectIdentical(db, `${db}_a`, { source: server.info });

    // A position set by file and offset clears the sequence: found by the position again.
    expect(await stop(a)).toBe(0);
    const at = await checkpointOf('a');
    const set = await runCli(['position', 'set', '--file', at.binlog_file, '--pos', at.binlog_position, '--replica', testServers().replica.userUrl, '--state', state('a')]);
    expect(set.code, set.stderr).toBe(0);
    expect((await checkpointOf('a')).stream_seq).toBeNull();
    const shown = JSON.parse((await runCli(['position', 'show', '--json', '--state', state('a')])).stdout) as { streamSeq: number | null };
    expect(shown.streamSeq).toBeNull();
    a = consumer('a');
    await untilStreaming(state('a'), a);
    await source.query(`INSERT INTO \`${db}\`.accounts (id, balance, note) VALUES (1001, 1, 'after position set')`);
    await waitFor('a');
    expect(a.output().stderr).not.toContain('the message stored with it');
    await expectIdentical(db, `${db}_a`, { source: server.info });
    expect((await checkpointOf('a')).stream_seq).not.toBeNull();

    for (const child of [a, relayProcess]) expect(await stop(child)).toBe(0);
  });

  it('upgrades a replica checkpoint table made before the stream sequence in place, keeping its position', async () => {
    const own = await startServer({ role: 'replica', serverId: 76 });
    ownReplicas.push(own);
    // The replica at the relay's first position (everything of the database is in the stream), then its table made old.
    const first = JSON.parse((await runCli(['position', 'history', '--json', '--state', state('relay')])).stdout) as Array<{ event: string; file: string; position: number }>;
    const start = first.find((e) => e.event === 'set')!;
    const set = await runCli(['position', 'set', '--file', start.file, '--pos', String(start.position), '--replica', own.info.userUrl, '--state', state('old')]);
    expect(set.code, set.stderr).toBe(0);
    const conn = await adminConnection('replica', own.info);
    try {
      await conn.query('ALTER TABLE binlog_sync.positions DROP COLUMN stream_seq');
      const relayProcess = relay();
      await untilStreaming(state('relay'), relayProcess);
      const old = consumer('old', own.info);
      await untilStreaming(state('old'), old);
      await source.query(`INSERT INTO \`${db}\`.accounts (id, balance, note) VALUES (2000, 1, 'for the old table')`);
      await waitFor('old');
      await expectIdentical(db, `${db}_old`, { source: server.info, replica: own.info });
      const [columns] = await conn.query("SELECT COLUMN_NAME AS name FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'binlog_sync' AND TABLE_NAME = 'positions' AND COLUMN_NAME = 'stream_seq'");
      expect(columns).toHaveLength(1);
      const checkpoint = await checkpointOf('old', conn);
      const messages = await streamMessages();
      expect(Number(checkpoint.stream_seq)).toBe(Math.max(...messages.keys()));
      for (const child of [old, relayProcess]) expect(await stop(child)).toBe(0);
    } finally {
      await conn.end();
    }
  });
});
