// Part of the zongji adapter: the pair of connections a transport gives
// zongji instead of mysql2's, when it hands zongji the events itself (binlog
// files for `replay`, file-transport.ts; a relay's stream for `start --from`,
// stream-transport.ts). The control connection answers the two questions
// zongji asks before a dump (the server's version and binlog_checksum) and
// its question for a table's columns; the binlog connection takes zongji's
// dump command, and is paused, resumed and destroyed by zongji as a socket
// would be. Events reach the command as packets mysql2 would make.
import { EXACT_VALUE_OPTIONS } from '../db/connect.js';

/** An event as mysql2 would hand it over: the OK byte (0) at `offset`, the event after it, to `end`. */
export class EventPacket {
  constructor(
    public buffer: Buffer,
    public offset: number,
    public end: number,
  ) {}

  isEOF(): boolean {
    return false;
  }

  isError(): boolean {
    return false;
  }
}

/** What zongji's dump command is to the binlog connection (lib/sequence/binlog.js): it takes packets. */
export interface DumpCommand {
  execute(packet: EventPacket | undefined, connection: unknown): boolean;
}

type Callback = (error: Error | null, rows?: unknown[]) => void;

export interface StandIn {
  /** What the format description says: the server's version, and whether events end with a CRC32. */
  serverVersion: string;
  checksums: boolean;
  /** The columns of a table whose table map lacks them (information_schema.COLUMNS rows), or why there are none. */
  columnsOf: (database: string, table: string) => Array<Record<string, string | null>> | Error;
  /** zongji's dump command, once it sent its (unanswered) dump request: from now on, events go to it. */
  onDump: (command: DumpCommand, connection: object) => void;
  pause: () => void;
  resume: () => void;
  destroy: () => void;
}

/** Gives `zongji` the stand-in connections; returns the binlog one (what its dump command is executed with). */
export function attachStandIn(zongji: object, standIn: StandIn): object {
  const later = (callback: Callback | undefined, rows: unknown[] = []): void => void process.nextTick(() => callback?.(null, rows));
  const control = {
    query: (sql: string, callback?: Callback): void => {
      if (/VERSION\(\)/i.test(sql)) later(callback, [{ version: standIn.serverVersion }]);
      else if (/binlog_checksum/i.test(sql)) later(callback, [{ checksum: standIn.checksums ? 'CRC32' : 'NONE' }]);
      else later(callback);
    },
    execute: (_sql: string, params: unknown[], callback: Callback): void => {
      const columns = standIn.columnsOf(String(params[0]), String(params[1]));
      if (columns instanceof Error) process.nextTick(() => callback(columns));
      else later(callback, columns);
    },
  };
  const binlog = {
    // What zongji reads values by (dates as strings, JSON as text...): as on the live stream's connection.
    config: { ...EXACT_VALUE_OPTIONS },
    query: (_sql: string, callback?: Callback): void => later(callback),
    addCommand: (command: DumpCommand): void => {
      // (Its first call sends the dump request: to no one here.)
      command.execute(undefined, binlog);
      standIn.onDump(command, binlog);
    },
    writePacket: (): void => undefined,
    _resetSequenceId: (): void => undefined,
    pause: (): void => standIn.pause(),
    resume: (): void => standIn.resume(),
    destroy: (): void => standIn.destroy(),
    on: (): void => undefined,
    removeAllListeners: (): void => undefined,
  };
  Object.assign(zongji, { connection: binlog, ctrlConnection: control });
  return binlog;
}
