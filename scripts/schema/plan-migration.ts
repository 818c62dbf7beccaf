// Writes the text of the next migration from the differences between the
// migrated schema and sql/schema/: functions and views are copied from their
// source files (`create or replace`, with a `drop` first where Postgres
// cannot replace in place), removed ones dropped; new tables, types and
// indexes are copied too. What needs judgement (an ALTER of a table that
// holds data, a changed constraint or index) is listed in a marked block,
// with the suggested statements, for the author to write by hand; the block
// raises an error, so an unfinished migration cannot be applied by accident.
import type pg from "pg";

import { compareSchemas, formatDifferences, type SchemaDifference } from "./compare-schemas.js";
import type { SchemaDescription, SchemaObject } from "./describe-schema.js";
import type { SourceGroup } from "./schema-sources.js";

/** What `planMigration` produced. */
export interface MigrationPlan {
  /** The migration's SQL text (empty when nothing differs). */
  sql: string;
  /** Objects the migration creates, replaces or drops. */
  automatic: string[];
  /** Objects listed for the author to change by hand. */
  manual: string[];
}

/** Inputs of `planMigration`. */
export interface PlanInput {
  /** File name of the migration, e.g. `000013_step_timeouts.sql`. */
  fileName: string;
  /** The schema as the migrations build it. */
  migrated: SchemaDescription;
  /** The schema as sql/schema builds it. */
  target: SchemaDescription;
  /** sql/schema's statements, grouped by object, in path order. */
  groups: readonly SourceGroup[];
  /** Keys of the groups' objects (see `resolveGroupKeys`), same order. */
  groupKeys: readonly (string | null)[];
}

const replaceable = new Set(["function", "procedure", "view", "materialized view"]);

/** The kind of object a description key names ("function", "table", …). */
export function kindOf(key: string): string {
  return /^(materialized view|default privileges|\S+)/.exec(key)![1]!;
}

/**
 * Finds the key of each group's object in a database built from the same
 * sql/schema: a function by its name and body (which tells overloads apart),
 * anything else by its name.
 */
export async function resolveGroupKeys(
  client: pg.ClientBase,
  groups: readonly SourceGroup[],
): Promise<(string | null)[]> {
  const { rows } = await client.query<{ name: string; body: string; key: string }>(
    `select p.proname as name, p.prosrc as body,
            case p.prokind when 'p' then 'procedure ' else 'function ' end || 'rowflow.' || quote_ident(p.proname)
            || '(' || pg_get_function_identity_arguments(p.oid) || ')' as key
       from pg_proc p where p.pronamespace = 'rowflow'::regnamespace`,
  );
  return groups.map((group) => {
    const created = group.creates;
    if (!created) return null;
    if (created.kind === "function" || created.kind === "procedure") {
      const matches = rows.filter((row) => row.name === created.name && row.body === created.body);
      if (matches.length !== 1) {
        throw new Error(
          `sql/schema/${group.file}:${group.line}: cannot tell which rowflow.${created.name} this statement creates` +
            ` (${matches.length} functions of that name have its body)`,
        );
      }
      return matches[0]!.key;
    }
    if (created.kind === "schema") return `schema ${quoteIdent(created.name)}`;
    if (created.kind === "trigger") return null;
    return `${created.kind} rowflow.${quoteIdent(created.name)}`;
  });
}

/** Plans the migration that takes `migrated` to `target`. */
export function planMigration(input: PlanInput): MigrationPlan {
  const differences = compareSchemas(input.migrated, input.target);
  const automatic: string[] = [];
  const manual: SchemaDifference[] = [];
  const drops: string[] = [];
  const copy = new Set<number>();
  const commentsOf = new Set<number>();
  const groupOf = new Map<string, number>();
  input.groupKeys.forEach((key, index) => {
    if (key) groupOf.set(key, index);
  });
  const isNew = (key: string | null) =>
    key !== null && !input.migrated.has(key) && input.target.has(key);

  for (const difference of differences) {
    const kind = kindOf(difference.key);
    const group = groupOf.get(difference.key);
    if (replaceable.has(kind)) {
      if (difference.kind === "missing") {
        drops.push(
          `drop ${kind === "procedure" ? "procedure" : kind} ${difference.key.slice(kind.length + 1)};`,
        );
      } else if (group === undefined) {
        manual.push(difference);
        continue;
      } else {
        if (
          difference.kind === "changed" &&
          needsDrop(kind, difference.expected!, difference.actual!)
        ) {
          drops.push(`drop ${kind} ${difference.key.slice(kind.length + 1)};`);
        }
        copy.add(group);
      }
      automatic.push(difference.key);
      continue;
    }
    // Tables, types, indexes, sequences, constraints, triggers, …: a new
    // object is created by its source statement (a child of a new table by
    // the table's); a change of comments only is made by the group's
    // `comment on` statements; anything else needs the author.
    if (difference.kind === "extra" && isNew(difference.actual!.parent)) {
      automatic.push(difference.key);
      continue;
    }
    if (difference.kind === "extra" && group !== undefined) {
      copy.add(group);
      automatic.push(difference.key);
      continue;
    }
    if (
      difference.kind === "changed" &&
      group !== undefined &&
      withoutComments(difference.expected!.def) === withoutComments(difference.actual!.def)
    ) {
      commentsOf.add(group);
      automatic.push(difference.key);
      continue;
    }
    manual.push(difference);
  }

  if (differences.length === 0) return { sql: "", automatic: [], manual: [] };

  const parts: string[] = [
    `-- ${input.fileName} — written by \`npm run db:migration\` from sql/schema/.\n` +
      `-- Say here why: what changed, and the figures that decided it.`,
  ];
  if (manual.length > 0) parts.push(manualBlock(manual));
  if (drops.length > 0) parts.push(drops.join("\n"));
  const emitted = [...new Set([...copy, ...commentsOf])].sort((a, b) => a - b);
  let previousFile: string | null = null;
  for (const index of emitted) {
    const group = input.groups[index]!;
    const statements = copy.has(index)
      ? group.statements
      : group.statements.filter((statement) => /^comment\s+on\b/i.test(statement.text));
    const text = statements.map((statement) => statement.text).join("\n");
    const from = group.file === previousFile ? "" : `-- from sql/schema/${group.file}\n`;
    parts.push(`${from}${text}`);
    previousFile = group.file;
  }
  return {
    sql: `${parts.join("\n\n")}\n`,
    automatic,
    manual: manual.map((difference) => difference.key),
  };
}

/** A definition without its comment lines and column comments. */
function withoutComments(def: string): string {
  return def
    .split("\n")
    .filter((line) => !line.startsWith("comment: "))
    .map((line) => line.replace(/ comment '(?:[^']|'')*'/, ""))
    .join("\n");
}

function needsDrop(kind: string, before: SchemaObject, after: SchemaObject): boolean {
  if (kind === "function" || kind === "procedure") {
    // "cannot change return type of existing function", "cannot remove
    // parameter defaults from existing function".
    return (
      before.meta?.result !== after.meta?.result ||
      (after.meta?.defaults ?? 0) < (before.meta?.defaults ?? 0)
    );
  }
  // create or replace view keeps the existing columns and may only append.
  const old = before.meta?.columns ?? [];
  const now = after.meta?.columns ?? [];
  return old.some((column, i) => now[i] !== column);
}

function manualBlock(differences: readonly SchemaDifference[]): string {
  const suggestions = differences.flatMap(suggest);
  const report = formatDifferences(differences, { expected: "migrated", actual: "sql/schema" });
  const lines = [
    "-- TODO(db:migration): write by hand the statements that make these objects",
    "-- match sql/schema/, then delete this block (its DO statement refuses to",
    "-- run until then). `npm run db:check` proves the result.",
    "--",
    ...report.split("\n").map((line) => `--   ${line}`.trimEnd()),
  ];
  if (suggestions.length > 0) {
    lines.push("--", "-- Suggested (check them against the data a user's table already holds):");
    lines.push(...suggestions.map((statement) => `--   ${statement}`));
  }
  lines.push(
    "do $$ begin raise exception 'unfinished migration: see its TODO(db:migration) block'; end $$;",
  );
  return lines.join("\n");
}

/** Exact statements where the description gives them (constraints, indexes). */
function suggest(difference: SchemaDifference): string[] {
  const kind = kindOf(difference.key);
  const name = difference.key.slice(kind.length + 1);
  const out: string[] = [];
  if (kind === "constraint") {
    const table = (difference.expected ?? difference.actual)!.parent?.replace(/^table /, "");
    const constraint = name.slice(name.lastIndexOf(".") + 1);
    if (table && difference.expected)
      out.push(`alter table ${table} drop constraint ${constraint};`);
    if (table && difference.actual) {
      const definition = difference.actual.def.split("\n")[0];
      out.push(`alter table ${table} add constraint ${constraint} ${definition};`);
    }
  } else if (kind === "index") {
    if (difference.expected) out.push(`drop index ${name};`);
    if (difference.actual) out.push(`${difference.actual.def.split("\n")[0]};`);
  } else if (difference.kind === "missing" && ["table", "type", "sequence"].includes(kind)) {
    out.push(`drop ${kind} ${name};`);
  }
  return out;
}

function quoteIdent(name: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(name) ? name : `"${name.replace(/"/g, '""')}"`;
}
