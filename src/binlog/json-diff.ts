// Pure: MySQL 8's partial JSON updates (binlog_row_value_options=PARTIAL_JSON,
// a PARTIAL_UPDATE_ROWS event, type 39). Where a statement changed part of a
// JSON document (JSON_SET, JSON_REPLACE, JSON_REMOVE of the column itself),
// the after image holds, in place of the document, the changes: each an
// operation, a path and (but for a removal) the new value in MySQL's binary
// JSON. With binlog_row_image=MINIMAL the before image holds the key alone,
// so the new document cannot be made here: the changes are applied on the
// replica, by its own JSON functions, in the order the source made them.
// Layout (MySQL's sql/json_diff.cc, Json_diff_vector::write_binary): per
// change, the operation (1 byte), the path (length-encoded), and the value
// (length-encoded) unless the operation is a removal.

/** MySQL's enum_json_diff_operation, in its order. */
const OPERATIONS = ['replace', 'insert', 'remove'] as const;
export type JsonDiffOperation = (typeof OPERATIONS)[number];

export interface JsonDiff {
  operation: JsonDiffOperation;
  /** A JSON path as MySQL writes it (`$.a[1]`). */
  path: string;
  /** The new value as JSON text; absent for a removal. */
  value?: string;
}

/** A JSON column's value in a partial update's after image: the changes to the document the row holds. */
export interface JsonDiffValue {
  jsonDiffs: JsonDiff[];
}

export function isJsonDiffValue(value: unknown): value is JsonDiffValue {
  return typeof value === 'object' && value !== null && Array.isArray((value as { jsonDiffs?: unknown }).jsonDiffs);
}

/** A length-encoded integer of `bytes` at `at`: its value and its size. */
function lengthEncoded(bytes: Buffer, at: number): [number, number] {
  const first = bytes[at];
  if (first === undefined) throw new Error('a partial JSON update ends early');
  if (first < 251) return [first, 1];
  const size = first === 252 ? 2 : first === 253 ? 3 : first === 254 ? 8 : 0;
  if (size === 0 || at + 1 + size > bytes.length) throw new Error('a partial JSON update with a malformed length');
  return [size === 8 ? Number(bytes.readBigUInt64LE(at + 1)) : bytes.readUIntLE(at + 1, size), 1 + size];
}

/**
 * The changes a partial JSON value holds (`bytes`: the column's value, its
 * length prefix read), their values made JSON text by `jsonText` (a
 * decoder of MySQL's binary JSON). Throws on anything that does not add up.
 */
export function parseJsonDiffs(bytes: Buffer, jsonText: (binary: Buffer) => string): JsonDiff[] {
  const diffs: JsonDiff[] = [];
  let at = 0;
  const take = (): Buffer => {
    const [length, size] = lengthEncoded(bytes, at);
    at += size;
    if (at + length > bytes.length) throw new Error('a partial JSON update ends early');
    const value = bytes.subarray(at, at + length);
    at += length;
    return value;
  };
  while (at < bytes.length) {
    const code = bytes[at++]!;
    const operation = OPERATIONS[code];
    if (!operation) throw new Error(`a partial JSON update with an unknown operation (${code})`);
    const path = take().toString('utf8');
    if (operation === 'remove') diffs.push({ operation, path });
    else diffs.push({ operation, path, value: jsonText(take()) });
  }
  return diffs;
}

/** Whether a path's last step is an array cell (`$.a[2]`), not an object member (`$.a.b`). */
function endsInArrayCell(path: string): boolean {
  return /\[[^\]]*\]\s*$/.test(path);
}

/**
 * The SQL expression that makes the column's new document from the one the
 * replica holds (`column`: its quoted name), with its parameters: MySQL's
 * REPLACE is JSON_REPLACE; its INSERT adds an object member (JSON_INSERT)
 * or, at an array cell, inserts before it (JSON_ARRAY_INSERT), as
 * json_diff.cc applies them; REMOVE is JSON_REMOVE. A value goes through
 * JSON_EXTRACT(?, '$') so that it is taken as JSON, not as a string (MySQL
 * and MariaDB alike).
 */
export function jsonDiffExpression(column: string, diffs: readonly JsonDiff[]): { sql: string; params: unknown[] } {
  let sql = column;
  const params: unknown[] = [];
  for (const diff of diffs) {
    if (diff.operation === 'remove') {
      sql = `JSON_REMOVE(${sql}, ?)`;
      params.push(diff.path);
      continue;
    }
    const fn = diff.operation === 'replace' ? 'JSON_REPLACE' : endsInArrayCell(diff.path) ? 'JSON_ARRAY_INSERT' : 'JSON_INSERT';
    sql = `${fn}(${sql}, ?, JSON_EXTRACT(?, '$'))`;
    params.push(diff.path, diff.value);
  }
  return { sql, params };
}
