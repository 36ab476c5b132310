// The source's collations by id. A table map names each text column's
// collation by id only (binlog_row_metadata=FULL), and zongji guesses the
// character set from MySQL's own table of ids, utf8mb4 for an id it does not
// know: MariaDB's NO PAD collations (utf16_general_nopad_ci is 1078,
// sjis_japanese_nopad_ci 1037) and others would be decoded as UTF-8, each
// byte a character. The source's own table says what each id is.
import { queryAll, type Connection } from '../db/connect.js';

export interface Collation {
  name: string;
  /** Its character set, as information_schema names it (utf8mb3, ucs2, ...). */
  charset: string;
}

export type Collations = Readonly<Record<number, Collation>>;

/**
 * Every collation id the source knows. MariaDB 10.10+ lists an id for each
 * character set a UCA-14 collation applies to (utf8mb4_uca1400_ai_ci, ...)
 * only in COLLATION_CHARACTER_SET_APPLICABILITY; older servers and MySQL,
 * in COLLATIONS.
 */
export async function readCollations(conn: Connection): Promise<Collations> {
  let rows: Array<{ id: number | string | null; name: string; charset: string }>;
  try {
    rows = await queryAll(
      conn,
      'SELECT ID AS id, FULL_COLLATION_NAME AS name, CHARACTER_SET_NAME AS charset FROM information_schema.COLLATION_CHARACTER_SET_APPLICABILITY',
    );
  } catch {
    rows = await queryAll(conn, 'SELECT ID AS id, COLLATION_NAME AS name, CHARACTER_SET_NAME AS charset FROM information_schema.COLLATIONS');
  }
  const out: Record<number, Collation> = {};
  for (const r of rows) if (r.id !== null && r.charset) out[Number(r.id)] = { name: r.name, charset: r.charset };
  return out;
}
