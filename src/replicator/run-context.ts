// What one run of the replicator (replicator.ts) carries from session to
// session: its fence, apply mode, capabilities, progress and events. The
// session (session.ts) and its apply loop (apply-loop.ts) both read it.
import type { BinlogPosition } from '../position.js';
import type { ApplyMode } from '../apply/apply-mode.js';
import type { RunCapabilities } from '../capabilities.js';
import type { RunnerFence } from './fence.js';
import type { RunEvents } from './run-events.js';

export interface ReplicatorStats {
  transactions: number;
  rows: number;
  position: BinlogPosition | null;
}

/** What one run of the replicator carries from session to session (owned by the replicator). */
export interface RunContext {
  readonly fence: RunnerFence;
  /** Grouped, or careful for the next n transactions after a failure: changed by the apply loop only. */
  readonly mode: ApplyMode;
  readonly capabilities: RunCapabilities;
  readonly stats: ReplicatorStats;
  /** A session reached the point of streaming (so a later failure is a fault, not bad set-up). */
  streamed: boolean;
  /** Told as the run goes (see run-events.ts). */
  readonly events: RunEvents;
  /** Replica tables found not to be transactional: their rows are built by the applier (see apply/non-transactional.ts). */
  readonly nonTransactional: Set<string>;
}
