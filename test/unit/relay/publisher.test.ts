// The publishing pipeline against a stream of our own interface (what
// NatsStream offers the publisher): order of durability, the chain of
// expected message ids, and a failure that stops everything after it.
import { describe, expect, it } from 'vitest';
import { Publisher, type Durable } from '../../../src/relay/publisher.js';
import type { CutTransaction } from '../../../src/relay/transaction-cutter.js';

const format = Buffer.alloc(100, 1);
format.writeUInt32LE(100, 9);
format[4] = 15;
function event(bytes: number): Buffer {
  const e = Buffer.alloc(bytes, 2);
  e.writeUInt32LE(bytes, 9);
  return e;
}
const tx = (position: number, sizes = [40]): CutTransaction => ({
  kind: 'transaction',
  events: sizes.map(event),
  format,
  file: 'b.000001',
  position,
  gtid: `0-1-${position}`,
  commitTime: position * 1000,
});

class FakeStream {
  readonly published: Array<{ id: string; after: string | undefined; bytes: number; resolve: () => void; reject: (e: Error) => void }> = [];
  maxPayload = 1024 + 300;
  private seq = 0;
  publish(data: Uint8Array, _headers: Record<string, string>, id: string, after: string | undefined): Promise<{ seq: number; duplicate: boolean }> {
    const seq = ++this.seq;
    return new Promise((resolve, reject) => this.published.push({ id, after, bytes: data.length, resolve: () => resolve({ seq, duplicate: false }), reject }));
  }
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('Publisher', () => {
  it('chains each message to the one before and tells of durability in order, whatever order the acks come in', async () => {
    const stream = new FakeStream();
    const durable: Durable[] = [];
    const publisher = new Publisher(stream, 'b.000001:100', (d) => durable.push(d), (e) => {
      throw e;
    });
    publisher.publish(tx(200), { file: 'b.000001', position: 100 });
    publisher.pass('b.000001', 250, '0-1-7');
    publisher.publish(tx(300, [150, 150]), { file: 'b.000001', position: 200 });
    expect(stream.published.map((p) => [p.id, p.after])).toEqual([
      ['b.000001:200', 'b.000001:100'],
      ['b.000001:300/1of2', 'b.000001:200'],
      ['b.000001:300/2of2', 'b.000001:300/1of2'],
    ]);
    expect(publisher.inFlight).toBe(3);
    stream.published[2]!.resolve();
    stream.published[1]!.resolve();
    await tick();
    expect(durable).toEqual([]);
    stream.published[0]!.resolve();
    await tick();
    await publisher.drained();
    expect(durable.map((d) => [d.position, d.seq])).toEqual([
      [200, 1],
      [250, null],
      [300, 3],
    ]);
    // (A position passed keeps its transaction's GTID: where the relay is, by GTID too.)
    expect(durable[1]!.gtid).toBe('0-1-7');
    expect(publisher.inFlight).toBe(0);
  });

  it('stops at the first failure: nothing after it becomes durable', async () => {
    const stream = new FakeStream();
    const durable: number[] = [];
    const errors: Error[] = [];
    const publisher = new Publisher(stream, undefined, (d) => durable.push(d.position), (e) => errors.push(e));
    publisher.publish(tx(200), { file: 'b.000001', position: 100 });
    publisher.publish(tx(300), { file: 'b.000001', position: 200 });
    expect(stream.published[0]!.after).toBeUndefined();
    stream.published[0]!.reject(new Error('lost'));
    stream.published[1]!.resolve();
    await publisher.drained();
    await tick();
    expect(durable).toEqual([]);
    expect(errors.map((e) => e.message)).toEqual(['lost']);
    expect(publisher.failed).toBe(true);
  });
});
