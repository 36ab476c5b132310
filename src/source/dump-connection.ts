// What both readers of a source's binlog over a dump connection share:
// binlog-source.ts (start, decoding the events) and raw-binlog-stream.ts (the
// relay, taking their bytes). The connection's session is set up alike, a
// source silent for longer than its heartbeats allow is taken as gone alike,
// and both are held back, fail and stop alike (DumpReader).
import type ZongJi from '@vlasky/zongji';
import { describeEndpoint, type Endpoint } from '../config/connection-url.js';
import { ConnectionError } from '../errors.js';
import { joinLargePackets } from './joined-packets.js';

/** How long the source's dump thread may wait for us to read (see prepareDumpConnection). */
export const DUMP_WRITE_TIMEOUT_S = 86_400;

interface DumpConnection {
  query(sql: string, callback: () => void): unknown;
}

/**
 * Sets up zongji's binlog connection, once it exists and before its dump
 * request (the connection runs its commands in order).
 */
export function prepareDumpConnection(connection: DumpConnection | null | undefined, heartbeatMs = 1000): void {
  // Large events are put together in one buffer, not in two (see joined-packets.ts).
  joinLargePackets(connection);
  // The source then sends a heartbeat whenever it has had nothing to send for a period.
  const periodNs = BigInt(heartbeatMs) * 1_000_000n;
  connection?.query(`SET @master_heartbeat_period = ${periodNs}, @source_heartbeat_period = ${periodNs}`, () => undefined);
  // While the applier (or the relay's NATS server) works through a long
  // transaction, the stream is held back and the source's dump thread waits
  // to write: with the default net_write_timeout (60 s) it would give up and
  // close the connection, and a transaction slower than that would be applied
  // over and over. A session of our own may wait as long as a day.
  connection?.query(`SET SESSION net_write_timeout = ${DUMP_WRITE_TIMEOUT_S}`, () => undefined);
}

export interface SilenceWatch {
  silenceMs: number;
  endpoint: Endpoint;
  /** When the last event or heartbeat arrived (Date.now()). */
  lastEventAt: () => number;
  /** We hold the stream back: silence is ours then, not the source's. */
  held: () => boolean;
  onBroken: (error: ConnectionError) => void;
}

/** Declares the stream broken when the source has been silent for longer than heartbeats allow; clearInterval() it to stop. */
export function watchSilence(watch: SilenceWatch): NodeJS.Timeout {
  let quietFrom = Date.now();
  const timer = setInterval(() => {
    const now = Date.now();
    if (watch.held()) quietFrom = now;
    const silent = now - Math.max(watch.lastEventAt(), quietFrom);
    if (silent > watch.silenceMs) {
      watch.onBroken(
        new ConnectionError(`no data or heartbeat from the source ${describeEndpoint(watch.endpoint)} for ${Math.round(silent / 1000)} s; the connection is taken as broken`),
      );
    }
  }, Math.min(1000, watch.silenceMs));
  timer.unref();
  return timer;
}

/**
 * A reader of a source's binlog through zongji (its dump connection, or a
 * transport's stand-in for files and relay streams): held back and let go,
 * the silence watchdog, failing once, stopping. Each reader starts zongji
 * its own way and keeps lastEventAt up to date.
 */
export abstract class DumpReader {
  protected zongji: ZongJi | undefined;
  protected paused = false;
  protected failed = false;
  protected lastEventAt = Date.now();
  private watchdog: NodeJS.Timeout | undefined;

  constructor(private readonly reader: { endpoint: Endpoint; onError: (error: Error) => void }) {}

  /** Declares the stream broken once the source has been silent for longer than `silenceMs`. */
  protected startWatchdog(silenceMs: number): void {
    this.lastEventAt = Date.now();
    this.watchdog = watchSilence({
      silenceMs,
      endpoint: this.reader.endpoint,
      lastEventAt: () => this.lastEventAt,
      held: () => this.paused,
      onBroken: (error) => this.fail(error),
    });
  }

  /** Stops the stream and reports why, once. */
  protected fail(error: Error): void {
    if (this.failed) return;
    this.failed = true;
    this.stop();
    this.reader.onError(error);
  }

  /** Stops reading from the socket (back-pressure); events already parsed still arrive. */
  pause(): void {
    if (this.paused || !this.zongji?.connection) return;
    this.paused = true;
    this.zongji.connection.pause();
  }

  resume(): void {
    if (!this.paused || !this.zongji?.connection) return;
    this.paused = false;
    this.zongji.connection.resume();
  }

  stop(): void {
    clearInterval(this.watchdog);
    this.watchdog = undefined;
    this.zongji?.stop();
    this.zongji = undefined;
  }
}
