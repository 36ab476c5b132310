// `binlog-sync relay` when its stream is deleted (and made again) under it,
// on a nats-server of the test's own: a relay that has published nothing
// since it started (its source idle) still finds, once it must publish, that
// the stream went back behind the messages its state file says it published,
// and stops, saying so in one line with what to do; started again, it
// publishes into the new stream from its state file's position, and a
// replica that ran through it (its reader would wait for sequences past the
// new stream's) finds the stream changed and reads the new one from its
// position, nothing lost or doubled. So too for a stream deleted while the relay is
// stopped (a new run knows the sequence from its state file).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection } from 'mysql2/promise';
import { adminConnection, eventually, runCli, testServers, uniqueName } from '../support/context.js';
import { untilStreaming } from '../support/replication.js';
import { openRelayBed, type RelayBed } from '../support/relay-bed.js';

const db = uniqueName('relay_gone');
let bed: RelayBed;
let source: Connection;
let replica: Connection;

const relayArgs = (): string[] => ['relay', '--source', testServers().source.userUrl, '--databases', db, '--to', bed.url, '--state', bed.state('relay')];
const relay = (): ReturnType<RelayBed['spawn']> => bed.spawn([...relayArgs(), '--log-level', 'debug']);

async function exited(child: ReturnType<RelayBed['spawn']>, timeoutMs: number): Promise<number | null> {
  await eventually(async () => child.exitCode !== null || child.signalCode !== null, (done) => done, { timeoutMs, intervalMs: 100 });
  return child.exitCode;
}

/** A replica fed by the stream (database `${db}_a`) runs until it has applied the stream's last message; then its rows. */
async function replicaCatchesUp(): Promise<unknown[]> {
  const child = await replicaStreaming();
  const result = await runCli(['wait', '--from', bed.url, '--state', bed.state('a'), '--timeout', '60'], { timeoutMs: 90_000 });
  expect(result.stderr + result.stdout, 'wait for the replica').toMatch(/caught up/);
  expect(await bed.stop(child), child.output().stderr).toBe(0);
  return replicaRows();
}

async function replicaStreaming(): Promise<ReturnType<RelayBed['spawn']>> {
  const child = bed.spawn(['start', '--from', bed.url, '--replica', testServers().replica.userUrl, '--databases', db, '--rewrite-db', `${db}=${db}_a`, '--state', bed.state('a')]);
  await untilStreaming(bed.state('a'), child);
  return child;
}

async function replicaRows(): Promise<unknown[]> {
  const [rows] = await replica.query(`SELECT id, note FROM \`${db}_a\`.t ORDER BY id`);
  return rows as unknown[];
}

beforeAll(async () => {
  bed = await openRelayBed(`GONE_${db.replace(/\W/g, '_')}`);
  source = await adminConnection('source');
  replica = await adminConnection('replica');
  const set = await runCli(['position', 'set', '--current', '--source', testServers().source.userUrl, '--state', bed.state('relay')]);
  expect(set.code, set.stderr).toBe(0);
});

afterAll(async () => {
  await source?.query(`DROP DATABASE IF EXISTS \`${db}\``).catch(() => undefined);
  await replica?.query(`DROP DATABASE IF EXISTS \`${db}_a\``).catch(() => undefined);
  await source?.end();
  await replica?.end();
  await bed?.close();
});

describe('a relay whose stream was deleted', () => {
  it('stops saying so even when it has published nothing since it started, and started again publishes into the new stream', async () => {
    // A first run publishes the database, its table and a row; a replica applies them.
    let run = relay();
    await untilStreaming(bed.state('relay'), run);
    await source.query(`CREATE DATABASE \`${db}\``);
    await source.query(`CREATE TABLE \`${db}\`.t (id INT PRIMARY KEY, note VARCHAR(40))`);
    await source.query(`INSERT INTO \`${db}\`.t VALUES (1, 'before')`);
    const published = await eventually(bed.lastSeq, (n) => n >= 3 || run.exitCode !== null, { timeoutMs: 30_000, intervalMs: 200 });
    expect(published).toBe(3);
    expect(await bed.stop(run), run.output().stderr).toBe(0);
    expect(await replicaCatchesUp()).toEqual([{ id: 1, note: 'before' }]);

    // Started again, the relay has nothing to publish (the source is idle) when the stream is deleted; a replica runs on.
    const live = await replicaStreaming();
    run = relay();
    await untilStreaming(bed.state('relay'), run);
    await bed.jetstream((jsm) => jsm.streams.delete(bed.stream));
    await source.query(`INSERT INTO \`${db}\`.t VALUES (2, 'after the stream was deleted')`);
    const code = await exited(run, 30_000);
    const { stderr } = run.output();
    expect(code, stderr).toBe(1);
    const lastLine = stderr.trim().split('\n').at(-1)!;
    expect(lastLine).toMatch(new RegExp(`the stream ${bed.stream} on nats://127\\.0\\.0\\.1:\\d+/${bed.stream} went back to message 0, behind message 3 this relay published: .*start the relay again`));
    expect(stderr).not.toMatch(/\n\s+at /);
    const status = JSON.parse((await runCli(['status', '--json', '--state', bed.state('relay')])).stdout) as { lastError: { message: string } | null };
    expect(status.lastError?.message).toMatch(/went back to message 0, behind message 3/);

    // Started again (as the error says), it publishes into the new stream from its state file's position...
    run = relay();
    await untilStreaming(bed.state('relay'), run);
    await eventually(bed.lastSeq, (n) => n >= 1 || run.exitCode !== null, { timeoutMs: 30_000, intervalMs: 200 });
    expect(run.exitCode, run.output().stderr).toBeNull();
    // ...and the replica that ran through it finds the stream changed and reads the new one from its position: the row once.
    const rows = await eventually(replicaRows, (r) => r.length >= 2 || live.exitCode !== null, { timeoutMs: 30_000, intervalMs: 200 });
    expect(live.exitCode, live.output().stderr).toBeNull();
    expect(live.output().stderr).toMatch(/the relay's stream \S+ changed under the replica \(it was deleted/);
    expect(await bed.stop(live)).toBe(0);
    expect(rows).toEqual([
      { id: 1, note: 'before' },
      { id: 2, note: 'after the stream was deleted' },
    ]);
    const reached = await bed.lastSeq();
    expect(await bed.stop(run)).toBe(0);

    // Deleted while the relay is stopped: a new run knows the stream's last message from its state file.
    await bed.jetstream((jsm) => jsm.streams.delete(bed.stream));
    const refused = await runCli(relayArgs());
    expect(refused.code, refused.stderr).toBe(1);
    expect(refused.stderr.trim().split('\n').at(-1)).toMatch(new RegExp(`went back to message 0, behind message ${reached} this relay published: .*start the relay again`));
    run = relay();
    await untilStreaming(bed.state('relay'), run);
    await source.query(`INSERT INTO \`${db}\`.t VALUES (3, 'after a second deletion')`);
    await eventually(bed.lastSeq, (n) => n >= 1 || run.exitCode !== null, { timeoutMs: 30_000, intervalMs: 200 });
    expect(await replicaCatchesUp()).toEqual([
      { id: 1, note: 'before' },
      { id: 2, note: 'after the stream was deleted' },
      { id: 3, note: 'after a second deletion' },
    ]);
    expect(await bed.stop(run)).toBe(0);
  });
});
