import { describe, expect, it } from 'vitest';
import { describeRelay, parseRelayUrl } from '../../../src/relay/relay-url.js';

describe('parseRelayUrl', () => {
  it('reads servers, stream and subject, with the default port', () => {
    expect(parseRelayUrl('nats://127.0.0.1/BINLOG', '--to')).toEqual({ servers: ['127.0.0.1:4222'], stream: 'BINLOG', subject: 'BINLOG.binlog', tls: false });
    expect(parseRelayUrl('nats://n1:4223,n2,[::1]:4224/S', '--to').servers).toEqual(['n1:4223', 'n2:4222', '[::1]:4224']);
    expect(parseRelayUrl('tls://n1:4222/S', '--from').tls).toBe(true);
  });

  it('takes a user and password (escaped) and never describes them', () => {
    const address = parseRelayUrl('nats://relay:p%40ss%3Aword@n1:4222/S', '--to');
    expect(address).toMatchObject({ user: 'relay', password: 'p@ss:word' });
    expect(describeRelay(address)).toBe('nats://n1:4222/S');
  });

  it.each([
    ['http://n1/S', /--to must start with nats:\/\/ or tls:\/\//],
    ['nats://n1:4222', /not a relay URL/],
    ['nats://n1:4222/', /stream name/],
    ['nats://n1:4222/a.b', /stream name/],
    ['nats://n1:4222/a*', /stream name/],
    ['nats://n1:99999/S', /invalid port/],
    ['nats://n1:4222/S/T', /not a relay URL/],
    ['nats://u:%zz@n1/S', /badly escaped/],
  ])('refuses %s', (url, message) => {
    expect(() => parseRelayUrl(url, '--to')).toThrow(message);
  });
});
