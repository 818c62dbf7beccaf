/**
 * A light, TypeScript-side check of SQL/JSON path expressions (`if`, `queue.key`).
 *
 * Fully parsing the SQL/JSON path language in TypeScript would duplicate Postgres'
 * grammar and drift from it, so this only catches mistakes that are cheap to spot:
 * an empty expression, an unterminated string literal, unbalanced `(` `)` /
 * `[` `]`, and a reference to a variable (`$name`), which no evaluation context
 * provides. Everything else is left to `rowflow.define_workflow`, which casts the
 * expression to `jsonpath` and raises RF009 on a syntax error: a spec that passes
 * here can still be rejected by SQL, never the other way round.
 */

const CLOSING: Readonly<Record<string, string>> = { "(": ")", "[": "]" };

/**
 * Returns why `expression` is certainly not a usable SQL/JSON path expression,
 * or `undefined` when it passes the light check.
 */
export function pathExpressionProblem(expression: string): string | undefined {
  if (expression.trim() === "") return "the expression is empty";
  const open: string[] = [];
  let inString = false;
  for (let i = 0; i < expression.length; i++) {
    const char = expression.charAt(i);
    if (inString) {
      if (char === "\\")
        i++; // skip the escaped character
      else if (char === '"') inString = false;
      continue;
    }
    if (char === '"') inString = true;
    else if (char === "$" && /[A-Za-z_]/.test(expression.charAt(i + 1))) {
      const name = /^\$[A-Za-z_][A-Za-z0-9_]*/.exec(expression.slice(i))?.[0] ?? "$";
      return `it references the variable ${name}; only $ (the object {"input": …, "steps": …}) is available`;
    } else if (char === "(" || char === "[") open.push(char);
    else if (char === ")" || char === "]") {
      const last = open.pop();
      if (last === undefined || CLOSING[last] !== char) {
        return `unexpected "${char}" at position ${i + 1}`;
      }
    }
  }
  if (inString) return 'a string literal is not terminated (missing closing ")';
  const unclosed = open.pop();
  if (unclosed !== undefined) return `"${unclosed}" is not closed`;
  return undefined;
}
