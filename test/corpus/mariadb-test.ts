// One test file through the `mariadb-test` client against the source, as
// MariaDB's runner would start it: from the mysql-test folder, with the
// environment its test files read ($MYSQLTEST_VARDIR, $MYSQL, ...), every
// connection on the source (its socket for `localhost`), within a time limit.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { MYSQL_TEST_DIR } from './servers.js';

export interface MariadbTestResult {
  /** passed (its result file matched), failed (an error or another result), skipped (the test's own --skip), timeout. */
  outcome: 'passed' | 'failed' | 'skipped' | 'timeout';
  /** The last lines mariadb-test printed: why it failed or skipped. */
  message: string;
  ms: number;
}

export interface Target {
  port: number;
  socket: string;
  varDir: string;
}

function client(name: string, target: Target): string {
  return `${name} --no-defaults --host=127.0.0.1 --port=${target.port} --user=root`;
}

/** The variables MariaDB's runner exports, for tests that `--exec` a client or build paths. */
function runnerEnv(target: Target): NodeJS.ProcessEnv {
  return {
    ...process.env,
    MYSQL_TEST_DIR: MYSQL_TEST_DIR,
    MYSQLTEST_VARDIR: target.varDir,
    MYSQL_TMP_DIR: join(target.varDir, 'tmp'),
    MASTER_MYPORT: String(target.port),
    MASTER_MYSOCK: target.socket,
    MYSQL: client('mariadb', target),
    MYSQL_DUMP: client('mariadb-dump', target),
    MYSQL_BINLOG: 'mariadb-binlog --no-defaults',
    MYSQL_CHECK: client('mariadb-check', target),
    MYSQL_IMPORT: client('mariadb-import', target),
    MYSQL_SHOW: client('mariadb-show', target),
    MYSQL_SLAP: client('mariadb-slap', target),
    MYSQL_CHARSETSDIR: '/usr/share/mysql/charsets',
    DEFAULT_MASTER_PORT: String(target.port),
    // The servers load it (servers.ts); the versioning suite skips without this.
    TEST_VERSIONING_SO: 'test_versioning.so',
  };
}

export async function runMariadbTest(testPath: string, target: Target, timeoutMs: number): Promise<MariadbTestResult> {
  const started = Date.now();
  const resultFile = testPath.replace(/\/t\/([^/]+)\.test$/, '/r/$1.result').replace(/\.test$/, '.result');
  const child = spawn(
    'mariadb-test',
    [
      '--no-defaults',
      '--host=127.0.0.1',
      `--port=${target.port}`,
      `--socket=${target.socket}`,
      '--user=root',
      '--database=test',
      `--basedir=${MYSQL_TEST_DIR}`,
      `--tmpdir=${join(target.varDir, 'tmp')}`,
      `--logdir=${join(target.varDir, 'log')}`,
      `--character-sets-dir=/usr/share/mysql/charsets`,
      '--silent',
      '--max-connect-retries=3',
      `--test-file=${testPath}`,
      // Without a result file (a reduced case of your own) mariadb-test only runs the file.
      ...(existsSync(resultFile) ? [`--result-file=${resultFile}`] : []),
    ],
    { cwd: MYSQL_TEST_DIR, env: runnerEnv(target), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (output = (output + d).slice(-20_000)));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (output = (output + d).slice(-20_000)));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  clearTimeout(timer);
  const lines = output.trim().split('\n').filter((l) => l.trim() !== '');
  const message = lines.slice(-3).join(' | ').slice(0, 400);
  const ms = Date.now() - started;
  if (timedOut) return { outcome: 'timeout', message: `no end within ${Math.round(timeoutMs / 1000)} s`, ms };
  // 62: the test skipped itself (an unmet have_*.inc, --skip).
  if (code === 62) return { outcome: 'skipped', message: message.replace(/^.*?skipped\W*/i, ''), ms };
  return { outcome: code === 0 ? 'passed' : 'failed', message, ms };
}
