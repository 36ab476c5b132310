// `binlog-sync demo` as a new user runs it: throwaway servers, snapshot, live
// replication with its status page up, HEALTHY, verified, and nothing left behind.
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { runCli, spawnCli } from '../support/context.js';

const demoFolders = (): string[] => readdirSync(tmpdir()).filter((f) => f.startsWith('binlog-sync-demo-'));
const demoServers = (): string => spawnSync('pgrep', ['-af', 'binlog-sync-demo-'], { encoding: 'utf8' }).stdout.trim();

describe('demo', () => {
  it('replicates a live sample load with its status page up while it runs, ends HEALTHY and identical, and removes everything', async () => {
    const foldersBefore = demoFolders();
    const child = spawnCli(['demo', '--seconds', '3']);
    const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
    // The page's address is printed as the live part begins, and answers until the demo ends.
    let address: string | undefined;
    for (let i = 0; i < 1200 && !address && child.exitCode === null; i++) {
      address = /^» status page: (http:\/\/127\.0\.0\.1:\d+\/) \(up until the demo ends\)$/m.exec(child.output().stdout)?.[1];
      if (!address) await new Promise((r) => setTimeout(r, 100));
    }
    expect(address, child.output().stdout).toBeDefined();
    const page = await fetch(address!);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>binlog-sync status</title>');
    const status = (await (await fetch(`${address}status.json`)).json()) as { running: boolean; lagThresholdSeconds: number };
    expect(status).toMatchObject({ running: true, lagThresholdSeconds: 5 });
    await closed;
    const result = child.output();
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('» snapshot done:');
    expect(result.stdout).toMatch(/^final: HEALTHY +lag \d+\.\d s +applied [1-9]\d* rows in [1-9]\d* transactions \| wait_times: source (\d+), replica \1$/m);
    expect(result.stdout).toContain('verify: identical (3 tables)');
    await expect(fetch(address!)).rejects.toThrow();
    expect(demoFolders()).toEqual(foldersBefore);
    expect(demoServers()).toBe('');
  });

  it('rejects a bad --seconds with exit 2', async () => {
    const result = await runCli(['demo', '--seconds', 'soon']);
    expect(result).toMatchObject({ code: 2, stderr: "binlog-sync: --seconds must be a whole number above 0 (got 'soon')\n" });
  });
});
