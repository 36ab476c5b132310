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
  for (const file of files) parseDecoded(await mariadbBinlog([file]), databases, byTable);
  return { byTable };
}

async function mariadbBinlog(files: string[]): Promise<string> {
  // Not GTID-strict: a test may write one GTID twice in a row (sequences), which the source accepted.
  const child = spawn('mariadb-binlog', ['--no-defaults', '--skip-gtid-strict-mode', '--base64-output=decode-rows', '-vv', ...files], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out: Buffer[] = [];
  let err = '';
  child.stdout.on('data', (d: Buffer) => out.push(d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  if (code !== 0) throw new Error(`mariadb-binlog failed (exit ${code}): ${err.trim().split('\n')[0]}`);
  // latin1 keeps every byte as one character: values are compared, not shown.
  return Buffer.concat(out).toString('latin1');
}

const HEAD = /^### (INSERT INTO|UPDATE|DELETE FROM) `((?:[^`]|``)*)`\.`((?:[^`]|``)*)`$/;
const COLUMN = /^### {3}@(\d+)=(.*) \/\* (.*?) meta=\d+ nullable=\d is_null=\d \*\/$/;

/**
 * Row images as lines. Left out, as the oracle says: updates that
 * change nothing, and the stored bytes of COMPRESSED columns (the final
 * state compares their values decompressed).
 */
export function parseDecoded(text: string, databases: ReadonlySet<string>, byTable: Map<string, string[]>): void {
  let table: string | null = null;
  let kind = '';
  let part = '';
  let before: string[] = [];
  let after: string[] = [];
  const flush = (): void => {
    if (table === null) return;
    const line =
      kind === 'UPDATE' ? `UPDATE WHERE ${before.join(' ')} SET ${after.join(' ')}` : `${kind} ${(kind === 'INSERT' ? after : before).join(' ')}`;
    const noOp = kind === 'UPDATE' && before.join(' ') === after.join(' ');
    if (!noOp) {
      const list = byTable.get(table) ?? [];
      list.push(line);
      byTable.set(table, list);
    }
    table = null;
  };
  for (const raw of text.split('\n')) {
    if (!raw.startsWith('###')) {
      flush();
      continue;
    }
    const head = HEAD.exec(raw);
    if (head) {
      flush();
      const db = Buffer.from(head[2]!.replace(/``/g, '`'), 'latin1').toString('utf8');
      const name = head[3]!.replace(/``/g, '`');
      if (!databases.has(db)) continue;
      table = `${db}.${name}`;
      kind = head[1] === 'INSERT INTO' ? 'INSERT' : head[1] === 'UPDATE' ? 'UPDATE' : 'DELETE';
      before = [];
      after = [];
      part = kind === 'INSERT' ? 'SET' : 'WHERE';
      continue;
    }
    if (table === null) continue;
    // mariadb-binlog prints the head again for each row of an event.
    if (raw === '### WHERE') part = 'WHERE';
    else if (raw === '### SET') part = 'SET';
    else {
      const column = COLUMN.exec(raw);
      if (!column) continue;
      const value = /COMPRESSED/.test(column[3]!) ? '<compressed>' : column[2]!;
      (part === 'WHERE' ? before : after).push(`@${column[1]}=${value}`);
    }
  }
  flush();
}
