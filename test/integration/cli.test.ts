// The built command as a user runs it: `node bin/binlog-sync.js ...`.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, runCli, spawnCli } from '../support/context.js';

const version = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

describe('the binlog-sync command', () => {
  it('prints its version', async () => {
    const result = await runCli(['--version']);
    expect(result).toMatchObject({ code: 0, stdout: `${version}\n`, stderr: '' });
  });

  it('prints help that names the settings precedence and an example', async () => {
    const result = await runCli(['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Usage: binlog-sync');
    expect(result.stdout).toContain('Examples:');
    expect(result.stdout).toContain('BINLOG_SYNC_STATE');
  });

  it('says nothing more when its reader goes away (`binlog-sync check --help | head -1`)', async () => {
    const child = spawnCli(['check', '--help']);
    // The reader is gone before the first line is written: the write fails with EPIPE.
    child.stdout?.destroy();
    await new Promise<void>((resolve) => child.once('close', () => resolve()));
    expect(child.output().stderr).toBe('');
    expect(child.output().code).toBe(0);
  });

  it('rejects an unknown option with exit 2 and one line, no stack trace', async () => {
    const result = await runCli(['--frobnicate']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe("binlog-sync: unknown option '--frobnicate'\n");
    expect(result.stdout).toBe('');
  });
});
