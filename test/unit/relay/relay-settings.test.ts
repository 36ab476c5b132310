import { describe, expect, it } from 'vitest';
import { parseAge, parseSize, resolveRetention } from '../../../src/relay/relay-settings.js';

describe('retention settings', () => {
  it.each([
    ['3600', 3600],
    ['90m', 5400],
    ['36h', 129_600],
    ['7d', 604_800],
    ['2w', 1_209_600],
    ['1.5h', 5400],
  ])('age %s is %d s', (text, seconds) => expect(parseAge(text, '--retention-age')).toBe(seconds));

  it.each([
    ['1048576', 1_048_576],
    ['50GB', 50e9],
    ['500MiB', 500 * 2 ** 20],
    ['2 tib', 2 * 2 ** 40],
  ])('size %s is %d bytes', (text, bytes) => expect(parseSize(text, '--retention-bytes')).toBe(bytes));

  it.each(['soon', '0', '-5d', '7y', ''])('refuses the age %j', (text) => {
    expect(() => parseAge(text, '--retention-age')).toThrow(/--retention-age must be a duration/);
  });

  it.each(['big', '0', '10 parsecs'])('refuses the size %j', (text) => {
    expect(() => parseSize(text, '--retention-bytes')).toThrow(/--retention-bytes must be a size/);
  });

  it('is empty when nothing is set (no limits)', () => {
    expect(resolveRetention({})).toEqual({});
    expect(resolveRetention({ retentionAge: '1d', retentionBytes: '1GB' })).toEqual({ maxAgeSeconds: 86_400, maxBytes: 1e9 });
  });
});
