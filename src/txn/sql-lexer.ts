// A small tokenizer for the MySQL/MariaDB SQL found in binlog Query events.
// It does not parse; it only splits the text into tokens that remember their
// exact source offsets, so callers can rewrite a statement by splicing the
// original text and leave everything they do not understand byte-for-byte
// alone. It never throws: odd input (an unterminated quote or comment) becomes
// a token that runs to the end of the text.

export type TokenKind =
  /** A bare word: keyword or unquoted name (`ALTER`, `rides`, `café`). */
  | 'identifier'
  /** A backtick-quoted name; `value` is the name with `` `` `` undoubled. */
  | 'quoted'
  /** A '...' or "..." literal; `value` is its unescaped content. */
  | 'string'
  | 'number'
  /**
   * `-- ...`, `# ...`, `/* ... *\/`, and also the opening (`/*!50001`,
   * `/*M!100100`) and closing (`*\/`) markers of executable comments, whose
   * contents are tokenized as code.
   */
  | 'comment'
  /** Any other single character: `.`, `,`, `(`, `)`, `;`, `=`, `@`, ... */
  | 'punct';

export interface Token {
  kind: TokenKind;
  /** The raw source text, exactly `sql.slice(start, end)`. */
  text: string;
  /** Identifiers: the name (unquoted); strings: the content; otherwise `text`. */
  value: string;
  start: number;
  end: number;
}

export interface LexerOptions {
  /** False under sql_mode NO_BACKSLASH_ESCAPES, where `\` is an ordinary character in strings. */
  backslashEscapes?: boolean;
  /** True under sql_mode ANSI_QUOTES, where "..." quotes a name rather than a string. */
  ansiQuotes?: boolean;
  /** True under MariaDB's sql_mode MSSQL, where [...] quotes a name too. */
  bracketQuotes?: boolean;
}

/** Splits `sql` into tokens (whitespace is dropped; comments are kept). */
export function tokenize(sql: string, options: LexerOptions = {}): Token[] {
  return new Lexer(sql, options).run();
}

/** The tokens that are code: everything but comments and executable-comment markers. */
export function codeTokens(tokens: readonly Token[]): Token[] {
  return tokens.filter((t) => t.kind !== 'comment');
}

/** Identifier (bare or quoted) tokens are names; keywords are bare identifiers. */
export function isName(token: Token | undefined): token is Token {
  return token !== undefined && (token.kind === 'identifier' || token.kind === 'quoted');
}

/** True for a bare word equal (case-insensitively) to one of `words` (given in upper case). */
export function isKeyword(token: Token | undefined, ...words: string[]): boolean {
  return token !== undefined && token.kind === 'identifier' && words.includes(token.value.toUpperCase());
}

export function isPunct(token: Token | undefined, char: string): boolean {
  return token !== undefined && token.kind === 'punct' && token.text === char;
}

function isWhitespace(ch: string): boolean {
  return /\s/u.test(ch);
}

/**
 * MySQL allows letters, digits, `$`, `_` and any character from U+0080 up in
 * unquoted names, so everything non-ASCII that is not a space counts.
 */
function isWordChar(ch: string): boolean {
  if (/[A-Za-z0-9$_]/.test(ch)) return true;
  return ch.charCodeAt(0) >= 0x80 && !isWhitespace(ch);
}

function isDigit(ch: string | undefined): boolean {
  return ch !== undefined && ch >= '0' && ch <= '9';
}

/** Words that are numbers rather than digit-led names such as `1st_table`. */
const NUMBER_WORD = /^(?:\d+(?:[eE]\d+)?|0x[0-9a-fA-F]+|0b[01]+)$/;

const STRING_ESCAPES: Record<string, string> = { '0': '\0', b: '\b', n: '\n', r: '\r', t: '\t', Z: '\x1a' };

class Lexer {
  private pos = 0;
  private readonly tokens: Token[] = [];
  /** How many executable comments (`/*! ...`) we are inside; their `*\/` closes one. */
  private executableDepth = 0;

  constructor(
    private readonly sql: string,
    private readonly options: LexerOptions,
  ) {}

  run(): Token[] {
    while (this.pos < this.sql.length) {
      const ch = this.sql[this.pos]!;
      if (isWhitespace(ch)) this.pos++;
      else this.next(ch);
    }
    return this.tokens;
  }

  private next(ch: string): void {
    const start = this.pos;
    const ahead = this.sql[start + 1];
    if (ch === '`') return this.quoted(start, '`', 'quoted');
    if (ch === '"' && this.options.ansiQuotes) return this.quoted(start, '"', 'quoted');
    if (ch === '[' && this.options.bracketQuotes) return this.bracketed(start);
    if (ch === "'" || ch === '"') return this.string(start, ch);
    if (ch === '#') return this.lineComment(start);
    // `--` starts a comment only when followed by a space or control character;
    // `1--1` is arithmetic.
    if (ch === '-' && ahead === '-' && this.dashCommentFollows(start + 2)) return this.lineComment(start);
    if (ch === '/' && ahead === '*') return this.blockComment(start);
    if (ch === '*' && ahead === '/' && this.executableDepth > 0) {
      this.executableDepth--;
      return this.emit('comment', start, start + 2);
    }
    if (isWordChar(ch)) return this.word(start);
    // `.5` is a number, but in `db.5th_table` the dot joins two names.
    if (ch === '.' && isDigit(ahead) && !isName(this.tokens.at(-1))) return this.fraction(start, start);
    this.emit('punct', start, start + 1);
  }

  private emit(kind: TokenKind, start: number, end: number, value?: string): void {
    const text = this.sql.slice(start, end);
    this.tokens.push({ kind, text, value: value ?? text, start, end });
    this.pos = end;
  }

  /** `quote`-delimited name or string where a doubled quote stands for itself. */
  private quoted(start: number, quote: string, kind: TokenKind): void {
    let value = '';
    let i = start + 1;
    while (i < this.sql.length) {
      const ch = this.sql[i]!;
      if (ch === quote) {
        if (this.sql[i + 1] !== quote) return this.emit(kind, start, i + 1, value);
        value += quote;
        i += 2;
      } else {
        value += ch;
        i++;
      }
    }
    this.emit(kind, start, this.sql.length, value);
  }

  /** `[name]` (MSSQL mode): a name up to the first `]`. */
  private bracketed(start: number): void {
    const end = this.sql.indexOf(']', start + 1);
    if (end < 0) return this.emit('quoted', start, this.sql.length, this.sql.slice(start + 1));
    this.emit('quoted', start, end + 1, this.sql.slice(start + 1, end));
  }

  private string(start: number, quote: string): void {
    if (this.options.backslashEscapes === false) return this.quoted(start, quote, 'string');
    let value = '';
    let i = start + 1;
    while (i < this.sql.length) {
      const ch = this.sql[i]!;
      if (ch === '\\' && i + 1 < this.sql.length) {
        const escaped = this.sql[i + 1]!;
        value += STRING_ESCAPES[escaped] ?? escaped;
        i += 2;
      } else if (ch === quote) {
        if (this.sql[i + 1] !== quote) return this.emit('string', start, i + 1, value);
        value += quote;
        i += 2;
      } else {
        value += ch;
        i++;
      }
    }
    this.emit('string', start, this.sql.length, value);
  }

  private dashCommentFollows(at: number): boolean {
    const ch = this.sql[at];
    return ch === undefined || ch <= ' ';
  }

  private lineComment(start: number): void {
    const newline = this.sql.indexOf('\n', start);
    this.emit('comment', start, newline === -1 ? this.sql.length : newline);
  }

  /**
   * `/*! ...` and `/*M! ...` (optionally with a server version) hold code the
   * server executes, and servers log statements like `CREATE /*!50001 ... *\/`,
   * so only their markers are comments. Anything else runs to its `*\/`.
   */
  private blockComment(start: number): void {
    const executable = /^\/\*(?:M?!)(\d*)/.exec(this.sql.slice(start, start + 16));
    if (executable) {
      this.executableDepth++;
      return this.emit('comment', start, start + executable[0].length);
    }
    const close = this.sql.indexOf('*/', start + 2);
    this.emit('comment', start, close === -1 ? this.sql.length : close + 2);
  }

  /** True right after `name.`, where MySQL reads any word (even `1e5`) as a name. */
  private afterName(): boolean {
    const dot = this.tokens.at(-1);
    return isPunct(dot, '.') && dot!.end === this.pos && isName(this.tokens.at(-2));
  }

  private word(start: number): void {
    let end = start;
    while (end < this.sql.length && isWordChar(this.sql[end]!)) end++;
    const word = this.sql.slice(start, end);
    if (this.afterName() || !isDigit(word[0])) return this.emit('identifier', start, end);
    // `1e-5`: the sign splits what is still one number.
    if (/^\d+[eE]$/.test(word) && /^[+-]\d/.test(this.sql.slice(end, end + 2))) return this.exponent(start, end);
    if (/^\d+$/.test(word) && this.sql[end] === '.') return this.fraction(start, end);
    this.emit(NUMBER_WORD.test(word) ? 'number' : 'identifier', start, end);
  }

  /** Continues a number at its `.` (`1.5`, `1.`, `.5e3`). */
  private fraction(start: number, dot: number): void {
    let end = dot + 1;
    while (isDigit(this.sql[end])) end++;
    if (/^[eE][+-]?\d/.test(this.sql.slice(end, end + 3))) return this.exponent(start, end + 1);
    this.emit('number', start, end);
  }

  /** Finishes a number whose exponent starts at `at` (just after the `e`). */
  private exponent(start: number, at: number): void {
    let end = at;
    if (this.sql[end] === '+' || this.sql[end] === '-') end++;
    while (isDigit(this.sql[end])) end++;
    this.emit('number', start, end);
  }
}
