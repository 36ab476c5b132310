import { PerformanceObserver, constants } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { watchMemory } from '../../../src/replicator/memory-budget.js';

describe('watchMemory', () => {
  it('asks V8 for full collections while resident memory is over the budget (no --expose-gc needed)', async () => {
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
      await new Promise((r) => setTimeout(r, 800));
    } finally {
      clearInterval(timer);
      observer.disconnect();
    }
    expect(majors.length).toBeGreaterThanOrEqual(2);
  });
});
