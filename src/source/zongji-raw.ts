// zongji hands a Query event's status variables over as a UTF-8-decoded
// string, which loses every byte >= 0x80 that is not valid UTF-8: MariaDB's
// microsecond time (code 0x80), an sql_mode with ORACLE or MySQL 8's default
// bits. The exact bytes are needed to run DDL under the source session's
// context, so this module, part of the zongji adapter, keeps them: zongji's
// parser remembers where its last string came from, and a Query event keeps
// the bytes of its status variables as `rawStatusVars` when it sets them.
// (zongji 0.9 exposes neither its parser nor the bytes; both are reached by
// the files' real paths, which the package's export map does not list.)
import { realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

interface ZongjiParser {
  _buffer: Buffer;
  readonly _offset: number;
  parseString(length: number): string;
}

const root = dirname(realpathSync(createRequire(import.meta.url).resolve('@vlasky/zongji')));
const reader = (await import(pathToFileURL(join(root, 'lib', 'reader.js')).href)) as { Parser: { prototype: ZongjiParser } };
const events = (await import(pathToFileURL(join(root, 'lib', 'binlog_event.js')).href)) as { Query: { prototype: object } };

const RAW = Symbol.for('binlog-sync.rawStatusVars');
const installed = globalThis as { [RAW]?: true };

/**
 * Where the string zongji's parser read last is: its buffer, offset and
 * length (no view made: most strings read are names, in every table map).
 */
const lastString: { buffer: Buffer | undefined; start: number; length: number } = { buffer: undefined, start: 0, length: 0 };

if (!installed[RAW]) {
  installed[RAW] = true;
  const parseString = reader.Parser.prototype.parseString;
  reader.Parser.prototype.parseString = function (this: ZongjiParser, length: number): string {
    const start = this._offset;
    const text = parseString.call(this, length);
    lastString.buffer = this._buffer;
    lastString.start = start;
    lastString.length = length;
    return text;
  };
  // The Query constructor sets `statusVars` right after reading them: keep their bytes too.
  Object.defineProperty(events.Query.prototype, 'statusVars', {
    configurable: true,
    set(this: Record<string, unknown>, value: string) {
      Object.defineProperty(this, 'statusVars', { value, writable: true, enumerable: true, configurable: true });
      // (Only bytes of the expected length: anything else means zongji changed how it reads them. A copy.)
      const { buffer, start, length } = lastString;
      const raw = buffer && length === this.statusVarsLength ? Buffer.from(buffer.subarray(start, start + length)) : undefined;
      Object.defineProperty(this, 'rawStatusVars', { value: raw, writable: true, enumerable: false, configurable: true });
    },
  });
}

/** The exact bytes of a Query event's status variables, when they were kept. */
export function rawStatusVars(event: object): Buffer | undefined {
  const raw = (event as { rawStatusVars?: unknown }).rawStatusVars;
  return Buffer.isBuffer(raw) ? raw : undefined;
}
