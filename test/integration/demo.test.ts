// `binlog-sync demo` as a new user runs it: throwaway servers, snapshot, live
// replication, HEALTHY, verified, and nothing left behind.
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/context.js';

const demoFolders = (): string[] => readdirSync(tmpdir()).filter((f) => f.startsWith('binlog-sync-demo-'));
const demoServers = (): string => spawnSync('pgrep', ['-af', 'binlog-sync-demo-'], { encoding: 'utf8' }).stdout.trim();

describe('demo', () => {
  it('replicates a live sample load, ends HEALTHY and identical, and removes everything', async () => {
    const foldersBefore = demoFolders();
    const result = await runCli(['demo', '--seconds', '3'], { timeoutMs: 120_000 });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('» snapshot done:');
    expect(result.stdout).toMatch(/^final: HEALTHY +lag \d+\.\d s +applied [1-9]\d* rows in [1-9]\d* transactions \| wait_times: source (\d+), replica \1$/m);
    expect(result.stdout).toContain('verify: identical (3 tables)');
    expect(demoFolders()).toEqual(foldersBefore);
    expect(demoServers()).toBe('');
  });

  it('rejects a bad --seconds with exit 2', async () => {
    const result = await runCli(['demo', '--seconds', 'soon']);
    expect(result).toMatchObject({ code: 2, stderr: "binlog-sync: --seconds must be a whole number above 0 (got 'soon')\n" });
  });
});
