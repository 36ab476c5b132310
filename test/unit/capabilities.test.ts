import { describe, expect, it } from 'vitest';
import { RunCapabilities } from '../../src/capabilities.js';
import { createLogger } from '../../src/log/logger.js';

describe('RunCapabilities', () => {
  it('starts with everything on, unless told otherwise', () => {
    expect(new RunCapabilities(undefined).snapshot()).toEqual({ binlogStatements: true, loadData: true, decodeThread: true });
    expect(new RunCapabilities(undefined, { decodeThread: false }).snapshot()).toEqual({ binlogStatements: true, loadData: true, decodeThread: false });
  });

  it('turns a capability off for good, saying why once, at the level asked', () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = createLogger({ level: 'info', format: 'json', write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) });
    const capabilities = new RunCapabilities(logger);
    capabilities.disable('loadData', 'the replica refused LOAD DATA LOCAL INFILE');
    capabilities.disable('loadData', 'again');
    capabilities.disable('decodeThread', 'set off by the user', 'info');
    expect(capabilities.loadData).toBe(false);
    expect(capabilities.decodeThread).toBe(false);
    expect(lines.map((l) => [l.level, l.capability, l.reason])).toEqual([
      ['warn', 'loadData', 'the replica refused LOAD DATA LOCAL INFILE'],
      ['info', 'decodeThread', 'set off by the user'],
    ]);
  });

  it('hands out copies: a snapshot does not change with the run', () => {
    const capabilities = new RunCapabilities(undefined);
    const before = capabilities.snapshot();
    capabilities.disable('loadData', 'x');
    expect(before.loadData).toBe(true);
  });
});
