// A runner's hold on its state file, and what happens when it is lost. The
// state file gives each `start` an epoch (a fencing token) when it takes the
// lock; the replica's checkpoint row accepts commits of the newest epoch only
// (apply/checkpoint.ts). This is the runner's own side of it: a heartbeat or
// position write that finds another owner trips the fence, and the runner
// stops at once, rolling back what it has not committed.
import { FencedError } from '../errors.js';
import type { AppliedPosition } from '../position.js';
import type { RunnerHealth, RunnerLease, StateStore } from '../state/state-store.js';

export class RunnerFence {
  private readonly controller = new AbortController();
  private reason: FencedError | undefined;

  constructor(
    readonly state: StateStore,
    readonly lease: RunnerLease,
  ) {}

  /** Aborts once the lease is lost. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get lost(): boolean {
    return this.controller.signal.aborted;
  }

  /** The error a runner that lost its lease stops with: what tripped the fence. */
  get error(): FencedError {
    return (
      this.reason ??
      new FencedError(
        `another \`binlog-sync start\` took over ${this.state.path} while this one was stalled; ` +
          'this one stopped without committing anything more',
      )
    );
  }

  /** Publishes liveness; trips the fence when another runner owns the file now. */
  heartbeat(health?: RunnerHealth): void {
    if (this.lost) return;
    if (!this.state.heartbeat(this.lease, health)) this.trip();
  }

  /** Mirrors a durable position; trips the fence (and writes nothing) when another runner owns the file now. */
  savePosition(position: AppliedPosition): void {
    if (this.lost) return;
    if (!this.state.savePosition(position, this.lease)) this.trip();
  }

  /** Throws the fence's error once it is tripped. */
  check(): void {
    if (this.lost) throw this.error;
  }

  /** Marks the lease lost; `reason` when the replica refused our epoch (the state file may not know yet). */
  trip(reason?: FencedError): void {
    if (this.lost) return;
    this.reason = reason ?? this.error;
    this.controller.abort(this.reason);
  }
}
