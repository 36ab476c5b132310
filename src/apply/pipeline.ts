// The hand-over pipeline of the apply connection. Statements are handed to
// the driver (which keeps them in order on the one connection) without
// waiting for their answers, so the replica executes while this process
// decodes and builds what follows. One rule keeps it safe: a COMMIT is
// handed over only once every batch of its transaction has answered with the
// row counts expected; until then nothing after it is handed over either.
// `gate` orders the hand-overs; `work` holds what is on its way, for
// backpressure; `done` chains the durability callbacks in source order. The
// first failure stops every later hand-over.

/** Why the pipeline stopped: the error, and how many source transactions its replica transaction held. */
export interface ApplyFailure {
  error: unknown;
  transactions: number;
}

export class HandOverPipeline {
  private gate: Promise<void> = Promise.resolve();
  private work: Array<Promise<void>> = [];
  private done: Promise<void> = Promise.resolve();
  private failure: ApplyFailure | undefined;

  get failed(): ApplyFailure | undefined {
    return this.failure;
  }

  throwIfFailed(): void {
    if (this.failure) throw this.failure.error;
  }

  /** Pieces of work handed over and not yet answered. */
  get inFlight(): number {
    return this.work.length;
  }

  /**
   * Runs `task` once everything handed over before it has been; the task
   * calls `hand` once its own statement is with the driver, letting the next
   * one go. A failure is recorded (with the `transactions` its replica
   * transaction held) and stops every later hand-over.
   */
  handOver(transactions: number, task: (hand: () => void) => Promise<void>): Promise<void> {
    const before = this.gate;
    let hand!: () => void;
    this.gate = new Promise<void>((resolve) => (hand = resolve));
    const result = before
      .then(() => (this.failure ? undefined : task(hand)))
      .catch((error: unknown) => {
        this.failure ??= { error, transactions };
      })
      .finally(hand);
    this.work.push(result);
    return result;
  }

  /**
   * Hands over a COMMIT: only once every batch of its transaction has
   * answered, and nothing of a failed transaction. `onDurable` runs once the
   * COMMIT has answered and every earlier commit is durable.
   */
  commit(transactions: number, batches: Array<Promise<void>>, send: () => Promise<unknown>, onDurable?: () => void): void {
    const previous = this.done;
    this.done = this.handOver(transactions, async (hand) => {
      await Promise.all(batches);
      if (this.failure) return;
      const committed = send();
      hand();
      await committed;
      await previous;
      if (!this.failure) onDurable?.();
    });
  }

  /** Runs `then` once every commit handed over so far is durable (not after a failure). */
  afterDurable(then: () => void): void {
    this.done = this.done.then(() => {
      if (!this.failure) then();
    });
  }

  /** Waits until at most `limit` pieces of work are still on their way. */
  async awaitWork(limit: number): Promise<void> {
    while (this.work.length > limit) await this.work.shift();
  }

  /** Waits until everything handed over has answered and every commit is durable; throws the failure. */
  async idle(): Promise<void> {
    await this.awaitWork(0);
    await this.done;
    this.throwIfFailed();
  }

  /** Waits for everything on its way, then forgets the failure (the caller rolls back); true when there was one. */
  async reset(): Promise<boolean> {
    await this.awaitWork(0);
    await this.done;
    const failed = this.failure !== undefined;
    this.failure = undefined;
    return failed;
  }
}
