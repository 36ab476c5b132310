import { describe, expect, it } from 'vitest';
// (The client's own reader of a header block: what every consumer decodes a message's headers with.)
import { MsgHdrsImpl } from '@nats-io/nats-core';
import { HeaderBlock, readHeaderBlock } from '../../../src/relay/header-block.js';
import { placeHeaders, parsePlace, type MessagePlace } from '../../../src/relay/message.js';

const place: MessagePlace = {
  file: 'mariadb-bin.000042',
  position: 123456,
  gtid: '0-1-977',
  commitTime: Date.parse('2026-12-08T01:02:03.000Z'),
  after: { file: 'mariadb-bin.000042', position: 120000 },
  part: 2,
  parts: 3,
};

describe('HeaderBlock', () => {
  it('writes the header block the NATS client reads back, header by header and in order', () => {
    const entries: Array<[string, string]> = [...Object.entries(placeHeaders(place)), ['Nats-Msg-Id', 'mariadb-bin.000042:123456/2of3'], ['Nats-Expected-Last-Msg-Id', 'x:1']];
    const bytes = new HeaderBlock(entries).encode();
    expect(Buffer.from(bytes).toString('utf8')).toMatch(/^NATS\/1\.0\r\n(?:[A-Za-z-]+: [^\r\n]*\r\n){8}\r\n$/);
    const read = MsgHdrsImpl.decode(bytes);
    expect([...read.keys()]).toEqual(entries.map(([name]) => name));
    for (const [name, value] of entries) expect(read.get(name)).toBe(value);
    expect(parsePlace((name) => read.get(name) || undefined, 7)).toEqual(place);
  });

  it('writes what the client itself would for the same headers', () => {
    const entries: Array<[string, string]> = Object.entries(placeHeaders({ ...place, gtid: null }));
    const client = new MsgHdrsImpl();
    for (const [name, value] of entries) client.set(name, value);
    expect(Buffer.from(new HeaderBlock(entries).encode())).toEqual(Buffer.from(client.encode()));
  });

  it('refuses a value with a line break, naming the header', () => {
    expect(() => new HeaderBlock([['Binlog-File', 'a\r\nNats-Msg-Id: forged']])).toThrow(/Binlog-File cannot hold a line break/);
  });
});

describe('readHeaderBlock', () => {
  it('reads each header of a block the client wrote, as the client reads it', () => {
    const client = new MsgHdrsImpl();
    client.set('Binlog-Partition', 'not this one');
    client.set('Binlog-Part', '2/3');
    client.set('Binlog-Gtid', '  0-1-977  ');
    client.set('Nats-Msg-Id', 'mariadb-bin.000042:123456/2of3');
    const bytes = client.encode();
    const get = readHeaderBlock(bytes);
    const read = MsgHdrsImpl.decode(bytes);
    for (const name of ['Binlog-Partition', 'Binlog-Part', 'Binlog-Gtid', 'Nats-Msg-Id']) expect(get(name)).toBe(read.get(name));
    expect(get('Binlog-Part')).toBe('2/3');
    expect(get('Binlog-Gtid')).toBe('0-1-977');
    expect(get('Binlog-File')).toBeUndefined();
  });

  it('reads a block with a status line, and the first of a repeated header', () => {
    const bytes = Buffer.from('NATS/1.0 100 Idle Heartbeat\r\nBinlog-File: a.000001\r\nBinlog-File: b.000002\r\n\r\n');
    const get = readHeaderBlock(bytes);
    expect(get('Binlog-File')).toBe('a.000001');
    expect(get('NATS/1.0 100 Idle Heartbeat')).toBeUndefined();
  });

  it('reads a block inside a larger buffer (a view of the message)', () => {
    const whole = Buffer.concat([Buffer.from('xx'), new HeaderBlock([['Binlog-Position', '4096']]).encode(), Buffer.from('payload')]);
    const block = whole.subarray(2, whole.length - 'payload'.length);
    expect(readHeaderBlock(block)('Binlog-Position')).toBe('4096');
  });
});
