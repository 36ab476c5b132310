import { describe, expect, it } from 'vitest';
import { ApplyMode, type ApplyModeState } from '../../../src/apply/apply-mode.js';

describe('ApplyMode', () => {
  it('starts grouped', () => {
    const mode = new ApplyMode();
    expect(mode.current).toEqual({ kind: 'grouped' });
    expect(mode.grouped).toBe(true);
  });

  // Transition table: the steps, then the state after each.
  it.each<[string, Array<['careful', number] | ['committed']>, ApplyModeState[]]>([
    ['a commit while grouped changes nothing', [['committed']], [{ kind: 'grouped' }]],
    ['careful for one: grouped again after its commit', [['careful', 1], ['committed']], [{ kind: 'careful', left: 1 }, { kind: 'grouped' }]],
    [
      'careful for three counts down',
      [['careful', 3], ['committed'], ['committed'], ['committed'], ['committed']],
      [{ kind: 'careful', left: 3 }, { kind: 'careful', left: 2 }, { kind: 'careful', left: 1 }, { kind: 'grouped' }, { kind: 'grouped' }],
    ],
    [
      'a second failure while careful starts the count again',
      [['careful', 4], ['committed'], ['careful', 2], ['committed']],
      [{ kind: 'careful', left: 4 }, { kind: 'careful', left: 3 }, { kind: 'careful', left: 2 }, { kind: 'careful', left: 1 }],
    ],
  ])('%s', (_label, steps, after) => {
    const mode = new ApplyMode();
    const seen: ApplyModeState[] = [];
    steps.forEach((step, i) => {
      if (step[0] === 'careful') mode.carefulFor(step[1]);
      else mode.committed();
      seen.push(mode.current);
      expect(mode.grouped, `step ${i}`).toBe(after[i]!.kind === 'grouped');
    });
    expect(seen).toEqual(after);
  });

  it('tells listeners of each change, until they stop listening', () => {
    const mode = new ApplyMode();
    const heard: ApplyModeState[] = [];
    const stop = mode.onChange((state) => heard.push(state));
    mode.carefulFor(2);
    mode.committed();
    mode.committed();
    mode.committed(); // grouped already: no change, nothing to hear
    stop();
    mode.carefulFor(1);
    expect(heard).toEqual([{ kind: 'careful', left: 2 }, { kind: 'careful', left: 1 }, { kind: 'grouped' }]);
  });

  it.each([0, -1, 1.5, Number.NaN])('refuses careful mode for %s transactions', (n) => {
    expect(() => new ApplyMode().carefulFor(n)).toThrow(RangeError);
  });
});
