// The relay's publishing pipeline: transactions go out as fast as the NATS
// server acknowledges them, several in flight, and become durable in
// order. Each message expects the one before it to be the stream's last
// (its message id), so a message lost on the way makes every later one
// fail too: the stream never has a gap, and the relay starts again from
// the stream's last message. Positions passed without a message (other
// databases' transactions) become durable once everything before them is.
import type { NatsStream } from './nats-stream.js';
import { messageId, placeHeaders, transactionPayloads, type MessagePlace } from './message.js';
import type { CutTransaction } from './transaction-cutter.js';

export interface Durable {
  file: string;
  position: number;
  gtid: string | null;
  /** Source commit time (ms) of the transaction published; null for a position passed. */
  commitTime: number | null;
  /** The stream sequence of its (last) message; null for a position passed. */
  seq: number | null;
  /** Its binlog events published (0 for a position passed), and the payload bytes of its messages. */
  events: number;
  bytes: number;
  /** Its messages JetStream dropped as duplicates of ones it holds (published again after a restart). */
  duplicates: number;
}

interface Entry {
  durable: Durable;
  done: Promise<void>;
  settled: boolean;
}

export class Publisher {
  private readonly queue: Entry[] = [];
  private failure: Error | undefined;
  /** Messages (parts) published and not acknowledged yet, and their bytes. */
  inFlight = 0;
  inFlightBytes = 0;

  /**
   * @param lastId the id of the stream's last message (undefined when it is empty)
   * @param onDurable told of each transaction or position, in order, once durable
   * @param onError told once, of the first failure (nothing after it becomes durable)
   */
  constructor(
    private readonly stream: Pick<NatsStream, 'publish' | 'maxPayload'>,
    private lastId: string | undefined,
    private readonly onDurable: (durable: Durable) => void,
    private readonly onError: (error: Error) => void,
  ) {}

  get failed(): boolean {
    return this.failure !== undefined;
  }

  /** Publishes a transaction read after `after` (see MessagePlace.after). */
  publish(tx: CutTransaction, after: { file: string; position: number }): void {
    if (this.failure) return;
    // (Room for the headers: what a message holds besides its payload.)
    const payloads = transactionPayloads(tx.format, tx.events, this.stream.maxPayload - 1024);
    const durable: Durable = { file: tx.file, position: tx.position, gtid: tx.gtid, commitTime: tx.commitTime, seq: null, events: tx.events.length, bytes: 0, duplicates: 0 };
    let seq = 0;
    const parts = payloads.map((payload, i) => {
      const place: MessagePlace = { file: tx.file, position: tx.position, gtid: tx.gtid, commitTime: tx.commitTime, after, part: i + 1, parts: payloads.length };
      const id = messageId(place);
      const expected = this.lastId;
      this.lastId = id;
      this.inFlight += 1;
      this.inFlightBytes += payload.length;
      const landed = (): void => {
        this.inFlight -= 1;
        this.inFlightBytes -= payload.length;
      };
      return this.stream.publish(payload, placeHeaders(place), id, expected).then(
        (ack) => {
          landed();
          seq = Math.max(seq, ack.seq);
          durable.bytes += payload.length;
          if (ack.duplicate) durable.duplicates += 1;
        },
        (error: unknown) => {
          landed();
          throw error;
        },
      );
    });
    this.add(durable, Promise.all(parts).then(() => void (durable.seq = seq)));
  }

  /** A position read past with nothing to publish (with its transaction's GTID, if any): durable after what is in flight. */
  pass(file: string, position: number, gtid: string | null = null): void {
    if (this.failure) return;
    this.add({ file, position, gtid, commitTime: null, seq: null, events: 0, bytes: 0, duplicates: 0 }, Promise.resolve());
  }

  /** Resolves when everything published so far is durable (or failed). */
  async drained(): Promise<void> {
    await Promise.allSettled(this.queue.map((e) => e.done));
  }

  private add(durable: Durable, done: Promise<void>): void {
    const entry: Entry = { durable, done, settled: false };
    this.queue.push(entry);
    done.then(
      () => {
        entry.settled = true;
        this.flush();
      },
      (error: unknown) => this.fail(error as Error),
    );
  }

  /** Tells of the settled entries at the head, in order. */
  private flush(): void {
    while (this.queue.length > 0 && this.queue[0]!.settled && !this.failure) this.onDurable(this.queue.shift()!.durable);
  }

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    this.queue.length = 0;
    this.onError(error);
  }
}
