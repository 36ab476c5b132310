// The parser's read position: every grammar function (parse.ts,
// parse-object.ts) steps through the same token list with it, and the names it
// reads keep their source range so a rewrite can splice over them.
import { isKeyword, isName, isPunct, type Token } from '../sql-lexer.js';

/** A table name as written: its tokens and the source range they span. */
export interface NameRef {
  database: Token | undefined;
  table: Token;
  start: number;
  end: number;
}

/** A read position over code tokens, with the small vocabulary the grammar needs. */
export class Cursor {
  pos = 0;
  constructor(readonly tokens: readonly Token[]) {}

  peek(ahead = 0): Token | undefined {
    return this.tokens[this.pos + ahead];
  }

  atEnd(): boolean {
    return this.pos >= this.tokens.length;
  }

  /** Consumes the keyword sequence `words` if all of it is next; otherwise consumes nothing. */
  accept(...words: string[]): boolean {
    if (!words.every((word, i) => isKeyword(this.peek(i), word))) return false;
    this.pos += words.length;
    return true;
  }

  acceptPunct(char: string): boolean {
    if (!isPunct(this.peek(), char)) return false;
    this.pos++;
    return true;
  }

  /** Consumes a possibly qualified name (`t`, `db.t`, `` `db` . `t` ``). */
  name(): NameRef | undefined {
    const first = this.peek();
    if (!isName(first)) return undefined;
    if (isPunct(this.peek(1), '.') && isName(this.peek(2))) {
      const table = this.peek(2)!;
      this.pos += 3;
      return { database: first, table, start: first.start, end: table.end };
    }
    this.pos++;
    return { database: undefined, table: first, start: first.start, end: first.end };
  }

  /** Consumes a single unqualified name token (an index or database name). */
  simpleName(): Token | undefined {
    const token = this.peek();
    if (!isName(token)) return undefined;
    this.pos++;
    return token;
  }
}
