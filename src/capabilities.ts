// What this run of `start` may use, as found out while it runs: LOAD DATA
// LOCAL INFILE for large inserts (the replica may refuse it), and the binlog
// decoding thread (a value too large for its heap sends decoding back to the
// main thread). A capability once lost stays off for the rest of the run, so
// later sessions do not trip over the same thing again; a new `start` tries
// again. Logged when lost, and published with the runner's health for
// `status`.
import type { Logger } from './log/logger.js';

export interface CapabilityState {
  /** Large inserts go as LOAD DATA LOCAL INFILE. */
  loadData: boolean;
  /** The binlog is decoded on a worker thread (else on the main thread). */
  decodeThread: boolean;
}

export type Capability = keyof CapabilityState;

export class RunCapabilities {
  private readonly state: CapabilityState;

  constructor(
    private readonly logger: Logger,
    initial: Partial<CapabilityState> = {},
  ) {
    this.state = { loadData: true, decodeThread: true, ...initial };
  }

  get loadData(): boolean {
    return this.state.loadData;
  }

  get decodeThread(): boolean {
    return this.state.decodeThread;
  }

  /** Turns a capability off for the rest of the run, saying why (once). */
  disable(capability: Capability, reason: string): void {
    if (!this.state[capability]) return;
    this.state[capability] = false;
    this.logger.warn({ capability, reason }, `${capability} off for the rest of this run: ${reason}`);
  }

  snapshot(): CapabilityState {
    return { ...this.state };
  }
}
