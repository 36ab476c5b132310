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
  // And the query text, read last, as the client's bytes when they are not all ASCII (see sql/client-text.ts).
  Object.defineProperty(events.Query.prototype, 'query', {
    configurable: true,
    set(this: Record<string, unknown> & { size: number; statusVarsLength: number; schemaLength: number }, value: string) {
      Object.defineProperty(this, 'query', { value, writable: true, enumerable: true, configurable: true });
      const { buffer, start, length } = lastString;
      // (A compressed query's text is not what the parser read last: its length says so.)
      const expected = this.size - 13 - this.statusVarsLength - this.schemaLength - 1;
      if (!buffer || length !== expected || !hasNonAscii(buffer, start, start + length)) return;
      Object.defineProperty(this, 'rawQuery', { value: Buffer.from(buffer.subarray(start, start + length)), writable: true, enumerable: false, configurable: true });
    },
  });
}

function hasNonAscii(buffer: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (buffer[i]! >= 0x80) return true;
  return false;
}

/** A Query event's text as its bytes, when they are not all ASCII (undefined: the decoded text is exact). */
export function rawQuery(event: object): Buffer | undefined {
  const raw = (event as { rawQuery?: unknown }).rawQuery;
  return Buffer.isBuffer(raw) ? raw : undefined;
}

/** The exact bytes of a Query event's status variables, when they were kept. */
export function rawStatusVars(event: object): Buffer | undefined {
  const raw = (event as { rawStatusVars?: unknown }).rawStatusVars;
  return Buffer.isBuffer(raw) ? raw : undefined;
}
