import { describe, expect, it } from 'vitest';
import { formatOffset } from '../../../src/source/source-server.js';

describe('formatOffset', () => {
  it.each([
    [0, '+00:00'],
    [19_800, '+05:30'],
    [20_700, '+05:45'],
    [-34_200, '-09:30'],
    [46_800, '+13:00'],
    [-43_200, '-12:00'],
  ])('%i s east of UTC is %s', (seconds, offset) => {
    expect(formatOffset(seconds)).toBe(offset);
  });
});
