import { describe, expect, it } from 'vitest';
import { explainCollision } from '../../../src/mask/collision.js';
import { ApplyError, MaskError } from '../../../src/errors.js';

function duplicate(table: string | null): ApplyError {
  const cause = Object.assign(new Error("Duplicate entry 'ab' for key 'code'"), { errno: 1062 });
  return new ApplyError(`applying insert on ${table ?? 'somewhere'} failed on the replica: Duplicate entry 'ab' for key 'code' (error 1062)`, {
    cause,
    location: { gtid: '0-1-5', file: null, position: null, table, statement: 'insert' },
  });
}

describe('masking collisions', () => {
  it('tells a duplicate key on a table with masked columns as a masking collision, naming table and columns', () => {
    const error = explainCollision(duplicate('park.visitors'), ['park.visitors.email', 'park.visitors.code', 'park.tickets.email']);
    expect(error).toBeInstanceOf(MaskError);
    expect((error as Error).message).toMatch(/^masking made two distinct rows of park\.visitors collide on a unique key \(masked columns: email, code\)/);
    expect((error as MaskError).cause).toBeInstanceOf(ApplyError);
  });

  it('leaves other errors, and duplicates on tables without masked columns, as they are', () => {
    const other = duplicate('park.rides');
    expect(explainCollision(other, ['park.visitors.email'])).toBe(other);
    expect(explainCollision(other, [])).toBe(other);
    const notDuplicate = new ApplyError('lock wait', { cause: Object.assign(new Error('x'), { errno: 1205 }) });
    expect(explainCollision(notDuplicate, ['park.visitors.email'])).toBe(notDuplicate);
  });

  it('finds the table in the message when the error has no location (snapshot)', () => {
    const cause = Object.assign(new Error("Duplicate entry 'ab' for key 'code'"), { errno: 1062 });
    const error = new ApplyError("copying rows into park.visitors failed: Duplicate entry 'ab' for key 'code'", { cause });
    expect(explainCollision(error, ['park.visitors.code'])).toBeInstanceOf(MaskError);
    expect(explainCollision(error, ['park.visitors.code'], 'park.visitors')).toBeInstanceOf(MaskError);
  });
});
