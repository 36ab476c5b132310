// Keeps the replicator's resident memory near a budget. V8 collects its old
// generation lazily: under a steady stream of short-lived events the heap
// fills with garbage far beyond what is alive (measured: about 40 MiB alive,
// 250+ MiB resident through a million-row backlog). Past the budget, a full
// collection is asked for; it runs at most once per check, so it costs a few
// percent of CPU only while the process is over budget.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Resident memory past which a full collection is asked for (MiB). */
export const MEMORY_BUDGET_MIB = 192;
const CHECK_MS = 250;

let collect: (() => void) | undefined;

/** V8's own collector, reachable without starting node with --expose-gc. */
function collector(): () => void {
  if (!collect) {
    setFlagsFromString('--expose-gc');
    collect = runInNewContext('gc') as () => void;
  }
  return collect;
}

/** Starts watching; returns the timer (unref'd) for the caller to clear. */
export function watchMemory(budgetMiB = MEMORY_BUDGET_MIB): NodeJS.Timeout {
  const gc = collector();
  const limit = budgetMiB * 1024 * 1024;
  const timer = setInterval(() => {
    if (process.memoryUsage.rss() > limit) gc();
  }, CHECK_MS);
  timer.unref();
  return timer;
}
