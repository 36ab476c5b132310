// What a joinable statement carries to be joined with others of its kind
// (statement-buffer.ts joins them; sql/statements.ts makes them). Apart from
// statements.ts so that an event can carry one without importing the builders.

/**
 * Rows of a DELETE or UPDATE located by their primary key in a list, as
 * buildDeleteByKeys and buildUpdateByKeys build it: the text is `head`, the
 * rows, `tail`. Two statements of the same head and tail (one table, one key,
 * the same columns set) touch only their own rows, so when their keys are
 * disjoint, one statement of both lists changes what the two did one after
 * the other (statement-buffer.ts joins them, and the applier then checks that
 * the sum of their rows was changed).
 */
export interface KeyList {
  head: string;
  tail: string;
  /** Its rows as they open the list (an UPDATE's first names the derived table's columns); absent: its text between head and tail. */
  opening?: string;
  /** Its rows as they follow another statement's; absent: as they open the list (a DELETE's). */
  following?: string;
  /** What goes before rows that follow others; `afterOne` after a list of one row, where that differs (MariaDB's `UNION ALL VALUES`). */
  separator: string;
  afterOne?: string;
  /** The values of `opening` and `following` when these are given: its rows' key then new values (a statement's own may be in another order). */
  params?: unknown[];
  /** Its rows' keys (see keyText), a newline between two, and how many rows. */
  keys: string;
  rows: number;
}
