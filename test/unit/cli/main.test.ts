import { describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.js';
import { packageVersion } from '../../../src/cli/program.js';
import type { CliIo } from '../../../src/cli/io.js';

function io(env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const cliIo: CliIo = { out: (t) => out.push(t), err: (t) => err.push(t), env, stdoutIsTTY: false, stderrIsTTY: false };
  return { cliIo, out, err };
}

describe('main', () => {
  it('prints the package version and exits 0', async () => {
    const { cliIo, out } = io();
    expect(await main(['node', 'binlog-sync', '--version'], cliIo)).toBe(0);
    expect(out.join('')).toBe(`${packageVersion()}\n`);
  });

  it('prints help on stdout and exits 0', async () => {
    const { cliIo, out, err } = io();
    expect(await main(['node', 'binlog-sync', '--help'], cliIo)).toBe(0);
    expect(out.join('')).toMatch(/Usage: binlog-sync/);
    expect(err).toEqual([]);
  });

  it('exits 2 with a one-line message for an unknown option', async () => {
    const { cliIo, err, out } = io();
    expect(await main(['node', 'binlog-sync', '--no-such-flag'], cliIo)).toBe(2);
    expect(err.join('')).toBe("binlog-sync: unknown option '--no-such-flag'\n");
    expect(out).toEqual([]);
  });
});
