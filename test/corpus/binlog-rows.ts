// The row changes a server logged, read with the server's own decoder
// (`mariadb-binlog --base64-output=decode-rows -vv`), never with binlog-sync's:
// the oracle must not share the code it judges. Each change becomes one line
// per table ("INSERT SET @1=1 @2='a'", "UPDATE WHERE ... SET ..."), so two
// servers' logs compare as multisets of lines.
import { spawn } from 'node:child_process';

export interface RowChanges {
  /** `db`.`table` -> change lines, in log order. */
  byTable: Map<string, string[]>;
}

/** Decodes binlog files (full paths) into row changes of the given databases. */
export async function decodeRowChanges(files: string[], databases: ReadonlySet<string>): Promise<RowChanges> {
  const byTable = new Map<string, string[]>();
  if (files.length === 0) return { byTable };
  // One file at a time: given several, mariadb-binlog checks that their GTID states follow on, which a
  // replica's files after a reposition need not.
  for (const file of files) {
    const parser = new DecodedRows(databases, byTable);
    await mariadbBinlog(file, (line) => parser.line(line));
    parser.end();
  }
  return { byTable };
}

/** Streams the decoded file line by line: a file of big rows decodes to more than a string may hold. */
async function mariadbBinlog(file: string, onLine: (line: string) => void): Promise<void> {
  // Not GTID-strict: a test may write one GTID twice in a row (sequences), which the source accepted.
  const child = spawn('mariadb-binlog', ['--no-defaults', '--skip-gtid-strict-mode', '--base64-output=decode-rows', '-vv', file], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  let rest = '';
  // latin1 keeps every byte as one character: values are compared, not shown.
  child.stdout.setEncoding('latin1').on('data', (chunk: string) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop()!;
    for (const line of lines) onLine(line);
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  if (rest) onLine(rest);
  if (code !== 0) throw new Error(`mariadb-binlog failed (exit ${code}): ${err.trim().split('\n')[0]}`);
}

const HEAD = /^### (INSERT INTO|UPDATE|DELETE FROM) `((?:[^`]|``)*)`\.`((?:[^`]|``)*)`$/;
const COLUMN = /^### {3}@(\d+)=(.*) \/\* (.*?) meta=\d+ nullable=\d is_null=\d \*\/$/;

/**
 * Row images as lines. Left out, as the oracle says: updates that
 * change nothing, and the stored bytes of COMPRESSED columns (the final
 * state compares their values decompressed).
 */
export function parseDecoded(text: string, databases: ReadonlySet<string>, byTable: Map<string, string[]>): void {
  const parser = new DecodedRows(databases, byTable);
  for (const line of text.split('\n')) parser.line(line);
  parser.end();
}

class DecodedRows {
  private table: string | null = null;
  private kind = '';
  private part = '';
  private before: string[] = [];
  private after: string[] = [];

  constructor(
    private readonly databases: ReadonlySet<string>,
    private readonly byTable: Map<string, string[]>,
  ) {}

  line(raw: string): void {
    if (!raw.startsWith('###')) return this.end();
    const head = HEAD.exec(raw);
    if (head) {
      this.end();
      const db = Buffer.from(head[2]!.replace(/``/g, '`'), 'latin1').toString('utf8');
      const name = head[3]!.replace(/``/g, '`');
      if (!this.databases.has(db)) return;
      this.table = `${db}.${name}`;
      this.kind = head[1] === 'INSERT INTO' ? 'INSERT' : head[1] === 'UPDATE' ? 'UPDATE' : 'DELETE';
      this.before = [];
      this.after = [];
      this.part = this.kind === 'INSERT' ? 'SET' : 'WHERE';
      return;
    }
    if (this.table === null) return;
    // mariadb-binlog prints the head again for each row of an event.
    if (raw === '### WHERE') this.part = 'WHERE';
    else if (raw === '### SET') this.part = 'SET';
    else {
      const column = COLUMN.exec(raw);
      if (!column) return;
      const value = /COMPRESSED/.test(column[3]!) ? '<compressed>' : column[2]!;
      (this.part === 'WHERE' ? this.before : this.after).push(`@${column[1]}=${value}`);
    }
  }

  /** The row being read is complete. */
  end(): void {
    if (this.table === null) return;
    const before = this.before.join(' ');
    const after = this.after.join(' ');
    const line = this.kind === 'UPDATE' ? `UPDATE WHERE ${before} SET ${after}` : `${this.kind} ${this.kind === 'INSERT' ? after : before}`;
    if (!(this.kind === 'UPDATE' && before === after)) {
      const list = this.byTable.get(this.table) ?? [];
      list.push(line);
      this.byTable.set(this.table, list);
    }
    this.table = null;
  }
}
