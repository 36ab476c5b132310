// Where the replica transaction stands between apply actions, as named
// states with checked transitions: a step the applier takes in the wrong
// state (sealing a group in the middle of a source transaction, say) is a
// bug that would commit rows without their position, so it fails loudly
// instead of going on.
//
//   closed ──first change──▶ changing ──source commit, deferred──▶ between
//     ▲  ▲                     │  ▲                                  │  │
//     │  └──rollback / DDL ────┘  └──────────next change─────────────┘  │
//     │                                                                 │
//     ├──────────────────────────seal (COMMIT handed over)──────────────┘
//     │
//     └──position recorded── ran-alone ◀──DDL or XA COMMIT/ROLLBACK── closed

import type { ApplyAction } from '../txn/assembler.js';
import type { ApplyContext } from './statement-buffer.js';

/** One replica transaction: the source transactions it holds and its batches' outcomes. */
export interface Unit {
  transactions: number;
  /** Rows of its source transactions so far. */
  rows: number;
  /** When it was opened (performance.now()). */
  openedAt: number;
  /** Its last source transaction's commit: its position is written once, as the unit is sealed. */
  last?: { action: Extract<ApplyAction, { type: 'commit' }>; context: ApplyContext } | undefined;
  /** Records the position of the unit's last source transaction, once the unit is durable. */
  onDurable?: (() => void) | undefined;
  /** Checked results of the batches handed over so far (each settles without throwing). */
  batches: Array<Promise<void>>;
}

export type TransactionState =
  /** No replica transaction is open and no position is owed. */
  | { readonly name: 'closed' }
  /**
   * A DDL or an XA COMMIT/ROLLBACK ran outside any replica transaction (it
   * commits on its own): its source transaction's commit records the position alone.
   */
  | { readonly name: 'ran-alone' }
  /** The open replica transaction holds changes of the source transaction being applied (and maybe whole ones before it). */
  | { readonly name: 'changing'; readonly unit: Unit }
  /** The open replica transaction holds whole source transactions only: a group waiting to be sealed. */
  | { readonly name: 'between'; readonly unit: Unit };

type StateName = TransactionState['name'];

const ALLOWED: { readonly [S in StateName]: readonly StateName[] } = {
  closed: ['changing', 'ran-alone', 'closed'],
  // (Rows may follow a DDL in its own event group: CREATE TABLE ... SELECT.)
  'ran-alone': ['closed', 'changing', 'ran-alone'],
  // (A DDL inside a source transaction commits what is open: closed.)
  changing: ['changing', 'between', 'closed'],
  between: ['changing', 'closed'],
};

const CLOSED: TransactionState = { name: 'closed' };

export class ReplicaTransaction {
  private state: TransactionState = CLOSED;

  get name(): StateName {
    return this.state.name;
  }

  /** The open replica transaction, if any. */
  get unit(): Unit | undefined {
    return 'unit' in this.state ? this.state.unit : undefined;
  }

  /** Source transactions waiting whole in the open replica transaction. */
  get deferred(): number {
    const { state } = this;
    if (state.name === 'between') return state.unit.transactions;
    if (state.name === 'changing') return state.unit.transactions - 1;
    return 0;
  }

  /**
   * A change of the source transaction being applied: opens the replica
   * transaction (true: it was just opened), or counts a new source
   * transaction in the open one.
   */
  change(): boolean {
    const { state } = this;
    if (state.name === 'changing') return false;
    if (state.name === 'between') {
      state.unit.transactions += 1;
      this.move({ name: 'changing', unit: state.unit });
      return false;
    }
    this.move({ name: 'changing', unit: { transactions: 1, rows: 0, openedAt: performance.now(), batches: [] } });
    return true;
  }

  /** The source transaction being applied has committed: its changes wait whole in the open replica transaction. */
  sourceCommitted(): Unit {
    const { state } = this;
    if (state.name !== 'changing') throw this.wrong('a source commit with no change open');
    this.move({ name: 'between', unit: state.unit });
    return state.unit;
  }

  /** The group is sealed (its COMMIT handed over): returns it. Only between source transactions. */
  seal(): Unit {
    const { state } = this;
    if (state.name !== 'between') throw this.wrong('sealing');
    this.move(CLOSED);
    return state.unit;
  }

  /** A DDL or XA end ran on its own; `committedOpen`: it committed the open replica transaction implicitly. */
  ranAlone(committedOpen: boolean): void {
    this.move(committedOpen ? CLOSED : { name: 'ran-alone' });
  }

  /** The position of what ran alone is recorded. */
  recorded(): void {
    if (this.state.name !== 'ran-alone') throw this.wrong('recording what ran alone');
    this.move(CLOSED);
  }

  /**
   * The open replica transaction was rolled back (or never opened): nothing
   * is open. A position still owed for what ran alone stays owed.
   */
  reset(): void {
    if (this.state.name !== 'ran-alone') this.state = CLOSED;
  }

  private move(next: TransactionState): void {
    if (!ALLOWED[this.state.name].includes(next.name)) throw this.wrong(`going to ${next.name}`);
    this.state = next;
  }

  private wrong(step: string): Error {
    return new Error(`internal: the replica transaction is ${this.state.name}, not a state for ${step}`);
  }
}
