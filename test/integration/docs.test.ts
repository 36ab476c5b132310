// The runbook's commands work as shown: every `binlog-sync` line of its
// `sh tested` blocks runs, in order, against real servers, with the settings
// in the environment as the runbook sets them.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mysql from 'mysql2/promise';
import { REPO_ROOT, runCli, spawnCli, tempDir } from '../support/context.js';
import { REPL_PASSWORD, destroyServers, startServerPair, type ManagedServer } from '../support/servers.js';
import { seedSample } from '../../src/demo/demo.js';
import { connect } from '../../src/db/connect.js';

let sourceServer: ManagedServer;
let replicaServer: ManagedServer;
const dir = tempDir('binlog-sync-docs-');
let env: Record<string, string>;
const background: Array<ReturnType<typeof spawnCli>> = [];

/** The `binlog-sync ...` lines of the `sh tested` blocks of a doc, in order. */
function testedCommands(doc: string): string[] {
  const text = readFileSync(join(REPO_ROOT, 'docs', doc), 'utf8');
  const blocks = [...text.matchAll(/```sh tested\n([\s\S]*?)```/g)].map((m) => m[1]!);
  return blocks.flatMap((b) => b.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('binlog-sync ')));
}

beforeAll(async () => {
  [sourceServer, replicaServer] = await startServerPair([101, 102]);
  const seedConn = await connect({ host: sourceServer.info.host, port: sourceServer.info.port, user: 'root', sslMode: 'DISABLED' }, 'source');
  await seedSample(seedConn);
  await seedConn.end();
  const passwordFile = join(dir.path, 'source-password');
  writeFileSync(passwordFile, `${REPL_PASSWORD}\n`);
  env = {
    BINLOG_SYNC_SOURCE: sourceServer.info.userUrl.replace(`:${REPL_PASSWORD}@`, '@'),
    BINLOG_SYNC_SOURCE_PASSWORD_FILE: passwordFile,
    BINLOG_SYNC_REPLICA: replicaServer.info.userUrl,
    BINLOG_SYNC_STATE: join(dir.path, 'state.sqlite'),
    BINLOG_SYNC_DATABASES: 'themepark_tracker',
  };
});

afterAll(async () => {
  for (const child of background) child.kill('SIGTERM');
  await Promise.all(background.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('close', r)))));
  await destroyServers(sourceServer, replicaServer);
  dir.cleanup();
});

describe('docs/runbook.md', () => {
  it('runs every tested command as written', async () => {
    const commands = testedCommands('runbook.md');
    expect(commands.length).toBeGreaterThanOrEqual(8);
    for (const line of commands) {
      const args = line.replace(/\s*&$/, '').split(/\s+/).slice(1);
      if (line.endsWith('&')) {
        const child = spawnCli(args, { env });
        background.push(child);
        const deadline = Date.now() + 30_000;
        while (!child.output().stderr.includes('replicating from') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        expect(child.output().stderr, line).toContain('replicating from');
        continue;
      }
      const result = await runCli(args, { env });
      expect({ line, code: result.code, stderr: result.stderr.split('\n').filter((l) => l.startsWith('binlog-sync:')) }).toEqual({ line, code: 0, stderr: [] });
    }
    // What the runbook promises: the replica holds production's data.
    const replica = await mysql.createConnection({ uri: replicaServer.info.adminUrl });
    const [rows] = await replica.query('SELECT COUNT(*) AS n FROM themepark_tracker.wait_times');
    await replica.end();
    expect(Number((rows as Array<{ n: string }>)[0]!.n)).toBe(8000);
  });
});
