// Part of the zongji adapter: a relay's JetStream stream (relay/) fed to
// zongji as if the source streamed it, so that `start --from` decodes,
// filters, masks and applies with the very code of `start` and `replay`
// (as file-transport.ts does for files). Each message is a source
// transaction's events after the format description in force: zongji is
// given an artificial rotate when the message's binlog file changes, the
// format description when it changes, then the events. Messages are taken
// in strictly increasing source position (and part): one stored twice (a
// relay that published again after its duplicate window) is passed over.
// The first message taken must follow the replica's position with nothing
// between (its `after`), else the stream has lost what the replica needs.
// While nothing new arrives, an artificial heartbeat each second tells the
// session that the stream is alive and where it is. The event that ends a
// message's transaction carries the message's sequence (streamSeqAt), which
// the replica checkpoints with the position. Each message taken after the
// first must follow the one before it (its `after`), and the stream must
// stay the one read from (when it was made, checked every few seconds): a
// stream deleted and made again, where the reader would wait for sequences
// past the new one's and pass over its first messages, fails the read,
// retryably, so that the session finds its place again by the position.
import { EVENT_HEADER_BYTES, crc32 } from '../binlog/event-bytes.js';
import { formatFacts } from '../replay/event-facts.js';
import { NatsConnectionError, RelayStreamError, ServerConfigError } from '../errors.js';
import { compareFilePositions, formatPosition } from '../position.js';
import { splitPayload, type MessagePlace } from '../relay/message.js';
import type { MessageFeed, NatsOptions, NatsStream } from '../relay/nats-stream.js';
import { describeRelay } from '../relay/relay-url.js';
import type { BinlogTransport } from './binlog-source.js';
import { LOG_EVENT_ARTIFICIAL_F, artificialRotate } from './file-transport.js';
import { attachStandIn, EventPacket, type DumpCommand } from './zongji-stand-in.js';

/** What a session hands the transport (plain data: it crosses to the decoding thread). */
export interface RelayFeed {
  nats: NatsOptions;
  /** The stream sequence to read from. */
  startSeq: number;
  /** The replica's position: messages up to it are passed over, and the first taken must follow it. */
  after: { file: string; position: number };
  /** As the stream's format description says (zongji asks before the first message). */
  serverVersion: string;
  checksums: boolean;
}


const HEARTBEAT_EVENT = 27;
const IDLE_HEARTBEAT_MS = 1000;
/** How often the stream is checked to be the one read from (see watchStream). */
const STREAM_CHECK_MS = 3000;
/** Events handed to zongji before other work is let in (as file-transport.ts does). */
const EVENTS_PER_TURN = 2048;

export class StreamTransport implements BinlogTransport {
  private command: DumpCommand | undefined;
  private connection: object | undefined;
  private zongji: { emit(event: string, error: Error): boolean } | undefined;
  private paused = false;
  private stopped = false;
  private wake: (() => void) | undefined;
  private feed: MessageFeed | undefined;
  private stream: NatsStream | undefined;
  private file: string | undefined;
  private format: Uint8Array | undefined;
  /** The last message taken: later ones must be past it. */
  private last: { file: string; position: number; part: number; parts: number } | undefined;
  private idle: NodeJS.Timeout | undefined;
  private checker: NodeJS.Timeout | undefined;
  /** The message being handed to zongji: where its transaction ends, and its sequence (see streamSeqAt). */
  private giving: { file: string; position: number; seq: number } | undefined;

  constructor(private readonly options: RelayFeed) {}

  /**
   * The sequence of the message being decoded, for the event that ends its
   * transaction (zongji decodes a message's events as they are handed to it,
   * see give()); a part before the last ends none.
   */
  streamSeqAt(file: string, nextPosition: number): number | undefined {
    const giving = this.giving;
    return giving !== undefined && giving.position === nextPosition && giving.file === file ? giving.seq : undefined;
  }

  attach(zongji: object): void {
    const { serverVersion, checksums } = this.options;
    this.zongji = zongji as { emit(event: string, error: Error): boolean };
    this.connection = attachStandIn(zongji, {
      serverVersion,
      checksums,
      columnsOf: (database, table) =>
        new ServerConfigError(`the relay's stream maps table ${database}.${table} without its columns' names and types; set binlog_row_metadata=FULL on the source`),
      onDump: (command) => {
        this.command = command;
        setImmediate(() => void this.pump().catch((error: unknown) => this.fail(error as Error)));
      },
      pause: () => {
        this.paused = true;
      },
      resume: () => {
        this.paused = false;
        this.release();
      },
      destroy: () => this.stop(),
    });
  }

  private stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.idle);
    clearInterval(this.checker);
    this.feed?.stop();
    void this.stream?.close();
    this.release();
  }

  private fail(error: Error): void {
    if (this.stopped) return;
    this.stop();
    this.zongji?.emit('error', error);
  }

  private release(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private async pump(): Promise<void> {
    // (Loaded here: the NATS client is of no use to a stream read from a source.)
    const { NatsStream } = await import('../relay/nats-stream.js');
    this.stream = await NatsStream.open(this.options.nats);
    if (this.stopped) return void (await this.stream.close());
    const created = await this.stream.createdAt();
    this.feed = await this.stream.feed(this.options.startSeq);
    this.watchStream(this.stream, created);
    const closed = this.stream.closed().then((error) => this.fail(error ?? new RelayStreamError(`the connection to ${describeRelay(this.options.nats.address)} closed`)));
    void closed;
    this.heartbeatWhenIdle();
    let given = 0;
    for await (const message of this.feed) {
      clearTimeout(this.idle);
      while (this.paused && !this.stopped) await new Promise<void>((resolve) => (this.wake = resolve));
      if (this.stopped) return;
      if (this.take(message.place)) given += this.give(message.place, message.data, message.seq);
      if (message.pending === 0) this.heartbeatWhenIdle();
      // (Other work in between, now and then: acknowledgements of the decoding thread's messages, timers.)
      if (given >= EVENTS_PER_TURN) {
        given = 0;
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
  }

  /** Whether a message is past the last one taken (the first one: right after the replica's position). */
  private take(place: MessagePlace): boolean {
    const last = this.last;
    const at = { file: place.file, position: place.position, gtid: null };
    if (!last) {
      const { after } = this.options;
      const order = compareFilePositions(at, { ...after, gtid: null });
      if (order === null) throw notComparable(place, after);
      if (order <= 0) return false; // (applied already)
      const from = compareFilePositions({ ...place.after, gtid: null }, { ...after, gtid: null });
      if (from === null) throw notComparable(place, after);
      if (from > 0) {
        throw new RelayStreamError(
          `the relay's stream ${this.options.nats.address.stream} no longer holds what the replica needs after ${formatPosition({ ...after, gtid: null })}: ` +
            `its first message for it follows ${place.after.file}:${place.after.position} (messages were removed by the stream's retention, or the relay started later); ` +
            'run `binlog-sync snapshot` to start over',
        );
      }
    } else {
      const order = compareFilePositions(at, { file: last.file, position: last.position, gtid: null });
      if (order === null) throw notComparable(place, last);
      if (order < 0 || (order === 0 && place.part <= last.part)) return false;
      if (order > 0 && last.part === last.parts && (place.after.file !== last.file || place.after.position !== last.position)) {
        throw this.changed(`its message after ${formatPosition({ file: last.file, position: last.position, gtid: null })} follows ${formatPosition({ ...place.after, gtid: null })}`);
      }
    }
    this.last = { file: place.file, position: place.position, part: place.part, parts: place.parts };
    return true;
  }

  /** Hands a message's events to zongji; how many. */
  private give(place: MessagePlace, data: Uint8Array, seq: number): number {
    const { format, events } = splitPayload(data, seq);
    const packets: EventPacket[] = [];
    if (place.file !== this.file) {
      const from = place.after.file === place.file ? place.after.position : 4;
      packets.push(artificialRotate(place.file, from, this.options.checksums));
      this.file = place.file;
    }
    if (!this.format || Buffer.compare(this.format, format) !== 0) {
      this.format = format;
      packets.push(packetOf(format));
    }
    packets.push(...packetsOf(events));
    this.giving = place.part === place.parts ? { file: place.file, position: place.position, seq } : undefined;
    try {
      for (const packet of packets) {
        if (this.stopped) break;
        this.command!.execute(packet, this.connection);
      }
    } finally {
      this.giving = undefined;
    }
    return packets.length;
  }

  /** Fails the read once the stream is not the one made at `created` (deleted, and perhaps made again). */
  private watchStream(stream: NatsStream, created: string | null): void {
    this.checker = setInterval(() => {
      void stream.createdAt().then(
        (now) => {
          if (now !== created) this.fail(this.changed(now === null ? 'it was deleted' : 'it was deleted and made again'));
        },
        () => undefined, // (NATS unreachable: the client reconnects, and the check runs again)
      );
    }, STREAM_CHECK_MS);
    this.checker.unref();
  }

  /** The stream read from is not the one it was, or lost messages: read again from the replica's position (retried). */
  private changed(how: string): NatsConnectionError {
    return new NatsConnectionError(
      `the relay's stream ${this.options.nats.address.stream} changed under the replica (${how}): reading it again from the replica's position`,
    );
  }

  /** An artificial heartbeat after a second without messages, and every second after. */
  private heartbeatWhenIdle(): void {
    clearTimeout(this.idle);
    this.idle = setTimeout(() => {
      if (this.stopped) return;
      const at = this.last ?? this.options.after;
      if (!this.paused) this.command?.execute(heartbeat(at.file, at.position, this.options.checksums), this.connection);
      this.heartbeatWhenIdle();
    }, IDLE_HEARTBEAT_MS);
    this.idle.unref();
  }
}

/** An event with the zero byte mysql2's packets begin with (a copy: the message's buffer is the client's). */
function packetOf(event: Uint8Array): EventPacket {
  return packetsOf([event])[0]!;
}

/** Events as packets (see packetOf), copied into one buffer: one allocation for a message, not one for each of its events. */
function packetsOf(events: readonly Uint8Array[]): EventPacket[] {
  let size = 0;
  for (const event of events) size += 1 + event.length;
  const bytes = Buffer.allocUnsafe(size);
  const packets: EventPacket[] = [];
  let at = 0;
  for (const event of events) {
    bytes[at] = 0;
    bytes.set(event, at + 1);
    packets.push(new EventPacket(bytes, at, at + 1 + event.length));
    at += 1 + event.length;
  }
  return packets;
}

/** The heartbeat a server sends on an idle dump: the file, and the position in its header. */
function heartbeat(file: string, position: number, checksums: boolean): EventPacket {
  const name = Buffer.from(file, 'utf8');
  const length = EVENT_HEADER_BYTES + name.length + (checksums ? 4 : 0);
  const packet = Buffer.alloc(1 + length);
  const event = packet.subarray(1);
  event[4] = HEARTBEAT_EVENT;
  event.writeUInt32LE(length, 9);
  event.writeUInt32LE(position, 13);
  event.writeUInt16LE(LOG_EVENT_ARTIFICIAL_F, 17);
  name.copy(event, EVENT_HEADER_BYTES);
  if (checksums) event.writeUInt32LE(crc32(event.subarray(0, length - 4)), length - 4);
  return new EventPacket(packet, 0, packet.length);
}

function notComparable(place: MessagePlace, at: { file: string; position: number }): RelayStreamError {
  return new RelayStreamError(
    `the relay's stream holds binlog ${place.file} and the replica is at ${at.file}:${at.position}: they are not of the same source; check --from and the state file`,
  );
}

/** What a message's format description says: the server version and whether events carry a CRC32. */
export function streamFormat(data: Uint8Array, seq: number): { serverVersion: string; checksums: boolean } {
  const { format } = splitPayload(data, seq);
  const bytes = Buffer.from(format.buffer, format.byteOffset, format.byteLength);
  return formatFacts(bytes, 0, bytes.length);
}
