import { describe, expect, it } from 'vitest';
import type { Readable } from 'node:stream';
import { LocalFiles } from '../../../src/apply/local-files.js';

async function chunks(stream: Readable): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const chunk of stream) out.push(chunk as Buffer);
  return out;
}

describe('LocalFiles', () => {
  it('gives a file once, by the name it was given, in packets of at most 1 MiB', async () => {
    const files = new LocalFiles();
    const big = Buffer.alloc(2.5 * 1024 * 1024, 7);
    const name = files.add([Buffer.from('1\ta\n'), big]);
    const got = await chunks(files.open(name));
    expect(got.map((c) => c.length)).toEqual([4, 1024 * 1024, 1024 * 1024, 0.5 * 1024 * 1024]);
    expect(Buffer.concat(got).equals(Buffer.concat([Buffer.from('1\ta\n'), big]))).toBe(true);
    expect(await chunks(files.open(name))).toEqual([]);
  });

  it('gives nothing for a name it does not know (never a file from disk), nor after clear()', async () => {
    const files = new LocalFiles();
    expect(await chunks(files.open('/etc/passwd'))).toEqual([]);
    const name = files.add([Buffer.from('x\n')]);
    expect(files.add([Buffer.from('y\n')])).not.toBe(name);
    files.clear();
    expect(await chunks(files.open(name))).toEqual([]);
  });
});
