import { describe, expect, it } from 'vitest';
import { ReplicaTransaction } from '../../../src/apply/replica-transaction.js';

describe('ReplicaTransaction', () => {
  it('opens at the first change, defers whole source transactions, and seals the group', () => {
    const txn = new ReplicaTransaction();
    expect(txn.name).toBe('closed');
    expect(txn.change()).toBe(true);
    expect(txn.change()).toBe(false);
    expect(txn.deferred).toBe(0);
    txn.sourceCommitted();
    expect(txn.name).toBe('between');
    expect(txn.deferred).toBe(1);
    // The next source transaction joins the same replica transaction.
    expect(txn.change()).toBe(false);
    expect(txn.deferred).toBe(1);
    const unit = txn.sourceCommitted();
    expect(unit.transactions).toBe(2);
    expect(txn.seal()).toBe(unit);
    expect(txn.name).toBe('closed');
    expect(txn.unit).toBeUndefined();
  });

  it('refuses to seal in the middle of a source transaction, and a source commit with nothing open', () => {
    const txn = new ReplicaTransaction();
    expect(() => txn.sourceCommitted()).toThrow(/closed, not a state for a source commit/);
    txn.change();
    expect(() => txn.seal()).toThrow(/changing, not a state for sealing/);
    expect(() => txn.recorded()).toThrow(/changing/);
  });

  it('owes the position of what ran alone until it is recorded, even across a rollback', () => {
    const txn = new ReplicaTransaction();
    txn.ranAlone(false);
    expect(txn.name).toBe('ran-alone');
    txn.reset();
    expect(txn.name).toBe('ran-alone');
    txn.recorded();
    expect(txn.name).toBe('closed');
    expect(() => txn.recorded()).toThrow(/closed/);
  });

  it('lets rows follow what ran alone in its group, and a DDL inside a transaction close it', () => {
    const txn = new ReplicaTransaction();
    txn.ranAlone(false);
    expect(txn.change()).toBe(true);
    expect(txn.name).toBe('changing');
    txn.ranAlone(true);
    expect(txn.name).toBe('closed');
  });

  it('rolls back to closed from any open state', () => {
    const txn = new ReplicaTransaction();
    txn.change();
    txn.sourceCommitted();
    txn.change();
    txn.reset();
    expect(txn.name).toBe('closed');
    expect(txn.deferred).toBe(0);
  });
});
