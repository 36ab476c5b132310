// Which of a relay stream's messages a `start --from` replica takes, in the
// order the stream delivers them (StreamTransport's take, before a message
// is handed to zongji): past the replica's position, each following the one
// before it. A message that does not follow (the stream was deleted and made
// again under the replica, or lost messages) fails the read, retryably.
import { describe, expect, it } from 'vitest';
import { NatsConnectionError, RelayStreamError } from '../../../src/errors.js';
import type { MessagePlace } from '../../../src/relay/message.js';
import { StreamTransport } from '../../../src/source/stream-transport.js';

const FILE = 'mysql-bin.000003';

function transport(after: number): { take(place: MessagePlace): boolean } {
  const t = new StreamTransport({
    nats: { address: { servers: ['127.0.0.1:4222'], stream: 'S', subject: 'S.binlog', tls: false }, name: 'test' },
    startSeq: 1,
    after: { file: FILE, position: after },
    serverVersion: '10.11.6-MariaDB',
    checksums: true,
  });
  // (take is the transport's own step; the test reads it as the transport calls it.)
  return { take: (place) => (t as unknown as { take(place: MessagePlace): boolean }).take(place) };
}

function message(after: number, position: number, part = 1, parts = 1): MessagePlace {
  return { file: FILE, position, gtid: null, commitTime: 0, after: { file: FILE, position: after }, part, parts };
}

describe('the messages a stream replica takes', () => {
  it('takes each message that follows the one before it, passing over what it has applied or taken already', () => {
    const t = transport(400);
    expect(t.take(message(300, 400))).toBe(false); // (applied)
    expect(t.take(message(400, 500))).toBe(true);
    expect(t.take(message(400, 500))).toBe(false); // (published again after the duplicate window)
    expect(t.take(message(500, 650, 1, 2))).toBe(true);
    expect(t.take(message(500, 650, 2, 2))).toBe(true);
    expect(t.take(message(650, 700))).toBe(true);
  });

  it('refuses a first message that does not follow the position: what the replica needs is gone', () => {
    expect(() => transport(400).take(message(450, 500))).toThrow(RelayStreamError);
  });

  it('fails the read, retryably, on a later message that does not follow the one before it', () => {
    const t = transport(400);
    expect(t.take(message(400, 500))).toBe(true);
    let error: unknown;
    try {
      t.take(message(900, 1000));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(NatsConnectionError);
    expect((error as Error).message).toBe(
      "the relay's stream S changed under the replica (its message after mysql-bin.000003:500 follows mysql-bin.000003:900): reading it again from the replica's position",
    );
  });
});
