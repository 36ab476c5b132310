// The binlog decoding thread (decode-thread.ts) spends a few hundred
// milliseconds loading its modules (mysql2, zongji, pino, the decoder)
// before it can connect. Started when the session knows where to stream
// from, that time would come after everything else is ready; so a thread is
// started ahead, as soon as `start` has its state file (and again at the
// start of each session), loads its modules beside the main thread (on
// another core) while the main thread loads its own and connects, and then
// waits for its start parameters by message (threaded-source.ts sends them).
import { Worker, type ResourceLimits } from 'node:worker_threads';

const SCRIPT = new URL('./decode-thread.js', import.meta.url);

/**
 * The state file's note of the source's max_allowed_packet, written by each
 * session: the next `start` sizes its spare thread's heap by it.
 */
export const SOURCE_PACKET_MARKER = 'source-max-allowed-packet';

/** What the spare is sized for when nothing is remembered: MariaDB's default max_allowed_packet (16 MiB). */
const DEFAULT_SOURCE_PACKET = 16 * 1024 * 1024;

/** Where the packet is remembered: the state file (its markers). */
export interface PacketMemory {
  getMarker(name: string): string | null;
  setMarker(name: string, value: string | null): void;
}

/** Whether a run decodes on a thread (BINLOG_SYNC_DECODE_THREAD=0: on the main thread). */
export function decodeThreadWanted(env: Record<string, string | undefined> = process.env): boolean {
  return env.BINLOG_SYNC_DECODE_THREAD !== '0';
}

/** A worker needs a file it can load: the built JavaScript, not the TypeScript sources the tests run. */
export function decodeThreadRunnable(): boolean {
  return import.meta.url.endsWith('.js');
}

/**
 * The thread's heap: small, since it holds little live data (the events of
 * one socket read) and an unbounded heap would double the process's memory
 * with garbage waiting for collection; but room for the largest row the
 * source accepts, whose text values live there while they are decoded (both
 * images of an update, UTF-16 at worst): a limit, not memory taken.
 * BINLOG_SYNC_DECODE_THREAD_HEAP_MB overrides it.
 */
export function decodeThreadHeap(largestRowBytes = 0): { maxOldGenerationSizeMb: number; maxYoungGenerationSizeMb: number } {
  const mb = Number(process.env.BINLOG_SYNC_DECODE_THREAD_HEAP_MB);
  const room = Math.ceil((3 * Math.min(largestRowBytes, 1024 * 1024 * 1024)) / (1024 * 1024));
  return { maxOldGenerationSizeMb: Number.isFinite(mb) && mb > 0 ? mb : 64 + room, maxYoungGenerationSizeMb: 8 };
}

interface Spare {
  worker: Worker;
  limits: ResourceLimits;
  /** It stopped or failed (e.g. out of memory while loading): not to be used. */
  broken: boolean;
  onTrouble: () => void;
}

let spare: Spare | undefined;

/**
 * Starts a spare thread, sized by the packet the state file remembers (see
 * SOURCE_PACKET_MARKER), or by `largestRowBytes` when the caller knows it
 * already (a replay of files alone: 0), unless one is waiting already.
 */
export function startSpareThread(memory: PacketMemory, largestRowBytes?: number): void {
  if (spare || !decodeThreadRunnable()) return;
  const remembered = Number(memory.getMarker(SOURCE_PACKET_MARKER));
  const limits = decodeThreadHeap(largestRowBytes ?? (remembered > 0 ? remembered : DEFAULT_SOURCE_PACKET));
  const worker = new Worker(SCRIPT, { resourceLimits: limits });
  const entry: Spare = { worker, limits, broken: false, onTrouble: () => (entry.broken = true) };
  // Until a stream takes it, the spare must neither keep the process alive nor crash it with an unheard error.
  worker.unref();
  worker.on('error', entry.onTrouble).on('exit', entry.onTrouble);
  spare = entry;
}

/**
 * The thread for a stream whose largest row is `largestRowBytes`: the spare
 * when its heap is exactly the one this stream needs (a thread's heap limit
 * is set when it starts), else a new thread (the spare is let go).
 */
export function takeDecodeThread(largestRowBytes: number): { worker: Worker; startedAhead: boolean } {
  const limits = decodeThreadHeap(largestRowBytes);
  const taken = spare;
  spare = undefined;
  if (taken && !taken.broken && sameLimits(taken.limits, limits)) {
    taken.worker.off('error', taken.onTrouble).off('exit', taken.onTrouble);
    taken.worker.ref();
    return { worker: taken.worker, startedAhead: true };
  }
  if (taken) letGo(taken);
  return { worker: new Worker(SCRIPT, { resourceLimits: limits }), startedAhead: false };
}

/** Lets the spare go, if no stream took it (decoding moved to the main thread, or `start` is ending). */
export function dropSpareThread(): void {
  if (spare) letGo(spare);
  spare = undefined;
}

function letGo(unused: Spare): void {
  // (Whatever it reports from now on, nobody waits for it.)
  unused.worker.off('error', unused.onTrouble).on('error', () => undefined);
  void unused.worker.terminate();
}

/** Notes the source's max_allowed_packet for the next `start`'s spare thread (written only when it changed). */
export function rememberSourcePacket(memory: PacketMemory, bytes: number): void {
  if (bytes > 0 && memory.getMarker(SOURCE_PACKET_MARKER) !== String(bytes)) memory.setMarker(SOURCE_PACKET_MARKER, String(bytes));
}

function sameLimits(a: ResourceLimits, b: ResourceLimits): boolean {
  return a.maxOldGenerationSizeMb === b.maxOldGenerationSizeMb && a.maxYoungGenerationSizeMb === b.maxYoungGenerationSizeMb;
}
