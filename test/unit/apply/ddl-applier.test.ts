// What a DDL's failure says when it refers to a table of a database the
// replica does not have (a sequence in a DEFAULT, a view's table).
import { describe, expect, it } from 'vitest';
import { missingElsewhere } from '../../../src/apply/ddl-applier.js';
import { ApplyError } from '../../../src/errors.js';

const failure = (message: string, errno = 1146): ApplyError =>
  new ApplyError(`applying CREATE TABLE on app.t3 at GTID 0-1-6 failed on the replica: ${message} (error ${errno})`, {
    cause: Object.assign(new Error(message), { errno, sqlMessage: message }),
  });

describe('a DDL that refers to another database', () => {
  it('names the table, its database and the ways on when that database is not among its targets', () => {
    const said = missingElsewhere(failure("Table 'other.s1' doesn't exist"), ['app.t3']);
    expect(said).toBeInstanceOf(ApplyError);
    expect(said!.message).toContain("Table 'other.s1' doesn't exist");
    expect(said!.message).toContain('add it to --databases and seed it with `binlog-sync snapshot`, or create other.s1 on the replica, then start again');
  });

  it('says nothing more about a table of its own database, or about another error', () => {
    expect(missingElsewhere(failure("Table 'app.s1' doesn't exist"), ['app.t3'])).toBeUndefined();
    expect(missingElsewhere(failure('Duplicate column name', 1060), ['app.t3'])).toBeUndefined();
    expect(missingElsewhere(new Error("Table 'other.s1' doesn't exist"), ['app.t3'])).toBeUndefined();
  });
});
