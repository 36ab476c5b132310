// Exponential backoff with full jitter (AWS architecture blog's "full
// jitter"): retries spread out so a restarted server is not hit by every
// client at the same instant, and never wait longer than `maxMs`.

export interface BackoffOptions {
  initialMs?: number;
  maxMs?: number;
}

/** Delay before retry number `attempt` (1-based). `random` is in [0, 1). */
export function backoffDelay(attempt: number, random: number, options: BackoffOptions = {}): number {
  const initial = options.initialMs ?? 250;
  const max = options.maxMs ?? 30_000;
  const ceiling = Math.min(max, initial * 2 ** Math.max(0, attempt - 1));
  // Never less than the initial delay: a retry storm helps nobody.
  return Math.round(initial + random * Math.max(0, ceiling - initial));
}

/** Resolves after `ms`, or early (false) when the signal aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
