// Waits until a freshly started server accepts connections as root (no
// password), as throwaway servers do: the local ones, the Docker ones, and
// the test harness's.
import { connect } from '../db/connect.js';

export interface WaitForServerOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** Returns a reason when waiting is pointless (the process died); checked before each try. */
  gaveUp?: () => string | undefined;
}

/** Resolves once root can connect; rejects with the reason, or the last error at the deadline. */
export async function waitForServer(host: string, port: number, options: WaitForServerOptions): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const reason = options.gaveUp?.();
    if (reason) throw new Error(reason);
    try {
      const conn = await connect({ host, port, user: 'root', sslMode: 'DISABLED' }, 'server', { connectTimeout: 2000 });
      await conn.end();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, options.intervalMs ?? 100));
    }
  }
}
