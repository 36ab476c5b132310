// A FIFO between the binlog stream (which pushes synchronously as packets
// arrive) and the applier (which takes one event at a time, asynchronously).
// Past `high` queued weight it asks the stream to pause, and below `low` to
// resume, so a slow replica holds the source back instead of filling memory.
// Items may also come in batches whose items are made only as they are
// taken (the decoding thread's messages, see source/wire-codec.ts): what
// waits in the queue then is bytes, not objects the collector must copy.

export interface EventQueueOptions<T> {
  /** Total weight at which the stream is paused (default 10,000). */
  high?: number;
  /** Total weight at which it is resumed (default 1,000). */
  low?: number;
  onHigh: () => void;
  onLow: () => void;
  /** Weight of one item (default 1), e.g. the rows it carries. */
  weight?: (item: T) => number;
  /**
   * The part of an item's weight that still counts once it is taken, until
   * the consumer is done with it (release): a large row is in memory until
   * then, and the stream must not fetch the next ones meanwhile (default 0).
   */
  held?: (item: T) => number;
}

/** Items made one at a time, as they are taken. */
export interface EventBatch<T> {
  /** Items not yet made. */
  readonly remaining: number;
  next(): T | undefined;
}

/** A batch in the queue, with its weight and how much of it was taken. */
class Batched<T> {
  taken = 0;
  constructor(
    readonly batch: EventBatch<T>,
    readonly weight: number,
  ) {}
}

export class EventQueue<T> {
  private items: Array<T | Batched<T> | undefined> = [];
  private head = 0;
  /** Items waiting, those of batches included. */
  private count = 0;
  private load = 0;
  private waiter: (() => void) | undefined;
  private failure: Error | undefined;
  private paused = false;
  private ended = false;
  private readonly high: number;
  private readonly low: number;

  constructor(private readonly options: EventQueueOptions<T>) {
    this.high = options.high ?? 10_000;
    this.low = options.low ?? 1_000;
  }

  get length(): number {
    return this.count;
  }

  push(item: T): void {
    this.items.push(item);
    this.count += 1;
    this.added(this.options.weight?.(item) ?? 1);
  }

  /**
   * Adds a batch that weighs `weight` in all: as its items are taken, each
   * weighs as push() weighs it, and what is left of `weight` once the
   * batch is spent comes off then.
   */
  pushBatch(batch: EventBatch<T>, weight: number): void {
    if (batch.remaining === 0) return;
    this.items.push(new Batched(batch, weight));
    this.count += batch.remaining;
    this.added(weight);
  }

  private added(weight: number): void {
    this.load += weight;
    if (!this.paused && this.load >= this.high) {
      this.paused = true;
      this.options.onHigh();
    }
    this.wake();
  }

  /** The consumer is done with a taken item: what of its weight was still held no longer counts. */
  release(item: T): void {
    const held = this.options.held?.(item) ?? 0;
    if (held !== 0) this.adjust(-held);
  }

  /**
   * Weight that is not in the queue but counts as if it were (taken items
   * still held downstream): positive to add, negative to take it off again.
   */
  adjust(weight: number): void {
    this.load += weight;
    if (!this.paused && this.load >= this.high) {
      this.paused = true;
      this.options.onHigh();
    } else if (this.paused && this.load <= this.low) {
      this.paused = false;
      this.options.onLow();
    }
  }

  /** The stream has ended (a replay's last file): once drained, next() gives undefined. */
  end(): void {
    this.ended = true;
    this.wake();
  }

  /** The stream has ended and every item was taken. */
  get drained(): boolean {
    return this.ended && this.length === 0;
  }

  /** The stream died: the consumer gets this error once the queue is drained. */
  fail(error: Error): void {
    this.failure ??= error;
    this.wake();
  }

  /** The next item if one waits (and the signal has not aborted), without waiting: else undefined (then see next). */
  poll(signal: AbortSignal): T | undefined {
    return !signal.aborted && this.length > 0 ? this.take() : undefined;
  }

  /** Next item; undefined once the signal aborts. Rejects with the stream's error when drained. */
  async next(signal: AbortSignal): Promise<T | undefined> {
    for (;;) {
      if (signal.aborted) return undefined;
      if (this.length > 0) return this.take();
      if (this.failure) throw this.failure;
      if (this.ended) return undefined;
      await new Promise<void>((resolve) => {
        const onAbort = (): void => resolve();
        signal.addEventListener('abort', onAbort, { once: true });
        this.waiter = () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        };
      });
      this.waiter = undefined;
    }
  }

  private take(): T {
    let item = this.items[this.head]!;
    let weight: number;
    if (item instanceof Batched) {
      const batched = item;
      item = batched.batch.next()!;
      weight = this.options.weight?.(item) ?? 1;
      batched.taken += weight;
      if (batched.batch.remaining > 0) {
        this.count -= 1;
        this.load -= weight - (this.options.held?.(item) ?? 0);
        this.resumeIfLow();
        return item;
      }
      // Spent: the rest of its weight comes off with its last item.
      weight += batched.weight - batched.taken;
    } else {
      weight = this.options.weight?.(item) ?? 1;
    }
    // Let go of it now: a taken event must not live on until the next compaction.
    this.items[this.head] = undefined;
    this.head += 1;
    this.count -= 1;
    this.load -= weight - (this.options.held?.(item) ?? 0);
    // Compact now and then so the array does not grow without bound.
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    this.resumeIfLow();
    return item;
  }

  private resumeIfLow(): void {
    if (this.paused && this.load <= this.low) {
      this.paused = false;
      this.options.onLow();
    }
  }

  private wake(): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.();
  }
}
