// The installed suites' test files: names (`main.ctype_latin1`,
// `compat/oracle.sp`) to paths, a suite to its tests, and what a file's text
// says before it runs: the databases it writes, and why the runner cannot
// judge it fairly (it restarts the server, needs a debug build, ...).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { MYSQL_TEST_DIR } from './servers.js';

export interface TestFile {
  /** suite.test, as the runner prints it. */
  name: string;
  suite: string;
  path: string;
}

function suiteDirs(suite: string): string[] {
  if (suite === 'main') return [join(MYSQL_TEST_DIR, 'main')];
  const base = join(MYSQL_TEST_DIR, 'suite', suite);
  return [join(base, 't'), base];
}

/** Every test file of a suite, sorted by name. */
export function suiteTests(suite: string): TestFile[] {
  for (const dir of suiteDirs(suite)) {
    if (!existsSync(dir)) continue;
    const names = readdirSync(dir).filter((f) => f.endsWith('.test')).sort();
    if (names.length > 0) return names.map((f) => ({ name: `${suite}.${basename(f, '.test')}`, suite, path: join(dir, f) }));
  }
  throw new Error(`no suite '${suite}' under ${MYSQL_TEST_DIR} (install the Debian packages mariadb-test and mariadb-test-data)`);
}

/** `suite.test` (the suite may hold a slash: compat/oracle.sp) to its file; or a .test file of your own (a reduced case). */
export function resolveTest(name: string): TestFile {
  // (Absolute: mariadb-test runs in the suites' folder.)
  if (name.endsWith('.test') && existsSync(name)) return { name: basename(name, '.test'), suite: 'local', path: resolve(name) };
  const dot = name.lastIndexOf('.');
  if (dot <= 0) throw new Error(`'${name}' is not suite.test (e.g. main.ctype_latin1)`);
  const suite = name.slice(0, dot);
  const test = name.slice(dot + 1);
  for (const dir of suiteDirs(suite)) {
    const path = join(dir, `${test}.test`);
    if (existsSync(path)) return { name, suite, path };
  }
  throw new Error(`no test file for '${name}' under ${MYSQL_TEST_DIR}`);
}

/** The test file's text with the include files it sources, two levels deep. */
function textWithIncludes(path: string, depth = 2): string {
  const text = readFileSync(path, 'latin1');
  if (depth === 0) return text;
  // (`--source x`, `source x;` and `-- source x` alike.)
  const includes = [...text.matchAll(/^\s*(?:--\s*)?source\s+([^\s;]+)/gim)].map((m) => m[1]!);
  const parts = [text];
  for (const include of includes) {
    const candidates = [join(MYSQL_TEST_DIR, include), join(path, '..', include), join(path, '..', '..', include)];
    const found = candidates.find((c) => existsSync(c) && !c.endsWith('/'));
    if (found && !/\/include\/(have_|not_|wait_|count_sessions)/.test(found)) parts.push(textWithIncludes(found, depth - 1));
  }
  return parts.join('\n');
}

/** Why a test cannot be judged fairly here, first match wins; the patterns run over the test and its includes. */
const SKIP_RULES: Array<{ reason: string; pattern: RegExp }> = [
  {
    reason: 'restarts or stops the server',
    pattern: /(restart_mysqld|start_mysqld|kill_mysqld|shutdown_mysqld|kill_and_restart|crash_mysqld|restart_and_restore)\.inc|^\s*-*\s*shutdown_server|\$MYSQLADMIN|\$MYSQLD\b|\$MYSQLD_CMD|\bSHUTDOWN\s*;/im,
  },
  { reason: 'needs a debug build', pattern: /have_debug(_sync)?\.inc|\bdebug_dbug\b|\bdebug_sync\b/i },
  {
    reason: 'needs statement or mixed binlog format',
    pattern: /have_binlog_format_(statement|mixed|mixed_or_statement|row_or_statement|mixed_or_row)\.inc|\bbinlog_format\s*=/i,
  },
  { reason: 'replication test', pattern: /(master-slave|rpl_init|have_wsrep|galera_cluster|have_galera)\w*\.inc|CHANGE MASTER|START SLAVE|\bBINLOG\s+'/i },
  {
    reason: 'needs a plugin or UDF',
    pattern: /have_(example_plugin|udf|plugin_auth|simple_parser|qc_info|metadata_lock_info|daemon_example|dialog)\w*\.inc|INSTALL\s+(PLUGIN|SONAME)|CREATE\s+(AGGREGATE\s+)?FUNCTION\s+\w+\s+RETURNS\s+\w+\s+SONAME/i,
  },
  // (No replica follows a source whose binlogs start over: the native one stops with error 1236, binlog-sync too.)
  { reason: "resets or purges the source's binlogs", pattern: /\bRESET\s+(MASTER|BINARY\s+LOGS)\b|\bPURGE\s+(BINARY|MASTER)\s+LOGS\b/i },
  { reason: 'upgrades or rewrites system tables', pattern: /\$MYSQL_UPGRADE|mysql_upgrade|switch_to_mysql_(user|global_priv)\.inc/i },
  { reason: 'reads server logs or files outside the database', pattern: /\$MYSQLTEST_VARDIR\/log\/|search_pattern_in_file\.inc|MYSQLD_DATADIR|@@datadir/i },
];

export interface Preflight {
  skip?: string;
  /** Server options the test needs (its .opt/-master.opt/.cnf file), which these shared servers do not have. */
  databases: string[];
}

const SYSTEM = new Set(['mysql', 'information_schema', 'performance_schema', 'sys', 'mtr']);

/** What the runner reads from a test file before running it. */
export function preflight(test: TestFile): Preflight {
  const stem = test.path.slice(0, -'.test'.length);
  const text = textWithIncludes(test.path);
  const databases = databasesOf(text);
  for (const suffix of ['-master.opt', '.opt', '.cnf', '-master.cnf']) {
    if (existsSync(stem + suffix)) return { skip: `needs server options (${basename(stem + suffix)})`, databases };
  }
  for (const rule of SKIP_RULES) if (rule.pattern.test(text)) return { skip: rule.reason, databases };
  return { databases };
}

/** The databases a test names (CREATE/DROP/USE/connect), `test` always; binlog-sync replicates these. */
export function databasesOf(text: string): string[] {
  const names = new Set(['test']);
  const name = '(`(?:[^`]|``)+`|[A-Za-z_][\\w$]*)';
  const patterns = [
    new RegExp(`\\b(?:CREATE|DROP|ALTER)\\s+(?:DATABASE|SCHEMA)\\s+(?:IF\\s+(?:NOT\\s+)?EXISTS\\s+)?${name}`, 'gi'),
    new RegExp(`^\\s*(?:--)?\\s*USE\\s+${name}`, 'gim'),
    new RegExp(`\\bconnect\\s*\\(\\s*[^,]*,[^,]*,[^,]*,[^,]*,\\s*${name}`, 'gi'),
  ];
  for (const pattern of patterns) {
    for (const m of text.matchAll(pattern)) {
      let n = m[1]!;
      if (n.startsWith('`')) n = n.slice(1, -1).replace(/``/g, '`');
      if (!SYSTEM.has(n.toLowerCase()) && !/^(if|database|schema)$/i.test(n)) names.add(n);
    }
  }
  return [...names].sort();
}

/** Every database the tests name: what binlog-sync replicates (a name with a comma cannot be listed). */
export function replicatedDatabases(tests: TestFile[]): string[] {
  return [...new Set(tests.flatMap((t) => preflight(t).databases))].filter((d) => !d.includes(',')).sort();
}
