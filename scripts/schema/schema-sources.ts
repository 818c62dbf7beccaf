// Reads sql/schema/: its files in path order, each split into statements and
// grouped by the object they create (a `create …` statement and the
// `comment on`, `grant`, `revoke` and `alter` statements and the access
// decision, `select rowflow._allow(…)`, that follow it in the same file). A group is what `npm run db:migration` copies into a
// migration when its object changed.
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { splitStatements, type SqlStatement } from "./sql-statements.js";

/** The repository's sql/schema folder. */
export const defaultSchemaDir = fileURLToPath(new URL("../../sql/schema/", import.meta.url));

/** One file of sql/schema. */
export interface SchemaFile {
  /** Path relative to the schema folder, with `/` separators (e.g. `60_gate/claim_runs.sql`). */
  path: string;
  sql: string;
}

/** A create statement and the statements about the same object that follow it. */
export interface SourceGroup {
  file: string;
  /** 1-based line of the create statement (or of the first statement of a group without one). */
  line: number;
  /** What it creates, as parsed from the statement; null for other statements (e.g. an insert). */
  creates: CreatedObject | null;
  statements: SqlStatement[];
}

/** The object a create statement makes, as far as its text tells. */
export interface CreatedObject {
  kind:
    | "function"
    | "procedure"
    | "view"
    | "materialized view"
    | "table"
    | "index"
    | "type"
    | "schema"
    | "sequence"
    | "trigger";
  /** Unquoted name, without the schema. */
  name: string;
  /** For functions: the body between the dollar quotes, to tell overloads apart. */
  body?: string;
}

/** The files of `dir` (recursively), in path order: the order that builds the schema. */
export async function readSchemaFiles(dir = defaultSchemaDir): Promise<SchemaFile[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const files = entries
    .filter((entry) => entry.isFile() && entry.name.endsWith(".sql"))
    .map((entry) =>
      path.relative(dir, path.join(entry.parentPath, entry.name)).split(path.sep).join("/"),
    )
    // Byte order, whatever the locale: "_attach.sql" before "attach.sql".
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return Promise.all(
    files.map(async (file) => ({ path: file, sql: await readFile(path.join(dir, file), "utf8") })),
  );
}

const identifier = String.raw`(?:"((?:[^"]|"")+)"|([A-Za-z_][A-Za-z0-9_$]*))`;
const createPattern = new RegExp(
  String.raw`^create\s+(?:or\s+replace\s+)?(?:unique\s+)?(?:constraint\s+)?` +
    String.raw`(function|procedure|materialized\s+view|view|table|index|type|schema|sequence|trigger)\s+` +
    String.raw`(?:if\s+not\s+exists\s+)?(?:concurrently\s+)?` +
    String.raw`(?:${identifier}\s*\.\s*)?${identifier}`,
  "i",
);

/** What `statement` creates, or null when it is not a create statement. */
export function parseCreate(statement: string): CreatedObject | null {
  const match = createPattern.exec(statement);
  if (!match) return null;
  const kind = match[1]!.toLowerCase().replace(/\s+/g, " ") as CreatedObject["kind"];
  const quoted = match[4];
  const name = quoted !== undefined ? quoted.replace(/""/g, '"') : match[5]!.toLowerCase();
  const created: CreatedObject = { kind, name };
  if (kind === "function" || kind === "procedure") {
    const body = /\bas\s+(\$[A-Za-z0-9_]*\$)/i.exec(statement);
    if (body) {
      const start = body.index + body[0].length;
      const end = statement.indexOf(body[1]!, start);
      if (end !== -1) created.body = statement.slice(start, end);
    }
  }
  return created;
}

/** Splits the files into groups, in path order. Throws a SyntaxError naming the file. */
export function groupStatements(files: readonly SchemaFile[]): SourceGroup[] {
  const groups: SourceGroup[] = [];
  for (const file of files) {
    let statements: SqlStatement[];
    try {
      statements = splitStatements(file.sql);
    } catch (error) {
      throw new SyntaxError(`${file.path}: ${(error as Error).message}`);
    }
    let current: SourceGroup | null = null;
    for (const statement of statements) {
      const creates = parseCreate(statement.text);
      const belongs =
        !creates &&
        current?.creates &&
        /^(?:(?:comment|grant|revoke|alter)\b|select\s+rowflow\._allow\()/i.test(statement.text);
      if (belongs && current) {
        current.statements.push(statement);
        continue;
      }
      current = { file: file.path, line: statement.line, creates, statements: [statement] };
      groups.push(current);
    }
  }
  return groups;
}
