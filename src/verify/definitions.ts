// Table definitions as `verify` compares them: SHOW CREATE TABLE on each
// side, with what legitimately differs between a source and its replica
// taken out, and the lines that differ named for the report.

/** The lines of a definition that only one side has. */
export interface DefinitionDifference {
  source: string[];
  replica: string[];
}

/**
 * A definition as SHOW CREATE TABLE prints it, without the AUTO_INCREMENT
 * counter (the next value to hand out is not part of the schema, and the
 * replica's may run ahead of the source's or behind it). The source's
 * definition has its database names rewritten first (--rewrite-db), as
 * `snapshot` does when it creates the table.
 */
export function normalizeDefinition(ddl: string): string {
  return ddl.replace(/ AUTO_INCREMENT=\d+/, '');
}

const lines = (definition: string): string[] => definition.split('\n').map((line) => line.trim().replace(/,$/, ''));

/** Lines of `a` not matched one for one by a line of `b`. */
function unmatched(a: string[], b: string[]): string[] {
  const rest = new Map<string, number>();
  for (const line of b) rest.set(line, (rest.get(line) ?? 0) + 1);
  return a.filter((line) => {
    const left = rest.get(line) ?? 0;
    if (left > 0) rest.set(line, left - 1);
    return left === 0;
  });
}

/**
 * How two normalized definitions differ: the lines (columns, keys,
 * constraints, table options, partitions) only one side has, trailing commas
 * aside; undefined when they are the same. Definitions with the same lines in
 * another order (columns reordered) differ as wholes.
 */
export function definitionDifference(source: string, replica: string): DefinitionDifference | undefined {
  if (source === replica) return undefined;
  const a = lines(source);
  const b = lines(replica);
  const difference = { source: unmatched(a, b), replica: unmatched(b, a) };
  return difference.source.length || difference.replica.length ? difference : { source: a, replica: b };
}
