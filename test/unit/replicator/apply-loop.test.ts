// The apply loop in process: real source events through the real assembler,
// into an applier of the test's that records what it is asked and fails
// when told to. The test waits on the run's typed events (committed, mode),
// never on sleeps. (The integration tests run the same loop end to end.)
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ApplyMode } from '../../../src/apply/apply-mode.js';
import type { ApplyFailure, CommitOptions, CommitResult } from '../../../src/apply/replica-applier.js';
import { RunCapabilities } from '../../../src/capabilities.js';
import { ApplyError, CarefulRetryError, UnsupportedEventError } from '../../../src/errors.js';
import { createLogger } from '../../../src/log/logger.js';
import { ApplyLoop, type LoopApplier } from '../../../src/replicator/apply-loop.js';
import { EventQueue } from '../../../src/replicator/event-queue.js';
import { RunnerFence } from '../../../src/replicator/fence.js';
import { RunEvents } from '../../../src/replicator/run-events.js';
import type { RunContext } from '../../../src/replicator/session.js';
import type { RowChange, SourceEvent, TableDef } from '../../../src/source/events.js';
import { StateStore } from '../../../src/state/state-store.js';
import { TransactionAssembler, type ApplyAction } from '../../../src/txn/assembler.js';
import { createFilter } from '../../../src/txn/filter.js';

const FILE = 'mysql-bin.000001';
const rides: TableDef = { database: 'park', table: 'rides', columns: [{ name: 'id', kind: 'plain' }], primaryKey: [0] };
const logger = createLogger({ level: 'silent', write: () => undefined });

/** One source transaction: a GTID (its BEGIN), an insert of `id`, and its XID at `end`. */
function transaction(seq: number, id: number, end: number): SourceEvent[] {
  const header = { file: FILE, timestamp: 1_700_000_000_000 };
  return [
    { type: 'gtid', gtid: `0-1-${seq}`, impliesBegin: true, ...header, nextPosition: 0 },
    { type: 'rows', bytes: 40, kind: 'insert', table: rides, present: [true], rows: [{ after: [id] }], noForeignKeyChecks: false, statementEnd: true, ...header, nextPosition: 0 },
    { type: 'xid', ...header, nextPosition: end },
  ];
}

/** An applier that records each call, commits in groups as asked, and fails a commit when told. */
class RecordingApplier implements LoopApplier {
  readonly calls: string[] = [];
  private waiting: Array<() => void> = [];
  private open = 0;
  failCommitOf: string | undefined;
  failed: ApplyFailure | undefined;
  /** Rows change a table the replica cannot roll back (until the commit). */
  nonTransactionalRows = false;
  changingNonTransactional = false;

  get inTransaction(): boolean {
    return this.open > 0;
  }

  get deferred(): number {
    return this.waiting.length;
  }

  setFormat(): void {
    this.calls.push('format');
  }
  async begin(action: Extract<ApplyAction, { type: 'begin' }>): Promise<void> {
    this.calls.push(`begin ${action.gtid}`);
    this.open = 1;
  }
  async rows(change: RowChange): Promise<void> {
    this.calls.push(`rows ${change.kind} ${change.table.table} ${JSON.stringify(change.rows.map((r) => r.after?.[0]))}`);
    if (this.nonTransactionalRows) this.changingNonTransactional = true;
  }
  async statement(sql: string): Promise<void> {
    this.calls.push(`statement ${sql}`);
  }
  async ddl(action: Extract<ApplyAction, { type: 'ddl' }>): Promise<void> {
    this.calls.push(`ddl ${action.verb}`);
  }
  async xaEnd(): Promise<void> {
    this.calls.push('xa-end');
  }
  async sourceRollback(): Promise<void> {
    this.calls.push('source rollback');
  }
  async commit(action: Extract<ApplyAction, { type: 'commit' }>, options: CommitOptions): Promise<CommitResult> {
    this.open = 0;
    this.changingNonTransactional = false;
    this.calls.push(`commit ${action.gtid}${options.deferrable ? ' (deferred)' : ''}`);
    if (action.gtid === this.failCommitOf) {
      this.failed = { error: new ApplyError(`the row to insert is not on the replica at GTID ${action.gtid}`), transactions: this.waiting.length + 1 };
      throw this.failed.error;
    }
    this.waiting.push(options.onDurable);
    if (options.deferrable) return { outcome: 'deferred', rows: 1 };
    await this.flush();
    return { outcome: 'committed', rows: 1 };
  }
  async flush(): Promise<boolean> {
    if (this.waiting.length === 0) return false;
    this.calls.push('seal');
    const durable = this.waiting;
    this.waiting = [];
    durable.at(-1)!();
    return true;
  }
  async idle(): Promise<void> {}
  async rollback(): Promise<void> {
    this.calls.push('rollback');
    this.waiting = [];
    this.open = 0;
    this.failed = undefined;
  }
}

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function setUp(events: SourceEvent[]): { loop: ApplyLoop; run: RunContext; applier: RecordingApplier; state: StateStore; queue: EventQueue<SourceEvent> } {
  const dir = mkdtempSync(join(tmpdir(), 'binlog-sync-loop-'));
  dirs.push(dir);
  const state = StateStore.open(join(dir, 'state.sqlite'), { create: true });
  const fence = new RunnerFence(state, state.acquireRunner({ pid: process.pid, hostname: 'test' }));
  const run: RunContext = {
    fence,
    mode: new ApplyMode(),
    capabilities: new RunCapabilities(undefined),
    stats: { transactions: 0, rows: 0, position: { file: FILE, position: 4, gtid: null } },
    streamed: true,
    events: new RunEvents(),
    nonTransactional: new Set(),
  };
  run.mode.onChange((mode) => run.events.emit('mode', mode));
  const queue = new EventQueue<SourceEvent>({ onHigh: () => undefined, onLow: () => undefined });
  for (const event of events) queue.push(event);
  const assembler = new TransactionAssembler({
    filter: createFilter({ databases: ['park'], includeTables: [], excludeTables: [], rewriteDb: {} }),
    start: { file: FILE, position: 4, gtid: null },
    gtidKnown: false,
  });
  const applier = new RecordingApplier();
  const loop = new ApplyLoop({ queue, assembler, applier, run, logger, health: undefined, metrics: undefined, readDefinition: async () => '' });
  return { loop, run, applier, state, queue };
}

describe('the apply loop', () => {
  it('groups the transactions waiting in the queue into one commit, and records the last position once durable', async () => {
    const { loop, run, applier, state } = setUp([...transaction(1, 10, 500), ...transaction(2, 11, 600), ...transaction(3, 12, 700)]);
    const stop = new AbortController();
    const committed = once(run.events, 'committed');
    const running = loop.loop(stop.signal);
    const [{ position }] = await committed;
    stop.abort();
    await running;
    expect(position).toMatchObject({ file: FILE, position: 700 });
    expect(state.getPosition()).toMatchObject({ file: FILE, position: 700 });
    expect(applier.calls).toEqual([
      'begin 0-1-1',
      'rows insert rides [10]',
      'commit 0-1-1 (deferred)',
      'begin 0-1-2',
      'rows insert rides [11]',
      'commit 0-1-2 (deferred)',
      'begin 0-1-3',
      'rows insert rides [12]',
      // The queue ran dry: the last commit seals the group.
      'commit 0-1-3',
      'seal',
    ]);
    expect(run.stats.transactions).toBe(3);
    state.close();
  });

  it('after a failed group, rolls back and applies its transactions one at a time (careful mode)', async () => {
    const { loop, run, applier, state } = setUp([...transaction(1, 10, 500), ...transaction(2, 11, 600), ...transaction(3, 12, 700)]);
    applier.failCommitOf = '0-1-2';
    const mode = once(run.events, 'mode');
    const failure = loop.loop(new AbortController().signal).catch((error: unknown) => error);
    expect((await mode)[0]).toEqual({ kind: 'careful', left: 2 });
    const error = await failure;
    expect(error).toBeInstanceOf(CarefulRetryError);
    expect((error as CarefulRetryError).cause).toBeInstanceOf(ApplyError);
    expect(applier.calls.slice(-2)).toEqual(['commit 0-1-2 (deferred)', 'rollback']);
    // Nothing of the failed group is recorded.
    expect(state.getPosition()).toBeNull();
    state.close();
  });

  it('stops on a statement it cannot apply faithfully, after making the group before it durable', async () => {
    // A statement-based INSERT into a replicated table: its rows are not in the binlog.
    const refused: SourceEvent = { type: 'query', sql: 'INSERT INTO park.rides VALUES (99)', database: 'park', file: FILE, nextPosition: 900, timestamp: 1_700_000_000_000 };
    const { loop, applier, state } = setUp([...transaction(1, 10, 500), ...transaction(2, 11, 600), refused]);
    const error = await loop.loop(new AbortController().signal).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsupportedEventError);
    expect((error as Error).message).toMatch(/stopped at the statement at after mysql-bin\.000001:600 \(binlog-sync does not apply INSERT statements\): INSERT INTO park\.rides VALUES \(99\)/);
    // (A statement outside a transaction is a unit of its own: it begins, then the group before it is sealed.)
    expect(applier.calls.slice(-3)).toEqual(['commit 0-1-2 (deferred)', 'begin null', 'seal']);
    expect(state.getPosition()).toMatchObject({ position: 600 });
    state.close();
  });

  it('on a stop, waits for the end of a transaction that has changed a table the replica cannot roll back', async () => {
    const [gtid, rows, xid] = transaction(1, 10, 500);
    const { loop, applier, state, queue } = setUp([gtid!, rows!]);
    applier.nonTransactionalRows = true;
    const stop = new AbortController();
    const running = loop.loop(stop.signal);
    while (!applier.calls.includes('rows insert rides [10]')) await new Promise((r) => setImmediate(r));
    stop.abort();
    // The rest of the transaction arrives after the stop was asked for: applied, and only then the loop ends.
    await new Promise((r) => setTimeout(r, 50));
    queue.push(xid!);
    await running;
    expect(applier.calls.slice(-2)).toEqual(['commit 0-1-1', 'seal']);
    expect(state.getPosition()).toMatchObject({ file: FILE, position: 500 });
    state.close();
  });

  it('on a stop, does not wait for the end of a transaction that changed transactional tables only', async () => {
    const [gtid, rows] = transaction(1, 10, 500);
    const { loop, applier, state } = setUp([gtid!, rows!]);
    const stop = new AbortController();
    const running = loop.loop(stop.signal);
    while (!applier.calls.includes('rows insert rides [10]')) await new Promise((r) => setImmediate(r));
    stop.abort();
    await running;
    expect(applier.calls).not.toContain('commit 0-1-1');
    state.close();
  });
});
