// Keeps the replicator's resident memory near a budget. V8 collects its old
// generation lazily: under a steady stream of short-lived events the heap
// fills with garbage far beyond what is alive (measured: about 40 MiB alive,
// 250+ MiB resident through a million-row backlog). Past the budget, a full
// collection is asked for. Memory that a collection cannot give back (the
// decoding thread, native buffers) must not make it collect over and over: the
// next collection waits until resident memory has grown by a step again.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Resident memory past which a full collection is asked for (MiB). */
export const MEMORY_BUDGET_MIB = 192;
/** Growth after a collection before the next one (MiB). */
const STEP_MIB = 16;
const CHECK_MS = 250;
const MIB = 1024 * 1024;

let collect: (() => void) | undefined;

/** V8's own collector, reachable without starting node with --expose-gc. */
function collector(): () => void {
  if (!collect) {
    setFlagsFromString('--expose-gc');
    collect = runInNewContext('gc') as () => void;
  }
  return collect;
}

let collectScheduled = false;

/**
 * A full collection as soon as the current work is done (its references
 * gone), once however often it is asked for meanwhile; on either thread
 * (the decoding thread has its own heap). For the moment a large value
 * became garbage: V8 would keep it for a while.
 */
export function collectSoon(): void {
  if (collectScheduled) return;
  collectScheduled = true;
  setImmediate(() => {
    collectScheduled = false;
    collector()();
  });
}

/**
 * Decides when to collect: over the budget, and grown by a step since what
 * the last collection left. Pure, for the tests.
 */
export function shouldCollect(rss: number, budget: number, leftByLast: number): boolean {
  return rss > budget && rss > leftByLast + STEP_MIB * MIB;
}

/** How resident memory is read and a collection asked for; tests pass their own. */
export interface MemoryProbes {
  rss: () => number;
  collect: () => void;
}

/** Starts watching; returns the timer (unref'd) for the caller to clear. */
export function watchMemory(budgetMiB = MEMORY_BUDGET_MIB, probes: Partial<MemoryProbes> = {}): NodeJS.Timeout {
  // (V8's collector is reached for when first needed: making it takes a context, and start-up is timed.)
  const gc = probes.collect ?? ((): void => collector()());
  const rss = probes.rss ?? (() => process.memoryUsage.rss());
  const budget = budgetMiB * MIB;
  let leftByLast = 0;
  const timer = setInterval(() => {
    if (!shouldCollect(rss(), budget, leftByLast)) return;
    gc();
    leftByLast = rss();
  }, CHECK_MS);
  timer.unref();
  return timer;
}
