import { describe, expect, it } from 'vitest';
import { EventQueue, type EventQueueOptions } from '../../../src/replicator/event-queue.js';

function queue<T>(options: Partial<EventQueueOptions<T>> = {}): { q: EventQueue<T>; calls: string[] } {
  const calls: string[] = [];
  const q = new EventQueue<T>({ onHigh: () => calls.push('high'), onLow: () => calls.push('low'), ...options });
  return { q, calls };
}

/** Lets pending promise callbacks (and timers of 0 ms) run. */
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

/** Tracks whether a promise has settled yet, and how. */
function track<T>(promise: Promise<T>): { state: () => 'pending' | 'resolved' | 'rejected'; value: () => T | undefined; error: () => unknown } {
  let state: 'pending' | 'resolved' | 'rejected' = 'pending';
  let value: T | undefined;
  let error: unknown;
  promise.then(
    (v) => {
      state = 'resolved';
      value = v;
    },
    (e: unknown) => {
      state = 'rejected';
      error = e;
    },
  );
  return { state: () => state, value: () => value, error: () => error };
}

describe('EventQueue: order and waiting', () => {
  it('hands items out first in, first out', async () => {
    const { q } = queue<number>();
    const signal = new AbortController().signal;
    for (const n of [1, 2, 3]) q.push(n);
    expect(q.length).toBe(3);
    expect([await q.next(signal), await q.next(signal), await q.next(signal)]).toEqual([1, 2, 3]);
    expect(q.length).toBe(0);
  });

  it('keeps the order across interleaved pushes and takes (and internal compaction)', async () => {
    const { q } = queue<number>();
    const signal = new AbortController().signal;
    const out: number[] = [];
    for (let i = 0; i < 5000; i++) q.push(i);
    for (let i = 0; i < 4500; i++) out.push((await q.next(signal))!);
    for (let i = 5000; i < 6000; i++) q.push(i);
    while (q.length > 0) out.push((await q.next(signal))!);
    expect(out).toEqual(Array.from({ length: 6000 }, (_, i) => i));
  });

  it('next() waits until an item is pushed', async () => {
    const { q } = queue<string>();
    const pending = track(q.next(new AbortController().signal));
    await settle();
    expect(pending.state()).toBe('pending');
    q.push('a');
    await settle();
    expect(pending.state()).toBe('resolved');
    expect(pending.value()).toBe('a');
  });

  it('a waiting next() takes only one item; the rest stay queued', async () => {
    const { q } = queue<string>();
    const signal = new AbortController().signal;
    const first = q.next(signal);
    q.push('a');
    q.push('b');
    expect(await first).toBe('a');
    expect(q.length).toBe(1);
    expect(await q.next(signal)).toBe('b');
  });
});

describe('EventQueue: abort', () => {
  it('a waiting next() resolves undefined when the signal aborts', async () => {
    const { q } = queue<string>();
    const controller = new AbortController();
    const pending = track(q.next(controller.signal));
    await settle();
    expect(pending.state()).toBe('pending');
    controller.abort();
    await settle();
    expect(pending.state()).toBe('resolved');
    expect(pending.value()).toBeUndefined();
  });

  it('next() with an already aborted signal resolves undefined, even with items queued', async () => {
    const { q } = queue<string>();
    q.push('a');
    expect(await q.next(AbortSignal.abort())).toBeUndefined();
    expect(q.length).toBe(1);
    expect(await q.next(new AbortController().signal)).toBe('a');
  });

  it('after an aborted wait, a new consumer still gets pushed items', async () => {
    const { q } = queue<string>();
    const controller = new AbortController();
    const aborted = q.next(controller.signal);
    controller.abort();
    expect(await aborted).toBeUndefined();
    const next = q.next(new AbortController().signal);
    q.push('b');
    expect(await next).toBe('b');
  });
});

describe('EventQueue: fail', () => {
  it('delivers the items pushed before the failure, then rejects', async () => {
    const { q } = queue<string>();
    const signal = new AbortController().signal;
    const error = new Error('stream died');
    q.push('a');
    q.push('b');
    q.fail(error);
    expect(await q.next(signal)).toBe('a');
    expect(await q.next(signal)).toBe('b');
    await expect(q.next(signal)).rejects.toBe(error);
    // and it keeps rejecting
    await expect(q.next(signal)).rejects.toBe(error);
  });

  it('rejects a waiting next()', async () => {
    const { q } = queue<string>();
    const error = new Error('stream died');
    const pending = track(q.next(new AbortController().signal));
    await settle();
    expect(pending.state()).toBe('pending');
    q.fail(error);
    await settle();
    expect(pending.state()).toBe('rejected');
    expect(pending.error()).toBe(error);
  });

  it('keeps the first error', async () => {
    const { q } = queue<string>();
    const first = new Error('first');
    q.fail(first);
    q.fail(new Error('second'));
    await expect(q.next(new AbortController().signal)).rejects.toBe(first);
  });

  it('an aborted signal wins over the failure', async () => {
    const { q } = queue<string>();
    q.fail(new Error('stream died'));
    expect(await q.next(AbortSignal.abort())).toBeUndefined();
  });
});

describe('EventQueue: back-pressure', () => {
  it('calls onHigh once when the length reaches high, and onLow once when it drops to low', async () => {
    const { q, calls } = queue<number>({ high: 5, low: 2 });
    const signal = new AbortController().signal;
    const trace: Array<[string, number, string[]]> = [];
    const step = (what: string): void => {
      trace.push([what, q.length, [...calls]]);
    };

    for (let i = 1; i <= 4; i++) q.push(i);
    step('pushed 4');
    q.push(5);
    step('pushed 5');
    q.push(6);
    q.push(7);
    step('pushed 7');
    for (let i = 0; i < 4; i++) await q.next(signal);
    step('took 4');
    await q.next(signal);
    step('took 5');
    await q.next(signal);
    await q.next(signal);
    step('took 7');

    expect(trace).toEqual([
      ['pushed 4', 4, []],
      ['pushed 5', 5, ['high']],
      ['pushed 7', 7, ['high']],
      ['took 4', 3, ['high']],
      ['took 5', 2, ['high', 'low']],
      ['took 7', 0, ['high', 'low']],
    ]);
  });

  it('pauses again after resuming', async () => {
    const { q, calls } = queue<number>({ high: 5, low: 2 });
    const signal = new AbortController().signal;
    for (let i = 0; i < 5; i++) q.push(i);
    for (let i = 0; i < 3; i++) await q.next(signal);
    expect(calls).toEqual(['high', 'low']);
    // From 2 back up: pushing to 4 is not enough, 5 is.
    q.push(5);
    q.push(6);
    expect(calls).toEqual(['high', 'low']);
    q.push(7);
    expect(calls).toEqual(['high', 'low', 'high']);
  });

  it('counts weight held downstream as queued: a taken item still held keeps the stream paused until let go', async () => {
    const { q, calls } = queue<number>({ high: 5, low: 2, weight: (n) => n });
    const signal = new AbortController().signal;
    q.push(6);
    expect(calls).toEqual(['high']);
    await q.next(signal);
    expect(calls).toEqual(['high', 'low']);
    // Held from the moment it is handed on: the next large item pauses at once, and taking it does not resume.
    q.adjust(6);
    q.push(1);
    await q.next(signal);
    expect(calls).toEqual(['high', 'low', 'high']);
    q.adjust(-6);
    expect(calls).toEqual(['high', 'low', 'high', 'low']);
  });

  it('keeps the held part of a taken item counted until it is released', async () => {
    const { q, calls } = queue<number>({ high: 5, low: 2, weight: (n) => n, held: (n) => (n >= 5 ? n : 0) });
    const signal = new AbortController().signal;
    q.push(6);
    const item = await q.next(signal);
    // Taken, not done with: still paused.
    expect(calls).toEqual(['high']);
    q.release(item!);
    expect(calls).toEqual(['high', 'low']);
    // A small item holds nothing.
    q.push(1);
    q.release((await q.next(signal))!);
    expect(calls).toEqual(['high', 'low']);
  });

  it('does not call onLow while it was never paused', async () => {
    const { q, calls } = queue<number>({ high: 5, low: 2 });
    const signal = new AbortController().signal;
    for (let i = 0; i < 4; i++) q.push(i);
    for (let i = 0; i < 4; i++) await q.next(signal);
    expect(calls).toEqual([]);
  });

  it('defaults to high 10000 and low 1000', async () => {
    const { q, calls } = queue<number>();
    const signal = new AbortController().signal;
    for (let i = 0; i < 9999; i++) q.push(i);
    expect(calls).toEqual([]);
    q.push(9999);
    expect(calls).toEqual(['high']);
    for (let i = 0; i < 8999; i++) await q.next(signal);
    expect([q.length, calls]).toEqual([1001, ['high']]);
    await q.next(signal);
    expect([q.length, calls]).toEqual([1000, ['high', 'low']]);
  });
});

describe('EventQueue weights', () => {
  it('pauses and resumes by total weight, not by count', async () => {
    const { q, calls } = queue<number>({ high: 10, low: 3, weight: (n) => n });
    const signal = new AbortController().signal;
    q.push(4);
    q.push(5);
    expect(calls).toEqual([]);
    q.push(1); // 10
    expect(calls).toEqual(['high']);
    await q.next(signal); // 6 left
    expect(calls).toEqual(['high']);
    await q.next(signal); // 1 left
    expect(calls).toEqual(['high', 'low']);
  });
});

describe('EventQueue batches (items made as they are taken)', () => {
  /** A batch of `items`, recording when each is made. */
  function batch(items: number[], made: number[]): { remaining: number; next(): number | undefined } {
    let i = 0;
    return {
      get remaining() {
        return items.length - i;
      },
      next() {
        if (i >= items.length) return undefined;
        made.push(items[i]!);
        return items[i++];
      },
    };
  }

  it('hands out a batch in its place among single items, making each item only when it is taken', async () => {
    const { q } = queue<number>();
    const signal = new AbortController().signal;
    const made: number[] = [];
    q.push(1);
    q.pushBatch(batch([2, 3, 4], made), 3);
    q.pushBatch(batch([], made), 0);
    q.push(5);
    expect(q.length).toBe(5);
    expect(await q.next(signal)).toBe(1);
    expect(made).toEqual([]);
    expect(await q.next(signal)).toBe(2);
    expect(made).toEqual([2]);
    expect([q.poll(signal), q.poll(signal), q.poll(signal), q.poll(signal)]).toEqual([3, 4, 5, undefined]);
    expect(q.length).toBe(0);
  });

  it("weighs a batch as its sender says, and takes the rest of that weight off with its last item", () => {
    const { q, calls } = queue<number>({ high: 10, low: 2, weight: (n) => n });
    const signal = new AbortController().signal;
    // (The sender weighed it 12; its items weigh 1 + 1 + 1 here.)
    q.pushBatch(batch([1, 1, 1], []), 12);
    expect(calls).toEqual(['high']);
    q.poll(signal);
    q.poll(signal);
    expect(calls).toEqual(['high']);
    q.poll(signal);
    expect(calls).toEqual(['high', 'low']);
    // Empty, and nothing counted any more: one item of weight 9 does not pause.
    q.push(9);
    expect(calls).toEqual(['high', 'low']);
  });

  it('is drained, and ends, only once the batches are spent', async () => {
    const { q } = queue<number>();
    const signal = new AbortController().signal;
    q.pushBatch(batch([1, 2], []), 2);
    q.end();
    expect(q.drained).toBe(false);
    expect([await q.next(signal), await q.next(signal), await q.next(signal)]).toEqual([1, 2, undefined]);
    expect(q.drained).toBe(true);
  });
});
