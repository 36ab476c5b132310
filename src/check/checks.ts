// Pure: the preflight verdicts of `binlog-sync check`, from facts gathered
// elsewhere (gather.ts). Each item says ok / warn / fail and, when not ok,
// the exact fix: the my.cnf line, the SET GLOBAL, the GRANT.
import { binlogGrant } from '../apply/binlog-privilege.js';
import { describeBytes, MAX_PACKET_LIMIT, packetLimitFix, PACKET_SLACK, roundedLimit } from '../db/packet-limit.js';
import { ER_OPTION_PREVENTS_STATEMENT } from '../db/server-errors.js';
import { Masker, type MaskSettings } from '../mask/masker.js';
import { planColumns, type MaskIssue, type SourceColumn } from '../mask/plan.js';
import { KEYED_METHODS } from '../mask/rules.js';
import { maskFlag, methodRefusal, personalKind, suggestRule, type PersonalKind } from './personal-columns.js';

export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface CheckItem {
  name: string;
  status: CheckStatus;
  detail: string;
  fix?: string;
}

export interface SourceFacts {
  flavor: 'mariadb' | 'mysql';
  version: string;
  serverId: number;
  variables: Record<string, string>;
  /** SHOW GRANTS lines of the replication user. */
  grants: string[];
  user: string;
  binlogFiles: string[];
  expireSeconds: number | null;
  /** @@max_allowed_packet: the largest row the source accepted. */
  maxAllowedPacket?: number;
  /** The selected databases and the tables the filter replicates there (absent without --databases). */
  selected?: SelectedDatabase[];
  /** The columns of those tables, from information_schema (absent without --databases). */
  columns?: SourceColumn[];
}

/** A database of --databases as the source user sees it. */
export interface SelectedDatabase {
  database: string;
  exists: boolean;
  /** Tables the filter replicates, and those it leaves out. */
  tables: string[];
  excluded: string[];
  /** Tables whose rows the source user cannot read, with the server's words. */
  unreadable: Array<{ table: string; message: string }>;
  /** Replicated tables with columns for values of 16 MB or more (from information_schema: no table is read). */
  large?: LargeColumnsTable[];
}

/** A replicated table whose columns may hold values of 16 MB or more (MEDIUM/LONG BLOB and TEXT, JSON). */
export interface LargeColumnsTable {
  table: string;
  /** Each column with its type as the server writes it (longblob, json) and the most bytes it holds. */
  columns: Array<{ name: string; type: string; maxBytes: number }>;
  /** No primary key: a row is found by its whole before image (an update carries both images). */
  keyless: boolean;
}

export interface ReplicaFacts {
  flavor: 'mariadb' | 'mysql';
  serverId: number;
  readOnly: boolean;
  /** The replica takes LOAD DATA LOCAL INFILE (large inserts are loaded as files). */
  localInfile: boolean;
  user: string;
  /** Outcome of a real write (rolled back) in binlog-sync's own schema. */
  write: { ok: true } | { ok: false; errno: number | undefined; message: string };
  /** @@global.max_allowed_packet of the replica. */
  maxAllowedPacket?: number;
  /** Whether the replica user may set max_allowed_packet (SET GLOBAL of its own value), else the server's words. */
  mayRaisePacket?: { ok: true } | { ok: false; message: string };
  /** Whether the replica user may send BINLOG statements (the replica then applies row events itself). */
  binlogStatements?: { ok: true } | { ok: false; privilege: boolean; message: string };
}

const ok = (name: string, detail: string): CheckItem => ({ name, status: 'ok', detail });
/** At most five names, then how many more. */
const list = (names: string[]): string => (names.length > 5 ? `${names.slice(0, 5).join(', ')} and ${names.length - 5} more` : names.join(', '));
const warn = (name: string, detail: string, fix: string): CheckItem => ({ name, status: 'warn', detail, fix });
const fail = (name: string, detail: string, fix: string): CheckItem => ({ name, status: 'fail', detail, fix });

/** `SET GLOBAL` now and the my.cnf line for the next restart. */
function setting(name: string, value: string): string {
  return `SET GLOBAL ${name} = '${value}'; and in my.cnf [mysqld]: ${name} = ${value}`;
}

function isOn(value: string | undefined): boolean {
  return value !== undefined && ['ON', '1', 'TRUE'].includes(value.toUpperCase());
}

export function checkSourceSettings(facts: SourceFacts, replicaServerId: number | null, ourServerId: number): CheckItem[] {
  const v = facts.variables;
  const items: CheckItem[] = [];
  items.push(
    isOn(v.log_bin)
      ? ok('log_bin', 'the binary log is on')
      : fail('log_bin', 'the binary log is off', 'in my.cnf [mysqld]: log_bin = mysql-bin (and server_id = 1), then restart the server'),
  );
  const format = (v.binlog_format ?? '').toUpperCase();
  items.push(
    format === 'ROW'
      ? ok('binlog_format', 'ROW')
      : fail('binlog_format', `${format || 'unknown'}; binlog-sync needs ROW`, setting('binlog_format', 'ROW')),
  );
  const image = (v.binlog_row_image ?? 'FULL').toUpperCase();
  items.push(
    image === 'FULL'
      ? ok('binlog_row_image', 'FULL')
      : warn('binlog_row_image', `${image}: replicated, but rows are located by key and verify cannot re-check changed columns`, setting('binlog_row_image', 'FULL')),
  );
  const metadata = (v.binlog_row_metadata ?? '').toUpperCase();
  items.push(
    metadata === 'FULL'
      ? ok('binlog_row_metadata', 'FULL: rows are decoded with the table definition written in the binlog')
      : fail(
          'binlog_row_metadata',
          `${metadata || 'not supported by this server'}; binlog-sync needs FULL (MySQL 8.0+, MariaDB 10.5+) to decode rows with the schema in force when they were written`,
          setting('binlog_row_metadata', 'FULL'),
        ),
  );
  items.push(compressionItem(facts), rowValueOptionsItem(facts));
  items.push(serverIdItem(facts.serverId, replicaServerId, ourServerId));
  items.push(gtidItem(facts));
  items.push(retentionItem(facts.expireSeconds));
  return items;
}

/** Why a MySQL 8 binlog variable is not there: MariaDB has none of them, an older MySQL not yet. */
function notApplicable(facts: SourceFacts, name: string, since: string): string {
  return facts.flavor === 'mariadb'
    ? `not applicable: MariaDB has no ${name}`
    : `not applicable: MySQL ${facts.version} has no ${name} (MySQL ${since} and later have it)`;
}

function compressionItem(facts: SourceFacts): CheckItem {
  const name = 'binlog_transaction_compression';
  const value = facts.variables[name];
  if (value === undefined) return ok(name, notApplicable(facts, name, '8.0.20'));
  return ok(name, isOn(value) ? 'ON: compressed transactions (zstd) are decompressed and applied as the events they hold' : 'OFF');
}

function rowValueOptionsItem(facts: SourceFacts): CheckItem {
  const name = 'binlog_row_value_options';
  const value = facts.variables[name];
  if (value === undefined) return ok(name, notApplicable(facts, name, '8.0.3'));
  return value.toUpperCase().includes('PARTIAL_JSON')
    ? ok(name, "PARTIAL_JSON: partial JSON updates are applied as changes to the replica's documents (refused for a masked column)")
    : ok(name, 'full JSON values');
}

function serverIdItem(source: number, replica: number | null, ours: number): CheckItem {
  if (source === 0) return fail('server_id', 'the source has server_id 0, which cannot replicate', 'in my.cnf [mysqld]: server_id = 1, then restart');
  if (source === ours) {
    return fail('server_id', `binlog-sync would announce the source's own server_id ${ours}`, 'pass another --server-id');
  }
  if (replica !== null && replica === source) {
    return fail('server_id', `source and replica both have server_id ${source}`, 'in the replica my.cnf [mysqld]: server_id = 2 (any id the source does not use), then restart it');
  }
  if (replica !== null && replica === ours) {
    return fail('server_id', `binlog-sync would announce the replica's server_id ${ours}`, 'pass another --server-id');
  }
  return ok('server_id', `source ${source}${replica !== null ? `, replica ${replica}` : ''}, binlog-sync ${ours}: all distinct`);
}

function gtidItem(facts: SourceFacts): CheckItem {
  if (facts.flavor === 'mariadb') return ok('gtid', 'MariaDB GTIDs: positions survive binlog rotation and server moves');
  return isOn(facts.variables.gtid_mode)
    ? ok('gtid', 'gtid_mode ON')
    : warn('gtid', 'gtid_mode is OFF: binlog-sync resumes by file and offset', 'in my.cnf [mysqld]: gtid_mode = ON and enforce_gtid_consistency = ON (a rolling change on a running server)');
}

function retentionItem(expireSeconds: number | null): CheckItem {
  if (expireSeconds === null) {
    return warn('binlog retention', 'binlogs are kept forever (disk use grows without bound)', 'SET GLOBAL binlog_expire_logs_seconds = 604800; and in my.cnf [mysqld]: binlog_expire_logs_seconds = 604800');
  }
  const days = expireSeconds / 86_400;
  return days < 1
    ? warn('binlog retention', `binlogs are kept ${Math.round(expireSeconds / 3600)} h: a replicator stopped longer than that must snapshot again`, setting('binlog_expire_logs_seconds', '604800'))
    : ok('binlog retention', `binlogs are kept ${days.toFixed(days < 10 ? 1 : 0)} days`);
}

export function checkStoredPosition(file: string | null, binlogFiles: string[]): CheckItem {
  if (file === null) return ok('stored position', 'no position is stored yet (run `position set` or `snapshot`)');
  return binlogFiles.includes(file)
    ? ok('stored position', `${file} is still on the source`)
    : fail('stored position', `${file} has been purged on the source`, 'run `binlog-sync snapshot` to start over');
}

/** Privileges named in SHOW GRANTS lines for *.* (normalised to upper case). */
export function globalPrivileges(grants: string[]): Set<string> {
  const privileges = new Set<string>();
  for (const line of grants) {
    const m = /^GRANT (.+?) ON \*\.\* TO /i.exec(line);
    if (!m) continue;
    for (const p of m[1]!.split(',')) privileges.add(p.trim().toUpperCase());
  }
  return privileges;
}

const WRITE_PRIVILEGES = ['ALL PRIVILEGES', 'SUPER', 'INSERT', 'UPDATE', 'DELETE', 'CREATE', 'DROP', 'ALTER', 'GRANT OPTION', 'FILE', 'SHUTDOWN'];

export function checkSourceUser(facts: SourceFacts): CheckItem[] {
  const privileges = globalPrivileges(facts.grants);
  const all = privileges.has('ALL PRIVILEGES');
  const has = (p: string): boolean => all || privileges.has(p);
  const grantFix = `GRANT REPLICATION SLAVE, REPLICATION CLIENT, SELECT ON *.* TO ${facts.user};`;
  const items: CheckItem[] = [];
  items.push(
    has('REPLICATION SLAVE') || has('REPLICATION REPLICA')
      ? ok('REPLICATION SLAVE', `${facts.user} may read the binlog`)
      : fail('REPLICATION SLAVE', `${facts.user} may not read the binlog`, grantFix),
  );
  items.push(
    has('REPLICATION CLIENT') || has('BINLOG MONITOR')
      ? ok('REPLICATION CLIENT', `${facts.user} may see binlog positions`)
      : fail('REPLICATION CLIENT', `${facts.user} may not see binlog positions (SHOW MASTER STATUS)`, grantFix),
  );
  items.push(
    has('SELECT')
      ? ok('SELECT', `${facts.user} may read tables (snapshot, verify)`)
      : warn('SELECT', `${facts.user} may not read tables: snapshot and verify will not work`, grantFix),
  );
  const extra = WRITE_PRIVILEGES.filter((p) => privileges.has(p));
  items.push(
    extra.length === 0
      ? ok('least privilege', `${facts.user} holds no write privileges on the source`)
      : warn(
          'least privilege',
          `${facts.user} holds far more than replication needs: ${extra.join(', ')}`,
          `REVOKE ALL PRIVILEGES, GRANT OPTION FROM ${facts.user}; ${grantFix}`,
        ),
  );
  return items;
}

/** How `snapshot` finds the binlog position of its copy without locking production, and what it needs for that. */
export function checkSnapshotPrivilege(facts: SourceFacts): CheckItem {
  const privileges = globalPrivileges(facts.grants);
  if (facts.flavor === 'mariadb') {
    return ok('snapshot', 'MariaDB reports the binlog position of a consistent snapshot: no lock, SELECT is enough');
  }
  return privileges.has('BACKUP_ADMIN') || privileges.has('ALL PRIVILEGES')
    ? ok('snapshot', 'BACKUP_ADMIN: the snapshot position is read from performance_schema.log_status, no lock')
    : warn('snapshot', `${facts.user} lacks BACKUP_ADMIN, which snapshot needs to read its binlog position without a lock`, `GRANT BACKUP_ADMIN ON *.* TO ${facts.user};`);
}

/** What the replicated databases hold besides tables, as `check` judges it (gather.ts reads it). */
export interface ObjectFacts {
  /** `db.trigger` of the source's triggers in the replicated databases. */
  triggers: string[];
  /** DEFINER accounts (`user@host`, as information_schema writes them) of their views, routines and events. */
  definers: string[];
  /** Of those (and of --definer), the accounts the replica does not have. */
  missingOnReplica: string[];
  /** --definer, as given to the command. */
  definer?: string | undefined;
}

/** Triggers are deliberately not copied (informational); DEFINER accounts the replica lacks break the objects. */
export function checkObjects(facts: ObjectFacts): CheckItem[] {
  const items: CheckItem[] = [];
  items.push(
    ok(
      'triggers',
      facts.triggers.length === 0
        ? 'none seen in the replicated databases (the source user sees only triggers it has the TRIGGER privilege on); triggers are never copied, as their effects arrive as rows'
        : `${facts.triggers.length} trigger(s) deliberately not copied, as their effects arrive as rows (a copy would apply them twice): ${list(facts.triggers)}`,
    ),
  );
  if (facts.definer !== undefined) {
    const missing = facts.missingOnReplica.length > 0;
    items.push(
      missing
        ? fail('definers', `--definer ${facts.definer} is not an account of the replica: views, routines and events would fail when used (error 1449)`, `on the replica: CREATE USER ${facts.definer}; and GRANT it what the objects use (e.g. GRANT SELECT, EXECUTE ON db.* TO ${facts.definer};)`)
        : ok('definers', `views, routines and events get DEFINER ${facts.definer}, an account of the replica`),
    );
    return items;
  }
  if (facts.missingOnReplica.length === 0) {
    items.push(ok('definers', facts.definers.length === 0 ? 'no views, routines or events' : `every DEFINER of the views, routines and events exists on the replica (${list(facts.definers)})`));
  } else {
    const accounts = facts.missingOnReplica.map(quotedAccount);
    items.push(
      warn(
        'definers',
        `the replica lacks the DEFINER account(s) ${list(accounts)}: the views, routines and events they define fail there when used (error 1449)`,
        `on the replica: ${accounts.map((a) => `CREATE USER ${a};`).join(' ')} (and GRANT them what the objects use); or run with --definer 'user'@'host' naming an account of the replica`,
      ),
    );
  }
  return items;
}

/** `user@host` (information_schema's DEFINER) as `'user'@'host'`; the host follows the last `@`. */
export function quotedAccount(definer: string): string {
  const at = definer.lastIndexOf('@');
  const q = (s: string): string => `'${s.replace(/'/g, "''")}'`;
  return at < 0 ? q(definer) : `${q(definer.slice(0, at))}@${q(definer.slice(at + 1))}`;
}

export function checkReplica(facts: ReplicaFacts): CheckItem[] {
  const items: CheckItem[] = [];
  items.push(
    facts.readOnly
      ? ok('read_only', 'the replica is read-only: nothing but binlog-sync can change it')
      : warn('read_only', 'the replica is writable: tests or people can make it drift from the source', setting('read_only', 'ON')),
  );
  items.push(
    facts.localInfile
      ? ok('local_infile', 'large inserts are loaded as files (LOAD DATA LOCAL INFILE), the fastest way in')
      : warn('local_infile', 'off: large inserts are applied as INSERT statements, which costs the replica about a third more', setting('local_infile', 'ON')),
  );
  if (facts.binlogStatements) items.push(checkRowApplier(facts));
  if (facts.write.ok) {
    items.push(ok('applier can write', `${facts.user} can write to the replica${facts.readOnly ? ' despite read_only' : ''}`));
  } else if (facts.write.errno === ER_OPTION_PREVENTS_STATEMENT || /read.only/i.test(facts.write.message)) {
    const privilege = facts.flavor === 'mariadb' ? 'READ_ONLY ADMIN' : 'CONNECTION_ADMIN';
    items.push(
      fail(
        'applier can write',
        `${facts.user} cannot write to the read-only replica: it lacks the ${privilege} privilege (${facts.write.message})`,
        `GRANT ${privilege} ON *.* TO ${facts.user};`,
      ),
    );
  } else {
    items.push(
      fail(
        'applier can write',
        `${facts.user} cannot write to the replica: ${facts.write.message}`,
        `GRANT ALL PRIVILEGES ON *.* TO ${facts.user}; (at least CREATE, DROP, ALTER, INDEX, INSERT, UPDATE, DELETE, REFERENCES on the replicated databases and binlog_sync)`,
      ),
    );
  }
  return items;
}

/** Row events are applied by the replica's own row code (BINLOG statements) when its user may; else as SQL, slower. */
function checkRowApplier(facts: ReplicaFacts): CheckItem {
  const name = 'row applier';
  const answer = facts.binlogStatements!;
  if (answer.ok) return ok(name, "row events are applied by the replica's own row code (BINLOG statements), as its own replica threads would");
  const grant = binlogGrant(facts.flavor);
  const cost = 'row events are applied as SQL statements built by binlog-sync, which catch up more slowly (docs/replication.md, two row paths)';
  return answer.privilege
    ? warn(name, `${facts.user} lacks ${grant}: ${cost}`, `GRANT ${grant} ON *.* TO ${facts.user};`)
    : warn(name, `the replica refused a BINLOG statement (${answer.message}): ${cost}`, `GRANT ${grant} ON *.* TO ${facts.user};`);
}

/**
 * The replica must take every row the source accepted: a statement carrying
 * a row is at most the source's max_allowed_packet (plus a little SQL).
 */
export function checkPacketLimit(source: number | undefined, replica: number | undefined): CheckItem {
  const name = 'max_allowed_packet';
  if (source === undefined || replica === undefined) return ok(name, 'not compared (source or replica not reached)');
  if (replica >= source) return ok(name, `replica ${describeBytes(replica)} takes every row the source accepts (${describeBytes(source)})`);
  return warn(
    name,
    `the replica takes statements of ${describeBytes(replica)}, the source rows of up to ${describeBytes(source)}: ` +
      '`start` raises the replica\'s limit when its user may (SUPER or SYSTEM_VARIABLES_ADMIN), else stops at the first larger row',
    packetLimitFix(source + PACKET_SLACK),
  );
}

/** What --databases selects on the source: that it exists, what is replicated, and that the source user may read it. */
export function checkSelection(selected: SelectedDatabase[] | undefined, user: string): CheckItem[] {
  if (selected === undefined) return [];
  if (selected.length === 0) return [warn('databases', 'no --databases given: nothing will be replicated', 'pass --databases db1,db2 (or BINLOG_SYNC_DATABASES)')];
  const items: CheckItem[] = [];
  for (const db of selected) {
    const name = `database ${db.database}`;
    if (!db.exists) {
      items.push(warn(name, `not on the source (or ${user} may not see it): nothing of it is replicated until it is created`, `CREATE DATABASE on the source, or GRANT SELECT ON \`${db.database}\`.* TO ${user};`));
      continue;
    }
    const left = db.excluded.length ? `; left out by --include-tables/--exclude-tables: ${db.excluded.join(', ')}` : '';
    if (db.unreadable.length > 0) {
      const first = db.unreadable[0]!;
      items.push(
        fail(
          name,
          `${user} may not read ${db.unreadable.map((u) => u.table).join(', ')} (${first.message}): snapshot and verify will fail`,
          `GRANT SELECT ON \`${db.database}\`.* TO ${user};`,
        ),
      );
    } else {
      items.push(ok(name, `${db.tables.length} table(s) replicated${db.tables.length ? `: ${db.tables.join(', ')}` : ''}${left}; ${user} may read them`));
    }
  }
  return items;
}

/** What `check` holds the masking against: the replicated columns and --mask with its key. */
export interface MaskFacts {
  /** The columns of the replicated tables (absent without --databases: nothing to hold the rules against). */
  columns?: SourceColumn[] | undefined;
  mask: MaskSettings;
}

const KEY_NOTE = 'hash and email need the secret key: --mask-key-file FILE (make one with `openssl rand -hex 32 > mask.key`)';

/** Edits (insert, delete, substitute) from one name to another, case aside. */
function editDistance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  let row = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const next = [i];
    for (let j = 1; j <= y.length; j++) next.push(Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (x[i - 1] === y[j - 1] ? 0 : 1)));
    row = next;
  }
  return row[y.length]!;
}

/** The column a mistyped name most likely meant (at most two edits, and fewer than half the name), if one stands out. */
function closest(name: string, columns: readonly SourceColumn[]): SourceColumn | undefined {
  const scored = columns.map((c) => ({ c, d: editDistance(name, c.name) })).filter((s) => s.d <= 2 && s.d * 2 < name.length);
  scored.sort((a, b) => a.d - b.d);
  return scored.length > 0 && (scored.length === 1 || scored[0]!.d < scored[1]!.d) ? scored[0]!.c : undefined;
}

/** The fix of a rule that cannot be honoured: a rule that can, or what to drop. */
function issueFix(issue: MaskIssue, columns: readonly SourceColumn[]): string {
  const { rule, column } = issue;
  if (!column) {
    const ofTable = columns.filter((c) => c.database === rule.database && c.table === rule.table);
    const near = closest(rule.column, ofTable);
    if (near && methodRefusal(rule.method, near) === undefined) {
      const line = `${rule.database}.${rule.table}.${near.name}=${rule.text.slice(rule.text.indexOf('=') + 1)}`;
      return `${maskFlag(line)} in place of ${maskFlag(rule.text)}, if ${near.name} is the column meant; or drop the rule`;
    }
    if (ofTable.length > 0) return `name a column of ${rule.database}.${rule.table} (${list(ofTable.map((c) => c.name))}), or drop the rule`;
    const tables = [...new Set(columns.filter((c) => c.database === rule.database).map((c) => c.table))];
    if (tables.length > 0) {
      return `name a replicated table of ${rule.database} (${list(tables)}), or drop the rule; --include-tables and --exclude-tables decide which are replicated`;
    }
    return `${rule.database} has no replicated table (--databases, --include-tables, --exclude-tables): correct the rule or drop it`;
  }
  const where = `${column.database}.${column.table}.${column.name}`;
  if (column.generated) return `leave ${where} out of the rule and mask the columns it is computed from`;
  const replacement = suggestRule(column, personalKind(column.table, column.name, column.columnType, column.characterSet), rule.method.name);
  if (!replacement) return `no method fits ${where}: leave it out of the rule, or leave its table out (--exclude-tables ${column.database}.${column.table})`;
  return rule.wildcards === 0
    ? `${maskFlag(replacement)} in place of ${maskFlag(rule.text)}`
    : `add ${maskFlag(replacement)} (a rule naming the column wins over ${rule.text})`;
}

/**
 * The --mask rules against the replicated columns: every combination that
 * cannot be honoured fails (as `start` and `snapshot` would refuse it), with a
 * rule that can; columns whose names look personal and that no rule covers
 * are a warning, with the ready `--mask` lines.
 */
export function checkMasking(facts: MaskFacts): CheckItem[] {
  const masker = new Masker(facts.mask);
  if (facts.columns === undefined) {
    return masker.active ? [warn('masking', 'the --mask rules are not held against the source without --databases', 'pass --databases db1,db2 (or BINLOG_SYNC_DATABASES)')] : [];
  }
  const columns = facts.columns;
  const plan = planColumns(columns, masker);
  const items: CheckItem[] = plan.issues.map((issue) => {
    const name = issue.column ? `mask ${issue.column.database}.${issue.column.table}.${issue.column.name}` : `mask ${issue.rule.database}.${issue.rule.table}.${issue.rule.column}`;
    return fail(name, issue.problem, issueFix(issue, columns));
  });
  if (masker.active && plan.issues.length === 0) {
    const masked = plan.masked.map((m) => `${m.column} (${m.rule.slice(m.rule.indexOf('=') + 1)})`);
    items.push(
      ok(
        'masking',
        masked.length > 0
          ? `${masked.length} column(s) masked by ${masker.rules.length} rule(s), each as its column can take it: ${list(masked)}`
          : `the ${masker.rules.length} rule(s) match no replicated column: nothing is masked`,
      ),
    );
  }
  const unmasked: Array<{ column: SourceColumn; kind: PersonalKind }> = [];
  for (const column of columns) {
    if (column.generated || masker.ruleFor(column.database, column.table, column.name)) continue;
    const kind = personalKind(column.table, column.name, column.columnType, column.characterSet);
    if (kind) unmasked.push({ column, kind });
  }
  if (unmasked.length > 0) {
    const where = (c: SourceColumn): string => `${c.database}.${c.table}.${c.name}`;
    const lines: string[] = [];
    const unfit: string[] = [];
    for (const { column, kind } of unmasked) {
      const rule = suggestRule(column, kind);
      if (rule) lines.push(rule);
      else unfit.push(where(column));
    }
    const keyed = !facts.mask.key && lines.some((r) => KEYED_METHODS.has(r.slice(r.indexOf('=') + 1)));
    const fix = [
      lines.length > 0 ? lines.map(maskFlag).join(' ') : '',
      keyed ? `(${KEY_NOTE})` : '',
      unfit.length > 0 ? `no method fits ${unfit.join(', ')}: leave ${unfit.length > 1 ? 'their tables' : 'its table'} out (--exclude-tables)` : '',
    ];
    items.push(
      warn(
        'unmasked columns',
        `${unmasked.length} replicated column(s) look personal and no --mask rule covers them: ${list(unmasked.map((u) => `${where(u.column)} (${u.kind})`))}`,
        fix.filter((f) => f !== '').join(' '),
      ),
    );
  }
  return items;
}

/** Tables named in a check line: the first few, and how many more. */
const LISTED_TABLES = 5;

/**
 * The replicated tables whose values may be larger than the replica takes
 * (from their column types, never from their rows: check reads no table):
 * fine when the replica's limit is the source's, or when `start` may raise
 * it; else the tables, and the fix, before a row stops replication.
 */
export function checkLargeValues(
  selected: SelectedDatabase[] | undefined,
  source: number | undefined,
  replica: number | undefined,
  mayRaise: ReplicaFacts['mayRaisePacket'],
): CheckItem[] {
  const name = 'large values';
  const tables = (selected ?? []).flatMap((db) => (db.large ?? []).map((t) => ({ ...t, table: `${db.database}.${t.table}` })));
  if (selected === undefined || source === undefined || replica === undefined) return [];
  if (tables.length === 0) return [ok(name, 'no replicated table has a column for values of 16 MB or more (MEDIUMBLOB, LONGBLOB, MEDIUMTEXT, LONGTEXT, JSON)')];
  const largest = Math.min(source, Math.max(...tables.flatMap((t) => t.columns.map((c) => c.maxBytes))));
  const listed = tables
    .slice(0, LISTED_TABLES)
    .map((t) => `${t.table} (${t.columns.map((c) => `${c.name} ${c.type.toUpperCase()}`).join(', ')}${t.keyless ? '; no primary key' : ''})`)
    .join(', ');
  const more = tables.length > LISTED_TABLES ? ` and ${tables.length - LISTED_TABLES} more` : '';
  const bound = largest === source ? "the source's max_allowed_packet" : 'as their types allow';
  const what = `${tables.length} replicated table(s) may hold values up to ${describeBytes(largest)} (${bound}): ${listed}${more}`;
  const keyless = tables.some((t) => t.keyless);
  // With a key, a statement carries a value once (escaped); without, an
  // update carries both images and a text twice: up to 1G, as the server's
  // own replica takes (slave_max_allowed_packet).
  const needed = roundedLimit(keyless ? MAX_PACKET_LIMIT : source + PACKET_SLACK);
  const why = keyless ? '; an update of a row without a primary key carries both images, its statement several times the row' : '';
  if (replica >= needed) return [ok(name, `${what}; the replica takes them (${describeBytes(replica)})`)];
  if (mayRaise?.ok) {
    return [ok(name, `${what}; the replica takes ${describeBytes(replica)}, and its user may raise that, which \`start\` and \`snapshot\` do (to 1G for a statement that needs more than the source's)${why}`)];
  }
  const refused = mayRaise && !mayRaise.ok ? ` (${mayRaise.message})` : '';
  return [
    warn(
      name,
      `${what}; the replica takes statements of ${describeBytes(replica)} and its user may not raise that${refused}${why}: a larger row stops replication before its transaction is applied`,
      packetLimitFix(needed),
    ),
  ];
}
