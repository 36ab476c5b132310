// Part of the zongji adapter: the source's binlog as the bytes of its events,
// for the relay (relay/), which publishes them as the source wrote them.
// zongji makes the connection and the dump request as for `start` (TLS,
// GTID or file start, checksums, heartbeats); every event's packet is then
// taken before zongji reads it (raw-events.ts), so nothing is decoded here.
// The format description event is the one zongji keeps reading (its
// checksum setting is zongji's too): it is handed over before the event
// that follows it.
import ZongJi from '@vlasky/zongji';
import type { Endpoint } from '../config/connection-url.js';
import { effectiveOptions } from '../db/connect.js';
import type { Logger } from '../log/logger.js';
import { streamFailure, type StreamStart } from './binlog-source.js';
import { prepareDumpConnection, watchSilence } from './dump-connection.js';
import { keepFormatDescriptions, lastFormatDescription } from './raw-events.js';

export interface RawBinlogStreamOptions {
  endpoint: Endpoint;
  serverId: number;
  start: StreamStart;
  logger: Logger;
  /** Each event (a copy, the receiver's to keep), in binlog order; format description events included. */
  onEvent: (event: Buffer) => void;
  /** The stream is dead (connection lost, server error, silence). */
  onError: (error: Error) => void;
  heartbeatMs?: number;
}

export class RawBinlogStream {
  private zongji: ZongJi | undefined;
  private format: Buffer | undefined;
  private paused = false;
  private failed = false;
  private lastEventAt = Date.now();
  private watchdog: NodeJS.Timeout | undefined;

  constructor(private readonly options: RawBinlogStreamOptions) {}

  /** Whether the source's events end with a CRC32, as zongji agreed with it before the dump. */
  get checksums(): boolean {
    return (this.zongji as { useChecksum?: boolean } | undefined)?.useChecksum === true;
  }

  async start(): Promise<void> {
    const { endpoint, serverId, start, logger } = this.options;
    const zongji = new ZongJi({ ...effectiveOptions(endpoint, 'source') });
    this.zongji = zongji;
    await new Promise<void>((resolve, reject) => {
      let ready = false;
      zongji.on('ready', () => {
        keepFormatDescriptions(zongji, (bytes, at, end) => this.take(zongji, bytes, at, end));
        ready = true;
        resolve();
      });
      zongji.on('error', (error: Error) => {
        const failure = streamFailure(error, endpoint, start);
        if (!ready) reject(failure);
        else this.fail(failure);
      });
      // (Only format description events reach zongji's reader: nothing to listen to.)
      zongji.on('binlog', () => undefined);
      logger.debug({ start, serverId }, 'starting binlog dump (raw events)');
      zongji.start({
        serverId,
        ...(start.gtid ? { gtidSet: start.gtid } : { filename: start.file!, position: start.position! }),
        includeEvents: ['format'],
      });
      // (The relay may hold the stream back while the NATS server is slow.)
      prepareDumpConnection(zongji.connection, this.options.heartbeatMs);
    });
    this.startWatchdog();
  }

  /** Every event's packet: copied and handed over; zongji never reads it. */
  private take(zongji: object, bytes: Buffer, at: number, end: number): boolean {
    if (this.failed) return true;
    this.lastEventAt = Date.now();
    const format = lastFormatDescription(zongji);
    if (format && format !== this.format) {
      this.format = format;
      this.options.onEvent(format);
    }
    this.options.onEvent(Buffer.from(bytes.subarray(at, end)));
    return true;
  }

  private startWatchdog(): void {
    this.watchdog = watchSilence({
      silenceMs: 5 * (this.options.heartbeatMs ?? 1000),
      endpoint: this.options.endpoint,
      lastEventAt: () => this.lastEventAt,
      held: () => this.paused,
      onBroken: (error) => this.fail(error),
    });
  }

  private fail(error: Error): void {
    if (this.failed) return;
    this.failed = true;
    this.stop();
    this.options.onError(error);
  }

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
