import { PerformanceObserver, constants } from 'node:perf_hooks';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MEMORY_BUDGET_MIB, shouldCollect, watchMemory } from '../../../src/replicator/memory-budget.js';

const MIB = 1024 * 1024;
/** Growth past what the last collection left before the next one is asked for. */
const REARM_MIB = 16;

describe('shouldCollect', () => {
  it('collects over the budget, then again only after resident memory grew by a step', () => {
    expect(shouldCollect(150 * MIB, 192 * MIB, 0)).toBe(false);
    expect(shouldCollect(200 * MIB, 192 * MIB, 0)).toBe(true);
    // The last collection left 195 MiB (memory it cannot give back): no collecting over and over.
    expect(shouldCollect(200 * MIB, 192 * MIB, 195 * MIB)).toBe(false);
    expect(shouldCollect(210 * MIB, 192 * MIB, 195 * MIB)).toBe(false);
    expect(shouldCollect(212 * MIB, 192 * MIB, 195 * MIB)).toBe(true);
  });
});

describe('watchMemory', () => {
  it('asks V8 for a full collection when resident memory is over the budget (no --expose-gc needed)', async () => {
    const majors: number[] = [];
    const observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        const kind = (entry as unknown as { detail?: { kind?: number } }).detail?.kind;
        if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) majors.push(entry.startTime);
      }
    });
    observer.observe({ entryTypes: ['gc'] });
    const timer = watchMemory(1); // 1 MiB: always over budget
    try {
      await new Promise((r) => setTimeout(r, 600));
    } finally {
      clearInterval(timer);
      observer.disconnect();
    }
    expect(majors.length).toBeGreaterThanOrEqual(1);
  });
});

describe('watchMemory with its memory reading and collector given', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  /**
   * A process whose resident memory the test sets; a collection gives back
   * what is garbage and leaves `retained` (what it cannot give back).
   */
  function fakeProcess(startMiB: number) {
    const proc = {
      rss: startMiB * MIB,
      retained: 0,
      collections: [] as number[],
      collect: () => {
        proc.collections.push(proc.rss);
        proc.rss = proc.retained;
      },
    };
    return proc;
  }

  /** Lets the watcher take `n` more readings. */
  function checks(n: number): void {
    for (let i = 0; i < n; i++) vi.advanceTimersToNextTimer();
  }

  it('asks for a collection once over the budget, and not again before resident memory grew by the re-arm step', () => {
    vi.useFakeTimers();
    const budget = MEMORY_BUDGET_MIB * MIB;
    const proc = fakeProcess(MEMORY_BUDGET_MIB - 1);
    // What a collection leaves: above the budget (the decoding thread, native buffers).
    proc.retained = budget + 3 * MIB;
    const timer = watchMemory(MEMORY_BUDGET_MIB, { rss: () => proc.rss, collect: proc.collect });
    try {
      checks(10);
      expect(proc.collections).toEqual([]); // under the budget

      proc.rss = budget + 1;
      checks(1);
      expect(proc.collections).toEqual([budget + 1]); // asked for at the first reading over the budget
      expect(proc.rss).toBe(proc.retained);

      // Still over the budget, but only by what the collection could not give back.
      checks(10);
      proc.rss = proc.retained + REARM_MIB * MIB; // grown by exactly the step: not yet
      checks(10);
      expect(proc.collections).toEqual([budget + 1]);

      proc.rss = proc.retained + REARM_MIB * MIB + 1;
      checks(1);
      expect(proc.collections).toEqual([budget + 1, proc.retained + REARM_MIB * MIB + 1]);
      checks(10);
      expect(proc.collections).toHaveLength(2);
    } finally {
      clearInterval(timer);
    }
  });

  it('re-arms from what the last collection left, not from the budget', () => {
    vi.useFakeTimers();
    const budget = MEMORY_BUDGET_MIB * MIB;
    const proc = fakeProcess(MEMORY_BUDGET_MIB + 100);
    proc.retained = 10 * MIB; // a collection frees almost everything
    const timer = watchMemory(MEMORY_BUDGET_MIB, { rss: () => proc.rss, collect: proc.collect });
    try {
      checks(1);
      expect(proc.collections).toEqual([budget + 100 * MIB]);
      // Back over the budget: far more than the step above what was left, so at once.
      proc.rss = budget + 1;
      checks(1);
      expect(proc.collections).toEqual([budget + 100 * MIB, budget + 1]);
    } finally {
      clearInterval(timer);
    }
  });
});
