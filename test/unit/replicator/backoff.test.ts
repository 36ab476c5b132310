import { describe, expect, it } from 'vitest';
import { backoffDelay, sleep } from '../../../src/replicator/backoff.js';

describe('backoffDelay', () => {
  it.each([
    [1, 0, 250],
    [1, 0.999, 250],
    [2, 1, 500],
    [3, 1, 1000],
    [10, 1, 30_000],
    [50, 1, 30_000],
    [50, 0, 250],
  ])('attempt %i with random %f waits %i ms at most', (attempt, random, expected) => {
    expect(backoffDelay(attempt, random)).toBe(expected);
  });

  it('grows exponentially on average and never exceeds the cap', () => {
    const averages = [1, 2, 3, 4, 5].map((attempt) => backoffDelay(attempt, 0.5, { initialMs: 100, maxMs: 1000 }));
    expect(averages).toEqual([100, 150, 250, 450, 550]);
  });
});

describe('sleep', () => {
  it('resolves false at once when aborted', async () => {
    const controller = new AbortController();
    const pending = sleep(60_000, controller.signal);
    controller.abort();
    expect(await pending).toBe(false);
  });

  it('resolves true after the delay', async () => {
    expect(await sleep(5, new AbortController().signal)).toBe(true);
  });
});
