// The runbook's commands work as shown: every `binlog-sync` line of its
// `sh tested` blocks runs, in order, against real servers, with the settings
// in the environment as the runbook sets them.
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mysql from 'mysql2/promise';
import { REPO_ROOT, runCli, spawnCli, tempDir } from '../support/context.js';
import { untilStreaming } from '../support/replication.js';
import { REPL_PASSWORD, destroyServers, startServerPair, type ManagedServer } from '../support/servers.js';
import { seedSample } from '../../src/demo/demo.js';
import { connect } from '../../src/db/connect.js';

let sourceServer: ManagedServer;
let replicaServer: ManagedServer;
const dir = tempDir('binlog-sync-docs-');
let env: Record<string, string>;
const background: Array<ReturnType<typeof spawnCli>> = [];

/**
 * The `binlog-sync ...` (or `npx binlog-sync ...`) lines of the `sh tested`
 * blocks of a file, in order, without comments or what follows `&&`.
 */
function testedCommands(file: string): string[] {
  const text = readFileSync(join(REPO_ROOT, file), 'utf8');
  const blocks = [...text.matchAll(/```sh tested\n([\s\S]*?)```/g)].map((m) => m[1]!);
  return blocks.flatMap((b) =>
    b
      .split('\n')
      .map((l) => l.replace(/\s+#.*$/, '').replace(/\s*&&.*$/, '').replace(/^npx /, '').trim())
      .filter((l) => l.startsWith('binlog-sync ')),
  );
}

/** Runs doc lines in order; `start` (foreground in the docs) runs in the background. */
async function runDocLines(lines: string[], env: Record<string, string>, cwd?: string): Promise<void> {
  for (const line of lines) {
    const args = line.replace(/\s*&$/, '').split(/\s+/).slice(1);
    if (args[0] === 'start') {
      const child = spawnCli(args, { env, ...(cwd ? { cwd } : {}) });
      background.push(child);
      // Streaming, as the state file the docs set in BINLOG_SYNC_STATE records it.
      await expect(untilStreaming(env.BINLOG_SYNC_STATE!, child), line).resolves.toBeUndefined();
      continue;
    }
    const result = await runCli(args, { env, ...(cwd ? { cwd } : {}) });
    expect({ line, code: result.code, stderr: result.stderr.split('\n').filter((l) => l.startsWith('binlog-sync:')) }).toEqual({ line, code: 0, stderr: [] });
  }
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

describe('README.md and docs/runbook.md', () => {
  it('runs every tested command as written', async () => {
    const commands = testedCommands('docs/runbook.md');
    expect(commands.length).toBeGreaterThanOrEqual(8);
    await runDocLines(commands, env);
    // What the runbook promises: the replica holds production's data.
    const replica = await mysql.createConnection({ uri: replicaServer.info.adminUrl });
    const [rows] = await replica.query('SELECT COUNT(*) AS n FROM themepark_tracker.wait_times');
    await replica.end();
    expect(Number((rows as Array<{ n: string }>)[0]!.n)).toBe(8000);
  });

  it("runs the README's set-up lines as written, on a state file of their own", async () => {
    for (const child of background.splice(0)) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('close', r));
    }
    // A replica as a new user has it: without the data the runbook test copied.
    const replica = await mysql.createConnection({ uri: replicaServer.info.adminUrl });
    await replica.query('DROP DATABASE themepark_tracker');
    await replica.end();
    const commands = testedCommands('README.md');
    expect(commands.map((c) => c.split(' ')[1])).toEqual(['check', 'snapshot', 'start', 'status', 'wait', 'verify']);
    await runDocLines(commands, { ...env, BINLOG_SYNC_STATE: join(dir.path, 'readme.sqlite') });
  });

  it('gives every command a --help with an example', async () => {
    const commands = ['check', 'snapshot', 'start', 'status', 'wait', 'position', 'position show', 'position set', 'position history', 'skip', 'verify', 'demo'];
    for (const command of commands) {
      const result = await runCli([...command.split(' '), '--help']);
      expect(result.code, command).toBe(0);
      expect(result.stdout, command).toMatch(/Examples?:\n {2}\S*.*binlog-sync /);
    }
  });
});

describe('docs/masking.md', () => {
  it('runs the themepark_tracker example as written: check, masked snapshot, start and verify', async () => {
    for (const child of background.splice(0)) {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('close', r)));
    }
    const doc = readFileSync(join(REPO_ROOT, 'docs/masking.md'), 'utf8');
    const schema = /```sql\n([\s\S]*?)```/.exec(doc)![1]!;
    const source = await mysql.createConnection({ uri: sourceServer.info.adminUrl });
    for (const statement of schema.split(/;\s*/).filter((t) => t.trim())) await source.query(statement);
    await source.query(`INSERT INTO themepark_tracker.visitors SELECT seq, CONCAT('Guest', seq, '@Example.com'), CONCAT('Guest Number ', seq),
        IF(seq % 2, NULL, '+31 20 555 0100'), '1990-05-17' + INTERVAL seq DAY, 'allergic to peanuts' FROM mysql.seq_1_to_300`);
    await source.query(`INSERT INTO themepark_tracker.tickets SELECT seq, CONCAT(IF(seq % 3, 'guest', 'GUEST'), 1 + seq % 300, '@example.com'), 1 + seq % 5
      FROM mysql.seq_1_to_900`);
    const replica = await mysql.createConnection({ uri: replicaServer.info.adminUrl });
    await replica.query('DROP DATABASE IF EXISTS themepark_tracker');
    const work = tempDir('binlog-sync-docs-mask-');
    try {
      // The doc's `openssl rand -hex 32 > mask.key`.
      writeFileSync(join(work.path, 'mask.key'), `${randomBytes(32).toString('hex')}\n`);
      const commands = testedCommands('docs/masking.md');
      expect(commands.map((c) => c.split(' ')[1])).toEqual(['check', 'snapshot', 'start', 'verify']);
      await runDocLines(commands, { ...env, BINLOG_SYNC_STATE: join(work.path, 'masking.sqlite') }, work.path);
      const [emails] = await replica.query('SELECT email FROM themepark_tracker.visitors');
      expect((emails as Array<{ email: string }>).every((r) => r.email.endsWith('@example.invalid'))).toBe(true);
      const joins = 'SELECT COUNT(*) AS n FROM themepark_tracker.visitors v JOIN themepark_tracker.tickets t ON t.visitor_email = v.email';
      const [a] = await source.query(joins);
      const [b] = await replica.query(joins);
      expect(Number((b as Array<{ n: string }>)[0]!.n)).toBe(Number((a as Array<{ n: string }>)[0]!.n));
      expect(Number((a as Array<{ n: string }>)[0]!.n)).toBe(900);
    } finally {
      for (const child of background.splice(0)) {
        child.kill('SIGTERM');
        await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('close', r)));
      }
      work.cleanup();
      await source.end();
      await replica.end();
    }
  });
});
