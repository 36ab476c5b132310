// Part of the zongji adapter: binlog files on disk (`replay`) fed to zongji
// as if a source streamed them, so that they take the very decoding path of
// `start` (binlog-source.ts, on the decoding thread or not): the same event
// objects, fast lane, table maps, rows as bytes or as values, masking.
// zongji is given stand-in connections (zongji-stand-in.ts) answering as
// the files' format description says, and its dump command is handed each
// event as a packet, as the server would: an artificial rotate naming the
// file, its format description event, then its events from where the plan
// says (replay/plan.ts), with pause and resume for backpressure.
// A table map without its columns' metadata (binlog_row_metadata other
// than FULL) would make zongji ask the source for the table: refused.
import { EVENT_HEADER_BYTES, crc32 } from '../binlog/event-bytes.js';
import { eventChunks, openBinlog, type EventChunk } from '../binlog/binlog-file.js';
import { ServerConfigError } from '../errors.js';
import type { ReplayPlan, ReplaySegment } from '../replay/plan.js';
import type { BinlogTransport } from './binlog-source.js';
import { attachStandIn, EventPacket, type DumpCommand } from './zongji-stand-in.js';

const ROTATE_EVENT = 4;
/** Set on events a server makes up for the stream, not written to its binlog (log_event.h). */
export const LOG_EVENT_ARTIFICIAL_F = 0x20;
/** Events handed to zongji before the stream lets other work in (the decoding thread's messages, their acknowledgements). */
const EVENTS_PER_TURN = 2048;

export interface FileTransportOptions {
  plan: ReplayPlan;
  /** Every event of the plan was handed over (zongji has emitted them all). */
  onEnd: () => void;
  /** Bytes of the files handed over so far, after each chunk. */
  onProgress?: (bytes: number) => void;
  /**
   * The columns of a table whose table map lacks them, as zongji asks a
   * source for them (information_schema.COLUMNS: COLUMN_NAME, COLLATION_NAME,
   * CHARACTER_SET_NAME, COLUMN_COMMENT, COLUMN_TYPE), for recorded files
   * written without binlog_row_metadata=FULL whose tables are known (tests
   * of the recorded MySQL files; the test source). Absent, or undefined for
   * the table: refused, naming the setting.
   */
  tableColumns?: (database: string, table: string) => Array<Record<string, string | null>> | undefined;
}

export class FileTransport implements BinlogTransport {
  private command: DumpCommand | undefined;
  private paused = false;
  private stopped = false;
  private wake: (() => void) | undefined;
  /** The file the stream last rotated to: a segment of another file begins with an artificial rotate. */
  private rotatedTo: string | undefined;
  private bytes = 0;

  constructor(private readonly options: FileTransportOptions) {}

  attach(zongji: object): void {
    const { plan } = this.options;
    attachStandIn(zongji, {
      serverVersion: plan.serverVersion,
      checksums: plan.checksums,
      columnsOf: (database, table) =>
        this.options.tableColumns?.(database, table) ??
        new ServerConfigError(
          `the binlog maps table ${database}.${table} without its columns' names and types (written with binlog_row_metadata other than FULL); ` +
            'replay needs them in the binlog: set binlog_row_metadata=FULL on the source for the binlogs to come',
        ),
      onDump: (command, connection) => {
        this.command = command;
        setImmediate(() => void this.pump(connection));
      },
      pause: () => {
        this.paused = true;
      },
      resume: () => {
        this.paused = false;
        this.release();
      },
      destroy: () => {
        this.stopped = true;
        this.release();
      },
    });
  }

  private release(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private async pump(connection: object): Promise<void> {
    for (const segment of this.options.plan.segments) {
      if (segment.name !== this.rotatedTo) this.give(connection, [artificialRotate(segment.name, segment.from, this.options.plan.checksums)]);
      if (!(await this.feed(connection, segment))) return;
    }
    if (!this.stopped) this.options.onEnd();
  }

  /** A segment's events (its format description first when it starts past it); false once stopped. */
  private async feed(connection: object, segment: ReplaySegment): Promise<boolean> {
    const { handle } = await openBinlog(segment.path);
    try {
      const ranges: Array<[number, number]> = segment.from > 4 ? [[4, segment.formatEnd], [segment.from, segment.to]] : [[segment.from, segment.to]];
      for (const [from, to] of ranges) {
        for await (const chunk of eventChunks(handle, from, to, () => undefined)) {
          if (!(await this.feedChunk(connection, chunk))) return false;
        }
      }
      return true;
    } finally {
      await handle.close();
    }
  }

  private async feedChunk(connection: object, chunk: EventChunk): Promise<boolean> {
    const { bytes } = chunk;
    const { checksums } = this.options.plan;
    // The events as they are: a compressed transaction is opened as on the live stream (see mysql8-events.ts).
    const slices: Buffer[] = [];
    for (let at = 0; at < bytes.length; at += bytes.readUInt32LE(at + 9)) slices.push(bytes.subarray(at, at + bytes.readUInt32LE(at + 9)));
    // Each event with a zero byte before it (mysql2's packets begin with the OK byte), in one new buffer per chunk:
    // events handed on as views of it (table maps of an open statement) stay as they were.
    const packets = Buffer.allocUnsafe(slices.reduce((n, e) => n + 1 + e.length, 0));
    let out = 0;
    const events: EventPacket[] = [];
    for (const event of slices) {
      packets[out] = 0;
      event.copy(packets, out + 1);
      events.push(new EventPacket(packets, out, out + 1 + event.length));
      if (event[4] === ROTATE_EVENT) this.rotatedTo = event.toString('utf8', EVENT_HEADER_BYTES + 8, event.length - (checksums ? 4 : 0));
      out += 1 + event.length;
    }
    for (let i = 0; i < events.length; ) {
      while (this.paused && !this.stopped) await new Promise<void>((resolve) => (this.wake = resolve));
      if (this.stopped) return false;
      // (One event at a time while zongji reads: it pauses the connection to look a table up, see tableColumns.)
      const end = Math.min(events.length, i + EVENTS_PER_TURN);
      while (i < end && !this.paused && !this.stopped) this.command!.execute(events[i++]!, connection);
      await new Promise((resolve) => setImmediate(resolve));
    }
    this.bytes += bytes.length;
    this.options.onProgress?.(this.bytes);
    return !this.stopped;
  }

  private give(connection: object, packets: EventPacket[]): void {
    for (const packet of packets) {
      if (this.stopped) return;
      this.command!.execute(packet, connection);
    }
  }
}

/** The rotate event a server sends first on a dump: the file, and where in it the stream begins (its header marks it as made up). */
export function artificialRotate(file: string, position: number, checksums: boolean): EventPacket {
  const name = Buffer.from(file, 'utf8');
  const length = EVENT_HEADER_BYTES + 8 + name.length + (checksums ? 4 : 0);
  const packet = Buffer.alloc(1 + length);
  const event = packet.subarray(1);
  event[4] = ROTATE_EVENT;
  event.writeUInt32LE(length, 9);
  event.writeUInt16LE(LOG_EVENT_ARTIFICIAL_F, 17);
  event.writeBigUInt64LE(BigInt(position), EVENT_HEADER_BYTES);
  name.copy(event, EVENT_HEADER_BYTES + 8);
  if (checksums) event.writeUInt32LE(crc32(event.subarray(0, length - 4)), length - 4);
  return new EventPacket(packet, 0, packet.length);
}
