// A published message's headers, written once as NATS's header block
// (`NATS/1.0`, then a `Name: value` line each, then an empty line), in
// bytes. The client's own headers object checks and re-encodes every
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
