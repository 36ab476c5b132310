// `binlog-sync relay` of a MySQL 8 source that compresses its transactions
// (binlog_transaction_compression=ON: one TRANSACTION_PAYLOAD event holds
// BEGIN, the table map, the rows and the XID), and `start --from` its
// stream: the compressed transaction goes whole into one message, the
// replica opens it, and its commit is checkpointed with the message's
// stream sequence, in the replica's row and its state file, so that a
// replica started again reads on from the message after it. No MySQL 8
// server runs here: test/support/recorded-source.ts serves the recorded
// MySQL 8.0.28 file mysql-enum-string-set.000001 over the replication
// protocol, its insert (ending at 1560) made a compressed transaction as
// recorded-source.test.ts does.
import { join } from 'node:path';
import type { Connection } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, adminConnection, dropDatabases, eventually, runCli, testServers, uniqueName } from '../support/context.js';
import { compressTransaction, startRecordedSource, type RecordedSource } from '../support/recorded-source.js';
import { openRelayBed, type RelayBed } from '../support/relay-bed.js';
import { StateStore } from '../../src/state/state-store.js';

const FILE = 'mysql-enum-string-set.000001';
const PATH = join(REPO_ROOT, 'test', 'fixtures', 'binlogs', FILE);
const INSERT_END = 1560;
const TRANSACTION_PAYLOAD = 40;
const XID = 16;
const GTID = 33;

const target = uniqueName('rm8');
let bed: RelayBed;
let recorded: RecordedSource;
let replica: Connection;

/** The stream's messages: where each ends, and the type of each event it holds (after the format description). */
async function streamMessages(): Promise<Array<{ seq: number; position: number; types: number[] }>> {
  const last = await bed.lastSeq();
  return bed.jetstream(async (jsm) => {
    const messages: Array<{ seq: number; position: number; types: number[] }> = [];
    for (let seq = 1; seq <= last; seq++) {
      const m = (await jsm.streams.getMessage(bed.stream, { seq }))!;
      const data = Buffer.from(m.data);
      const types: number[] = [];
      for (let at = 0; at + 19 <= data.length; at += data.readUInt32LE(at + 9)) types.push(data[at + 4]!);
      messages.push({ seq, position: Number(m.header!.get('Binlog-Position')), types: types.slice(1) });
    }
    return messages;
  });
}

async function checkpointOf(name: string): Promise<{ binlog_file: string; binlog_position: string; stream_seq: string | null } | undefined> {
  const store = StateStore.open(bed.state(name), { readonly: true });
  const streamId = store.streamId;
  store.close();
  const [rows] = await replica.query('SELECT binlog_file, binlog_position, stream_seq FROM binlog_sync.positions WHERE stream_id = ?', [streamId]);
  return (rows as Array<{ binlog_file: string; binlog_position: string; stream_seq: string | null }>)[0];
}

beforeAll(async () => {
  bed = await openRelayBed(`MYSQL8_${target.replace(/\W/g, '_')}`);
  replica = await adminConnection('replica');
  recorded = await startRecordedSource({
    path: PATH,
    name: FILE,
    backing: testServers().source.adminUrl,
    upTo: INSERT_END,
    variables: { binlog_transaction_compression: 'ON' },
    transform: (events) => {
      const xid = events.findIndex((e) => e[4] === XID && e.readUInt32LE(13) === INSERT_END);
      const begin = events.findLastIndex((e, i) => i < xid && e[4] === GTID) + 1;
      return compressTransaction(events, begin, xid);
    },
  });
});

afterAll(async () => {
  await bed?.close();
  await recorded?.close();
  await dropDatabases([target]);
  await replica?.end();
});

describe('relay of a MySQL 8 source with compressed transactions', () => {
  it("checkpoints a compressed transaction's commit with its message's stream sequence", async () => {
    let set = await runCli(['position', 'set', '--file', FILE, '--pos', '4', '--state', bed.state('relay')]);
    expect(set.code, set.stderr).toBe(0);
    const relay = bed.spawn(['relay', '--source', recorded.url(), '--databases', 'mysql', '--to', bed.url, '--state', bed.state('relay'), '--log-level', 'debug']);
    // The insert is published: one message, the compressed transaction as the source wrote it.
    const messages = await eventually(streamMessages, (m) => m.some((x) => x.position === INSERT_END) || relay.exitCode !== null, { timeoutMs: 30_000, intervalMs: 300 });
    expect(relay.exitCode, relay.output().stderr).toBeNull();
    const insert = messages.find((m) => m.position === INSERT_END)!;
    expect(insert.types).toEqual([GTID, TRANSACTION_PAYLOAD]);
    expect(insert.seq).toBe(Math.max(...messages.map((m) => m.seq)));

    await replica.query(`CREATE DATABASE ${target}`);
    set = await runCli(['position', 'set', '--file', FILE, '--pos', '4', '--replica', testServers().replica.userUrl, '--state', bed.state('a')]);
    expect(set.code, set.stderr).toBe(0);
    const start = (): ReturnType<RelayBed['spawn']> =>
      bed.spawn(['start', '--from', bed.url, '--replica', testServers().replica.userUrl, '--databases', 'mysql', '--rewrite-db', `mysql=${target}`, '--state', bed.state('a'), '--log-level', 'debug']);
    let a = start();
    await eventually(() => checkpointOf('a'), (c) => Number(c?.binlog_position) === INSERT_END || a.exitCode !== null, { timeoutMs: 30_000, intervalMs: 300 });
    expect(await bed.stop(a), a.output().stderr).toBe(0);

    // The row, and the commit checkpointed with the sequence of the message it came in: the replica's row and state file alike.
    const [rows] = await replica.query({ sql: `SELECT f3, f4 + 0 FROM ${target}.t`, rowsAsArray: true });
    expect(rows).toEqual([['var1', String(0b101)]]);
    expect(await checkpointOf('a')).toMatchObject({ binlog_file: FILE, binlog_position: String(INSERT_END), stream_seq: String(insert.seq) });
    const status = JSON.parse((await runCli(['status', '--json', '--state', bed.state('a')])).stdout) as { applied: { file: string; position: number; streamSeq: number | null } };
    expect(status.applied).toMatchObject({ file: FILE, position: INSERT_END, streamSeq: insert.seq });

    // Started again, the replica reads on from the message after it (one read, no search).
    a = start();
    await eventually(async () => a.output().stderr, (err) => /message \d+ \(after /.test(err) || a.exitCode !== null, { timeoutMs: 30_000, intervalMs: 200 });
    expect(await bed.stop(a)).toBe(0);
    expect(a.output().stderr).toContain(`message ${insert.seq + 1} (after ${FILE}:${INSERT_END}, the message stored with it)`);
    expect(await bed.stop(relay)).toBe(0);
  });
});
