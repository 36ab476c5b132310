// The files of LOAD DATA LOCAL INFILE statements (see load-data.ts), kept in
// memory until the server asks for them by name while it runs the statement.
import { Readable } from 'node:stream';

/** Each piece travels as one packet: 1 MiB stays well within max_allowed_packet. */
const PACKET_BYTES = 1024 * 1024;

export class LocalFiles {
  private readonly files = new Map<string, Buffer[]>();
  private count = 0;

  /** Keeps a file's parts; returns the name for `LOAD DATA LOCAL INFILE '<name>'`. */
  add(parts: Buffer[]): string {
    const name = `binlog-sync-${++this.count}`;
    this.files.set(name, parts);
    return name;
  }

  /**
   * mysql2's infileStreamFactory: the file of that name, once. Whatever
   * name a server asks for, only these are ever given (an unknown one is
   * empty), never a file from disk.
   */
  readonly open = (name: string): Readable => {
    const parts = this.files.get(name) ?? [];
    this.files.delete(name);
    return Readable.from(packets(parts));
  };

  /** Forgets files no statement will ask for (a rolled-back transaction). */
  clear(): void {
    this.files.clear();
  }
}

function* packets(parts: Buffer[]): Generator<Buffer> {
  for (const part of parts) for (let at = 0; at < part.length; at += PACKET_BYTES) yield part.subarray(at, at + PACKET_BYTES);
}
