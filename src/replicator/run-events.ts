// What a run of `start` tells as it goes, typed: a session streams, a
// commit is durable, the apply mode changes, the supervisor retries, the run
// stops. The library's callers and the tests wait on these instead of
// sleeping or reading the log's wording. `relay` tells the same of its
// sessions (streaming, reconnect, stopped), for its status page's marks.
import { EventEmitter } from 'node:events';
import type { ApplyModeState } from '../apply/apply-mode.js';
import type { AppliedPosition, BinlogPosition } from '../position.js';

export interface RunEventMap {
  /** A session streams from the source, from this position. */
  streaming: [{ position: BinlogPosition }];
  /** The replica holds everything up to this position (a replica commit is durable), mirrored to the state file. */
  committed: [{ position: AppliedPosition }];
  /** The apply mode changed (careful after a failed group, grouped again after its transactions). */
  mode: [ApplyModeState];
  /** A session ended in a failure that may pass; the next starts after `delayMs`. */
  reconnect: [{ attempt: number; delayMs: number; error: string }];
  /** The run ended (on the caller's signal, or an error it cannot get past). */
  stopped: [{ position: BinlogPosition | null; error: string | null }];
}

export class RunEvents extends EventEmitter<RunEventMap> {}
