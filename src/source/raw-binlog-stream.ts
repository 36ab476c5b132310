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
import { DumpReader, prepareDumpConnection } from './dump-connection.js';
import { keepFormatDescriptions, lastFormatDescription } from './raw-events.js';

export interface RawBinlogStreamOptions {
  endpoint: Endpoint;
  serverId: number;
  start: StreamStart;
  logger: Logger;
  /**
   * Each event, in binlog order; format description events included. The
   * receiver's to keep and change: a view of the bytes the connection read
   * (never read again, nor reused, by the client), not a copy.
   */
  onEvent: (event: Buffer) => void;
  /** The stream is dead (connection lost, server error, silence). */
  onError: (error: Error) => void;
  heartbeatMs?: number;
}

export class RawBinlogStream extends DumpReader {
  private format: Buffer | undefined;

  constructor(private readonly options: RawBinlogStreamOptions) {
    super(options);
  }

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
    this.startWatchdog(5 * (this.options.heartbeatMs ?? 1000));
  }

  /** Every event's packet: handed over (see onEvent); zongji never reads it. */
  private take(zongji: object, bytes: Buffer, at: number, end: number): boolean {
    if (this.failed) return true;
    this.lastEventAt = Date.now();
    const format = lastFormatDescription(zongji);
    if (format && format !== this.format) {
      this.format = format;
      this.options.onEvent(format);
    }
    this.options.onEvent(bytes.subarray(at, end));
    return true;
  }
}
