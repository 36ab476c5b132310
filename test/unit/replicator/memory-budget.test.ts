import { PerformanceObserver, constants } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { shouldCollect, watchMemory } from '../../../src/replicator/memory-budget.js';

const MIB = 1024 * 1024;

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
