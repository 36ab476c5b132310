// What the running replicator knows of its own freshness. Lag is the age of
// the oldest change the source has sent that the replica does not show yet,
// on the source's clock (measured offset applied); 0 when everything sent is
// applied and the stream is alive. Event times have one-second resolution.
import type { ApplyModeState } from '../apply/apply-mode.js';
import type { CapabilityState } from '../capabilities.js';
import type { RunnerHealth } from '../state/state-store.js';
import type { SourceEvent } from '../source/events.js';
import type { WireEvent } from '../source/wire-codec.js';

/**
 * What the metrics port reads of a run's health, whatever the run: this
 * StreamHealth for `start`, the relay's RelayHealth for `relay`.
 */
export interface LiveHealth {
  lagSeconds(now?: number): number | null;
  readonly connected: boolean;
  snapshot(now?: number): RunnerHealth;
}

/** Where every binlog file's first event starts (after its 4-byte magic number). */
const BINLOG_START = 4;

/** Tables listed as taking the SQL path at most (the state file is written every second). */
const MAX_SQL_TABLES = 100;

export class StreamHealth implements LiveHealth {
  /** Source time (ms) of the oldest change received but not yet applied; null when settled. */
  private pendingSince: number | null = null;
  private lastSeenAt = 0;
  private streaming = false;
  clockOffsetMs: number | null = null;
  sourceFile: string | null = null;
  sourcePosition: number | null = null;
  /**
   * Where this stream has got to: the last file and offset that belong
   * together (a rotate to offset 0 is the start of its file). Forgotten when
   * the stream ends: the next one starts again from the committed position.
   */
  // (Two fields, not an object: set for every event.)
  private seenFile: string | null = null;
  private seenPosition = 0;
  /**
   * The source position through which everything the stream delivered was
   * applied and is durable, as of the last time nothing was pending (see
   * settled): what `wait` may trust beside the stored position, e.g. idle
   * after a rotation, where no transaction moves the stored position.
   */
  private appliedThrough: { file: string; position: number } | null = null;
  reconnects = 0;
  /** How this run applies and what it may use, read at each snapshot. */
  private run: { mode: { current: ApplyModeState }; capabilities: { snapshot(): CapabilityState } } | undefined;

  /** Tables whose rows went as SQL statements on a run of the BINLOG path (see sqlPath). */
  private readonly sqlTables = new Set<string>();

  /** The session's queue of events received and not yet taken by the apply loop; null between sessions. */
  private queue: { readonly length: number } | null = null;

  constructor(private readonly silenceMs = 5000) {}

  /** Read for the status page's queue depth chart (see watchQueue). */
  get queueDepth(): number {
    return this.queue?.length ?? 0;
  }

  /** The session's event queue while it streams (null when it ends). */
  watchQueue(queue: { readonly length: number } | null): void {
    this.queue = queue;
  }

  /** Rows of `table` (as on the replica) were applied as SQL statements (see row-applier.ts). */
  sqlPath(table: string): void {
    if (this.sqlTables.size < MAX_SQL_TABLES) this.sqlTables.add(table);
  }

  /** Where to read the run's apply mode and capabilities from. */
  describeRun(mode: { current: ApplyModeState }, capabilities: { snapshot(): CapabilityState }): void {
    this.run = { mode, capabilities };
  }

  /** The stream started (true) or ended (false). */
  setStreaming(streaming: boolean, now = Date.now()): void {
    this.streaming = streaming;
    this.lastSeenAt = now;
    // A new stream resumes from the committed position: what the old one saw
    // (maybe rolled back since, and applied again now) proves nothing.
    this.seenFile = null;
    if (!streaming) this.pendingSince = null;
  }

  /** An event arrived from the source (as it travelled from the decoding thread will do: its table is not looked at). */
  observe(event: SourceEvent | WireEvent, now = Date.now()): void {
    this.lastSeenAt = now;
    if (event.type === 'rotate' || event.type === 'heartbeat') {
      this.sourceFile = event.file;
      if (event.position > 0) this.sourcePosition = event.position;
      if (event.position > 0) this.see(event.file, event.position);
      else if (event.type === 'rotate') this.see(event.file, BINLOG_START);
      return;
    }
    if (event.type === 'format') return;
    this.observePlace(event.file, event.nextPosition, event.timestamp, now);
  }

  /** An event other than a rotate, heartbeat or format description arrived: its file, where the next begins, its timestamp. */
  observePlace(file: string, nextPosition: number, timestamp: number, now = Date.now()): void {
    this.lastSeenAt = now;
    this.sourceFile = file || this.sourceFile;
    if (nextPosition > 0) this.sourcePosition = nextPosition;
    const seen = file || this.seenFile;
    if (nextPosition > 0 && seen) this.see(seen, nextPosition);
    if (this.pendingSince === null && timestamp > 0) this.pendingSince = timestamp;
  }

  /**
   * Everything received has been applied, and is durable: the apply loop
   * says so only with its queue empty, no replica transaction open and every
   * commit durable (and never after a failure, which ends the stream).
   */
  settled(): void {
    this.pendingSince = null;
    if (this.seenFile !== null) this.appliedThrough = { file: this.seenFile, position: this.seenPosition };
  }

  private see(file: string, position: number): void {
    this.seenFile = file;
    this.seenPosition = position;
  }

  /** The stream is alive: started, and an event or heartbeat seen within the silence window. */
  isConnected(now = Date.now()): boolean {
    return this.streaming && now - this.lastSeenAt <= this.silenceMs;
  }

  get connected(): boolean {
    return this.isConnected();
  }

  /** Something received is not applied yet (whatever the clocks say about its age). */
  get pending(): boolean {
    return this.pendingSince !== null;
  }

  lagSeconds(now = Date.now()): number | null {
    if (!this.isConnected(now)) return null;
    if (this.pendingSince === null) return 0;
    const sourceNow = now + (this.clockOffsetMs ?? 0);
    return Math.max(0, (sourceNow - this.pendingSince) / 1000);
  }

  snapshot(now = Date.now()): RunnerHealth {
    return {
      sourceConnected: this.isConnected(now),
      lagSeconds: this.lagSeconds(now),
      pending: this.pending,
      sourceFile: this.sourceFile,
      sourcePosition: this.sourcePosition,
      ...(this.appliedThrough ? { appliedThroughFile: this.appliedThrough.file, appliedThroughPosition: this.appliedThrough.position } : {}),
      clockOffsetMs: this.clockOffsetMs,
      reconnects: this.reconnects,
      ...(this.run ? { applyMode: this.run.mode.current, capabilities: this.run.capabilities.snapshot() } : {}),
      ...(this.sqlTables.size > 0 ? { sqlPathTables: [...this.sqlTables].sort() } : {}),
    };
  }
}
