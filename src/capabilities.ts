// What this run of `start` may use, as found out while it runs: BINLOG
// statements, by which the replica applies row events itself (its user may
// lack the privilege, or the replica may not read the source's events), LOAD
// DATA LOCAL INFILE for large inserts (the replica may refuse it), and the
// binlog decoding thread (a value too large for its heap sends decoding back
// to the main thread). A capability once lost stays off for the rest of the run, so
// later sessions do not trip over the same thing again; a new `start` tries
// again. Logged when lost, and published with the runner's health for
// `status`.
import type { Logger } from './log/logger.js';

export interface CapabilityState {
  /** Row events go to the replica as BINLOG statements (else as SQL statements built here). */
  binlogStatements: boolean;
  /** Large inserts go as LOAD DATA LOCAL INFILE. */
  loadData: boolean;
  /** The binlog is decoded on a worker thread (else on the main thread). */
  decodeThread: boolean;
}

export type Capability = keyof CapabilityState;

/**
 * What the applier may use this run: BINLOG statements and LOAD DATA, each
 * lost for the rest of the run once the replica refuses it.
 */
export interface ApplierCapabilities {
  readonly loadData: boolean;
  readonly binlogStatements: boolean;
  disable(capability: 'loadData' | 'binlogStatements', reason: string, level?: 'warn' | 'info'): void;
}

export class RunCapabilities {
  private readonly state: CapabilityState;

  /** `logger`: where a loss is told (none for a one-off command, which has no run to speak of). */
  constructor(
    private readonly logger: Logger | undefined,
    initial: Partial<CapabilityState> = {},
  ) {
    this.state = { binlogStatements: true, loadData: true, decodeThread: true, ...initial };
  }

  get binlogStatements(): boolean {
    return this.state.binlogStatements;
  }

  get loadData(): boolean {
    return this.state.loadData;
  }

  get decodeThread(): boolean {
    return this.state.decodeThread;
  }

  /**
   * Turns a capability off for the rest of the run, saying why (once): a
   * warning when something failed, information when a setting rules it out.
   */
  disable(capability: Capability, reason: string, level: 'warn' | 'info' = 'warn'): void {
    if (!this.state[capability]) return;
    this.state[capability] = false;
    this.logger?.[level]({ capability, reason }, `${capability} off for the rest of this run: ${reason}`);
  }

  snapshot(): CapabilityState {
    return { ...this.state };
  }
}
