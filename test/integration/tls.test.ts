// TLS with the mysql client's modes: replication (binlog stream included)
// over VERIFY_IDENTITY to a source whose repl_user REQUIRES SSL; refusal of
// a certificate from another CA, of a certificate for another host name,
// and of plaintext.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mysql, { type Connection } from 'mysql2/promise';
import { EXACT_VALUES, runCli, uniqueName } from '../support/context.js';
import { expectIdentical } from '../support/compare.js';
import { Replication } from '../support/replication.js';
import { REPL_USER, destroyServers, startServer, type ManagedServer } from '../support/servers.js';
import { makeCertificates, type TestCertificates } from '../support/tls.js';

const db = uniqueName('tls');
const dir = mkdtempSync(join(tmpdir(), 'binlog-sync-tls-'));
let certs: TestCertificates;
let sourceServer: ManagedServer;
let replicaServer: ManagedServer;
let wrongNameServer: ManagedServer;
let source: Connection;
let replication: Replication;

const tlsOptions = (cert: string, key: string): Record<string, string> => ({ 'ssl-ca': certs.ca, 'ssl-cert': cert, 'ssl-key': key });

beforeAll(async () => {
  certs = makeCertificates(dir);
  [sourceServer, replicaServer, wrongNameServer] = await Promise.all([
    startServer({ role: 'source', serverId: 91, options: tlsOptions(certs.serverCert, certs.serverKey) }),
    startServer({ role: 'replica', serverId: 92 }), // no TLS: PREFERRED falls back to plaintext
    startServer({ role: 'source', serverId: 93, options: tlsOptions(certs.wrongNameCert, certs.wrongNameKey) }),
  ]);
  source = await mysql.createConnection({ uri: sourceServer.info.adminUrl, ...EXACT_VALUES });
  await source.query(`ALTER USER '${REPL_USER}'@'%' REQUIRE SSL`);
  replication = new Replication({
    databases: [db],
    source: sourceServer.info,
    replica: replicaServer.info,
    env: { BINLOG_SYNC_SOURCE_SSL_MODE: 'VERIFY_IDENTITY', BINLOG_SYNC_SOURCE_SSL_CA: certs.ca },
  });
});

afterAll(async () => {
  await replication?.close();
  await source?.end();
  await destroyServers(sourceServer, replicaServer, wrongNameServer);
  rmSync(dir, { recursive: true, force: true });
});

describe('TLS', () => {
  it('replicates over VERIFY_IDENTITY to a source whose replication user requires SSL', async () => {
    await replication.setCurrentPosition();
    replication.start();
    await source.query(`CREATE DATABASE \`${db}\``);
    await source.query(`CREATE TABLE \`${db}\`.t (id INT PRIMARY KEY, v VARCHAR(20))`);
    await source.query(`INSERT INTO \`${db}\`.t VALUES (1, 'over TLS'), (2, 'still TLS')`);
    await replication.caughtUp();
    await expectIdentical(db, db, { source: sourceServer.info, replica: replicaServer.info });
    // The dump thread itself runs as repl_user, which the server only lets in over TLS.
    const [threads] = await source.query("SELECT USER FROM information_schema.PROCESSLIST WHERE COMMAND LIKE 'Binlog Dump%'");
    expect(threads).toEqual([{ USER: REPL_USER }]);
  });

  it('refuses a certificate signed by another CA, saying so', async () => {
    const result = await runCli(['status', '--source', sourceServer.info.userUrl, '--state', replication.statePath], {
      env: { BINLOG_SYNC_SOURCE_SSL_MODE: 'VERIFY_CA', BINLOG_SYNC_SOURCE_SSL_CA: certs.otherCa },
    });
    expect(result.stderr).toMatch(/presented a certificate that is not trusted \([A-Z_]+: .*\); check --source-ssl-ca/);
    const check = await runCli(['check', '--json', '--source', sourceServer.info.userUrl, '--replica', replicaServer.info.userUrl], {
      env: { BINLOG_SYNC_SOURCE_SSL_MODE: 'VERIFY_IDENTITY', BINLOG_SYNC_SOURCE_SSL_CA: certs.otherCa },
    });
    expect(check.code).toBe(1);
    const item = (JSON.parse(check.stdout) as { items: Array<{ name: string; status: string; detail: string }> }).items.find((i) => i.name === 'source reachable');
    expect(item).toMatchObject({ status: 'fail', detail: expect.stringMatching(/not trusted/) });
  });

  it('refuses a certificate for another host name under VERIFY_IDENTITY, and accepts it under VERIFY_CA', async () => {
    const url = `mysql://root@127.0.0.1:${wrongNameServer.info.port}`;
    const strict = await runCli(['check', '--json', '--source', url, '--replica', replicaServer.info.userUrl], {
      env: { BINLOG_SYNC_SOURCE_SSL_MODE: 'VERIFY_IDENTITY', BINLOG_SYNC_SOURCE_SSL_CA: certs.ca },
    });
    const strictItem = (JSON.parse(strict.stdout) as { items: Array<{ name: string; detail: string }> }).items.find((i) => i.name === 'source reachable');
    expect(strictItem?.detail).toMatch(/presented a certificate for another host name .*VERIFY_IDENTITY refuses it/);
    const lenient = await runCli(['check', '--json', '--source', url, '--replica', replicaServer.info.userUrl], {
      env: { BINLOG_SYNC_SOURCE_SSL_MODE: 'VERIFY_CA', BINLOG_SYNC_SOURCE_SSL_CA: certs.ca },
    });
    const lenientItem = (JSON.parse(lenient.stdout) as { items: Array<{ name: string; status: string }> }).items.find((i) => i.name === 'source reachable');
    expect(lenientItem?.status).toBe('ok');
  });

  it('refuses plaintext: to a user that requires SSL, and to a server without TLS when TLS is required', async () => {
    const disabled = await runCli(['status', '--json', '--source', sourceServer.info.userUrl, '--state', replication.statePath], {
      env: { BINLOG_SYNC_SOURCE_SSL_MODE: 'DISABLED' },
    });
    expect(disabled.stderr).toMatch(/refused the user name or password/); // what the server answers a plaintext REQUIRE SSL login
    const required = await runCli(['check', '--json', '--source', sourceServer.info.userUrl, '--replica', replicaServer.info.userUrl], {
      env: { BINLOG_SYNC_REPLICA_SSL_MODE: 'REQUIRED', BINLOG_SYNC_SOURCE_SSL_MODE: 'VERIFY_IDENTITY', BINLOG_SYNC_SOURCE_SSL_CA: certs.ca },
    });
    const item = (JSON.parse(required.stdout) as { items: Array<{ name: string; status: string; detail: string }> }).items.find((i) => i.name === 'replica reachable');
    expect(item).toMatchObject({ status: 'fail', detail: expect.stringMatching(/does not offer TLS, which --replica-ssl-mode requires \(plaintext refused\)/) });
  });
});
