// A message's headers as NATS's header block (`NATS/1.0`, then a
// `Name: value` line each, then an empty line), in bytes: written once for
// each published message, and read for each message consumed. The client's own headers object checks and re-encodes every
// header as it is set and again as it is sent: an eighth of the relay's
// CPU, for headers whose names are ours and whose values are plain text.
// The client's publish asks a headers object for nothing but encode()
// (nats-core's protocol.ts): the relay's tests read every header back
// through the client, so a client that asked for more would fail them.
import { RelayStreamError } from '../errors.js';

const LINE_BREAK = /[\r\n]/;

export class HeaderBlock {
  private readonly bytes: Buffer;

  /** `headers` in order; a value holding a line break is refused (it would end the block). */
  constructor(headers: ReadonlyArray<readonly [string, string]>) {
    let text = 'NATS/1.0\r\n';
    for (const [name, value] of headers) {
      if (LINE_BREAK.test(value)) throw new RelayStreamError(`the message header ${name} cannot hold a line break (${JSON.stringify(value)})`);
      text += `${name}: ${value}\r\n`;
    }
    this.bytes = Buffer.from(`${text}\r\n`, 'utf8');
  }

  encode(): Uint8Array {
    return this.bytes;
  }
}

/**
 * A header block's headers by name (the first of a name; names as written,
 * values trimmed, as the client reads them). Reading a consumed message's
 * headers through the client makes an object holding a checked copy of
 * every header: a fifth of a consumer's CPU for reading the stream.
 */
export function readHeaderBlock(block: Uint8Array): (name: string) => string | undefined {
  const text = Buffer.from(block.buffer, block.byteOffset, block.byteLength).toString('utf8');
  return (name) => {
    const line = `\r\n${name}:`;
    const at = text.indexOf(line);
    if (at < 0) return undefined;
    const end = text.indexOf('\r', at + line.length);
    return text.slice(at + line.length, end < 0 ? undefined : end).trim();
  };
}
