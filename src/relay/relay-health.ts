// What the relay knows of its own freshness, for `status` (through the
// state file's heartbeat) and for its metrics port: connected to the
// source, and how far behind the stream is. Lag is the age, on the
// source's clock, of the oldest transaction read and not yet stored in the
// stream (0 when everything read is stored and the source is alive); the
// same rule as a replica's StreamHealth, with "stored in the stream" for
// "applied".
import type { LiveHealth } from '../health/stream-health.js';
import type { RunnerHealth } from '../state/state-store.js';
import type { Durable } from './publisher.js';

export class RelayHealth implements LiveHealth {
  streaming = false;
  reconnects = 0;
  clockOffsetMs: number | null = null;
  private lastSeenAt = 0;
  /** Source commit times of the transactions read and not yet durable, oldest first. */
  private readonly pending: number[] = [];
  private file: string | null = null;
  private position: number | null = null;
  /** Source commit time (ms) of the last transaction stored in the stream; null before any. */
  lastCommitTime: number | null = null;
  /** The session's publisher while it runs (its messages in flight); null between sessions. */
  private publisher: { readonly inFlight: number } | null = null;

  constructor(private readonly silenceMs = 5000) {}

  /** An event came from the source (heartbeats included). */
  seen(now = Date.now()): void {
    this.lastSeenAt = now;
  }

  /** A transaction committed at `commitTime` (source ms) was read, to be published. */
  read(commitTime: number): void {
    this.pending.push(commitTime);
  }

  /** A transaction (or a position passed) is stored in the stream, in order. */
  durable(d: Durable): void {
    if (d.commitTime !== null) {
      this.pending.shift();
      this.lastCommitTime = d.commitTime;
    }
    this.file = d.file;
    this.position = d.position;
  }

  /** A session ends: what it read and did not store is read again by the next one. */
  ended(): void {
    this.streaming = false;
    this.pending.length = 0;
    this.publisher = null;
  }

  /** The session's publisher, read for the messages in flight (see inFlight). */
  watchPublisher(publisher: { readonly inFlight: number } | null): void {
    this.publisher = publisher;
  }

  /** Messages published and not acknowledged yet. */
  get inFlight(): number {
    return this.publisher?.inFlight ?? 0;
  }

  isConnected(now = Date.now()): boolean {
    return this.streaming && now - this.lastSeenAt <= this.silenceMs;
  }

  get connected(): boolean {
    return this.isConnected();
  }

  lagSeconds(now = Date.now()): number | null {
    if (!this.isConnected(now)) return null;
    const oldest = this.pending[0];
    return oldest === undefined ? 0 : Math.max(0, (now + (this.clockOffsetMs ?? 0) - oldest) / 1000);
  }

  snapshot(now = Date.now()): RunnerHealth {
    const oldest = this.pending[0];
    return {
      sourceConnected: this.isConnected(now),
      lagSeconds: this.lagSeconds(now),
      pending: oldest !== undefined,
      sourceFile: this.file,
      sourcePosition: this.position,
      ...(this.file !== null && this.position !== null && oldest === undefined ? { appliedThroughFile: this.file, appliedThroughPosition: this.position } : {}),
      clockOffsetMs: this.clockOffsetMs,
      reconnects: this.reconnects,
    };
  }
}
