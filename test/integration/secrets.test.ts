// Passwords never appear in logs (at any level), error output, status,
// history or the state file; the state file is readable by its owner only.
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection } from 'mysql2/promise';
import { adminConnection, dropDatabases, runCli, tempDir, testServers, uniqueName } from '../support/context.js';
import { Replication } from '../support/replication.js';
import { APPLIER_PASSWORD, REPL_PASSWORD } from '../support/servers.js';

const db = uniqueName('secrets');
let source: Connection;
let replication: Replication;
const outputs: string[] = [];
const secretsDir = tempDir('binlog-sync-secrets-');

/** URLs without their passwords: the passwords travel by file and environment instead. */
const withoutPassword = (url: string): string => url.replace(/:[^:@/]+@/, '@');

beforeAll(async () => {
  source = await adminConnection('source');
  const { source: src, replica } = testServers();
  const passwordFile = join(secretsDir.path, 'source-password');
  writeFileSync(passwordFile, `${REPL_PASSWORD}\n`);
  replication = new Replication({
    databases: [db],
    source: { ...src, userUrl: withoutPassword(src.userUrl) },
    replica, // this one keeps its password in the URL
    env: { BINLOG_SYNC_LOG_LEVEL: 'trace' },
    args: ['--source-password-file', passwordFile],
  });
  const set = await replication.cli(['position', 'set', '--current', ...replication.connectionArgs], { BINLOG_SYNC_SOURCE_PASSWORD: REPL_PASSWORD });
  outputs.push(set.stdout, set.stderr);
  expect(set.code).toBe(0);
});

afterAll(async () => {
  await replication?.close();
  secretsDir.cleanup();
  await source?.end();
  await dropDatabases([db]);
});

function expectNoPassword(text: string, where: string): void {
  for (const secret of [REPL_PASSWORD, APPLIER_PASSWORD]) expect(text.includes(secret), `${secret} in ${where}`).toBe(false);
}

describe('secrets', () => {
  it('never shows a password in trace-level logs, status, history or the state file', async () => {
    replication.start();
    await source.query(`CREATE DATABASE \`${db}\``);
    await source.query(`CREATE TABLE \`${db}\`.t (id INT PRIMARY KEY, note VARCHAR(40))`);
    await source.query(`INSERT INTO \`${db}\`.t VALUES (1, 'a')`);
    await replication.caughtUp();
    const run = await replication.stop();
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('"level":"debug"'); // the verbose levels were on
    outputs.push(run.stdout, run.stderr);

    const status = await runCli(['status', '--json', '--state', replication.statePath, '--source', testServers().source.userUrl, '--log-level', 'trace']);
    const history = await runCli(['position', 'history', '--json', '--state', replication.statePath]);
    const show = await runCli(['position', 'show', '--json', '--state', replication.statePath]);
    for (const r of [status, history, show]) outputs.push(r.stdout, r.stderr);
    expect(JSON.parse(status.stdout)).toMatchObject({ state: 'STOPPED' });

    const folder = dirname(replication.statePath);
    const stateFiles = readdirSync(folder).filter((f) => f.startsWith('state.sqlite'));
    expect(stateFiles).toContain('state.sqlite');
    for (const f of stateFiles) {
      expectNoPassword(readFileSync(join(folder, f)).toString('latin1'), f);
      expect(statSync(join(folder, f)).mode & 0o777, `${f} mode`).toBe(0o600);
    }
    outputs.forEach((text, i) => expectNoPassword(text, `output ${i}`));
  });

  it('never echoes a password in the error of a failed connection', async () => {
    const { source: src } = testServers();
    const wrong = src.userUrl.replace(REPL_PASSWORD, 'Wr0ng-Secret-77');
    for (const args of [
      ['status', '--source', wrong, '--state', replication.statePath],
      ['start', '--databases', db, '--source', wrong, '--replica', testServers().replica.userUrl, '--state', replication.statePath],
    ]) {
      const result = await runCli([...args, '--log-level', 'trace']);
      expect(result.stderr).toMatch(/refused the user name or password/);
      expect(result.stderr).not.toContain('Wr0ng-Secret-77');
      expectNoPassword(result.stderr, args[0]!);
    }
  });
});
