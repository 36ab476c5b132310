// How transactions are applied, with one owner (the replicator) and named
// transitions, as graphile-worker's local queue keeps its modes:
//
// - grouped: the normal way. Consecutive source transactions share one
//   replica commit, statements go several per round trip and pipelined, and
//   the decoding thread builds them ahead.
// - careful, n left: after a group failed. The next n source transactions
//   are applied one at a time, each statement alone and built on the main
//   thread, so the failing one stands alone with its exact error and
//   position. Back to grouped after the n-th commit.
//
// The applier and the stream only read the mode; the apply loop changes it,
// through carefulFor() and committed(), and listeners hear every change.

export type ApplyModeState = { kind: 'grouped' } | { kind: 'careful'; left: number };

/** What the applier reads. */
export interface ApplyModeView {
  readonly grouped: boolean;
}

export class ApplyMode implements ApplyModeView {
  private state: ApplyModeState = { kind: 'grouped' };
  private readonly listeners = new Set<(state: ApplyModeState) => void>();

  get current(): ApplyModeState {
    return this.state;
  }

  get grouped(): boolean {
    return this.state.kind === 'grouped';
  }

  /** A replica transaction holding `transactions` source transactions failed: apply that many one at a time. */
  carefulFor(transactions: number): void {
    if (!Number.isSafeInteger(transactions) || transactions < 1) throw new RangeError(`careful mode needs a positive count, got ${transactions}`);
    this.set({ kind: 'careful', left: transactions });
  }

  /** A source transaction was committed (or found to change nothing here): one fewer to apply carefully. */
  committed(): void {
    if (this.state.kind !== 'careful') return;
    this.set(this.state.left > 1 ? { kind: 'careful', left: this.state.left - 1 } : { kind: 'grouped' });
  }

  /** Calls `listener` on every change; returns the way to stop listening. */
  onChange(listener: (state: ApplyModeState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private set(next: ApplyModeState): void {
    this.state = next;
    for (const listener of this.listeners) listener(next);
  }
}
