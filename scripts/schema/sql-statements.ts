// Splits SQL text into statements, keeping each statement's leading comment.
// Postgres has no splitter of its own; this one knows exactly the lexical
// rules that can hide a semicolon: '…' strings (with '' and E'\'' escapes),
// "…" identifiers, $tag$…$tag$ bodies, -- line comments and nested /* */
// comments. That is all sql/schema/ and sql/migrations/ use.

/** One statement of a SQL file. */
export interface SqlStatement {
  /** The comment lines directly above the statement (blank-line separated blocks excluded). */
  comment: string;
  /** The statement's text from its first token to its semicolon (inclusive). */
  text: string;
  /** 1-based line of the statement's first token. */
  line: number;
}

/** Splits `sql` into statements; text after the last semicolon must be blank or comments. */
export function splitStatements(sql: string): SqlStatement[] {
  const statements: SqlStatement[] = [];
  let i = 0;
  let line = 1;
  let pendingComment: string[] = [];
  let start = -1;
  let startLine = 0;
  let comment: string[] = [];

  const advance = (to: number) => {
    for (let k = i; k < to; k++) if (sql.charCodeAt(k) === 10) line++;
    i = to;
  };

  while (i < sql.length) {
    const c = sql[i]!;
    const next = sql[i + 1];
    if (c === "-" && next === "-") {
      const end = sql.indexOf("\n", i);
      const stop = end === -1 ? sql.length : end;
      if (start === -1) pendingComment.push(sql.slice(i, stop));
      advance(stop);
      continue;
    }
    if (c === "/" && next === "*") {
      let depth = 0;
      let k = i;
      while (k < sql.length) {
        if (sql.startsWith("/*", k)) {
          depth++;
          k += 2;
        } else if (sql.startsWith("*/", k)) {
          depth--;
          k += 2;
          if (depth === 0) break;
        } else k++;
      }
      if (depth !== 0) throw new SyntaxError(`unterminated /* comment at line ${line}`);
      if (start === -1) pendingComment.push(sql.slice(i, k));
      advance(k);
      continue;
    }
    if (c === "\n") {
      // A blank line ends a comment block that is not attached to what follows.
      if (start === -1 && isBlankLineBefore(sql, i)) pendingComment = [];
      advance(i + 1);
      continue;
    }
    if (/\s/.test(c)) {
      advance(i + 1);
      continue;
    }
    if (start === -1) {
      start = i;
      startLine = line;
      comment = pendingComment;
      pendingComment = [];
    }
    if (c === ";") {
      statements.push({
        comment: comment.join("\n"),
        text: sql.slice(start, i + 1),
        line: startLine,
      });
      start = -1;
      advance(i + 1);
      continue;
    }
    if (c === "'") {
      const escapes = i > 0 && /[eE]/.test(sql[i - 1]!) && !/[\w$]/.test(sql[i - 2] ?? " ");
      advance(endOfQuoted(sql, i, "'", escapes, line));
      continue;
    }
    if (c === '"') {
      advance(endOfQuoted(sql, i, '"', false, line));
      continue;
    }
    if (c === "$") {
      const tag = /^\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i, i + 64));
      if (tag && !/[\w$]/.test(sql[i - 1] ?? " ")) {
        const close = sql.indexOf(tag[0], i + tag[0].length);
        if (close === -1) throw new SyntaxError(`unterminated ${tag[0]} body at line ${line}`);
        advance(close + tag[0].length);
        continue;
      }
    }
    advance(i + 1);
  }
  if (start !== -1) {
    throw new SyntaxError(`statement at line ${startLine} does not end with a semicolon`);
  }
  return statements;
}

function isBlankLineBefore(sql: string, newlineAt: number): boolean {
  // True when the line ending at newlineAt holds only whitespace.
  let k = newlineAt - 1;
  while (k >= 0 && (sql[k] === " " || sql[k] === "\t" || sql[k] === "\r")) k--;
  return k < 0 || sql[k] === "\n";
}

function endOfQuoted(sql: string, at: number, quote: string, escapes: boolean, line: number) {
  let k = at + 1;
  while (k < sql.length) {
    const ch = sql[k];
    if (escapes && ch === "\\") {
      k += 2;
      continue;
    }
    if (ch === quote) {
      if (sql[k + 1] === quote) {
        k += 2;
        continue;
      }
      return k + 1;
    }
    k++;
  }
  throw new SyntaxError(`unterminated ${quote} at line ${line}`);
}
