/**
 * Table attachments a TypeScript workflow declares (`on`), kept on the workflow
 * object for `rowflow generate-migration`, which turns them into
 * `rowflow.attach(...)` calls. They are not part of the spec.
 */
import { z } from "zod";

import { SpecErrorCodes } from "./error-codes.js";
import { SpecValidationError } from "./spec-error.js";
import { toSpecIssues } from "./spec-issues.js";

/** A row change that can start a run. */
export type AttachEvent = "insert" | "update" | "delete";

/** One attachment of a workflow to a table. */
export interface AttachmentOptions {
  /** The table, optionally schema-qualified (`"orders"`, `"shop.orders"`). */
  readonly table: string;
  /** The row changes that start a run. */
  readonly events: readonly AttachEvent[];
  /**
   * SQL boolean expression over `new.` / `old.` columns, e.g.
   * `new.status = 'paid' and old.status is distinct from 'paid'`; validated when
   * the migration runs `rowflow.attach`. (Default: every row of those events)
   */
  readonly when?: string | undefined;
  /**
   * The run input copies the whole row by default (`row`, and `old` for
   * updates), secrets included: list the columns to copy instead, or none
   * (`[]`: the input holds the row's key only, the smallest run; the handler
   * reads the current row)… (Default: every column)
   */
  readonly columns?: readonly string[] | undefined;
  /** …or the columns to leave out (not with `columns`). (Default: none) */
  readonly excludeColumns?: readonly string[] | undefined;
  /**
   * What deleting a row does to its unfinished runs of this workflow:
   * `cancel`, `compensate` (undo their succeeded steps, then cancel) or
   * `ignore`. Needs a primary key. (Default: `"ignore"`)
   */
  readonly onDelete?: "cancel" | "compensate" | "ignore" | undefined;
  /** A newer run of a row cancels the row's older unfinished runs. Needs a primary key. (Default: false) */
  readonly supersede?: boolean | undefined;
}

const columnList = z
  .array(z.string().min(1, { error: "a column name must not be empty" }))
  .min(1, { error: "list at least one column (or leave the option out)" });

const attachmentSchema = z
  .strictObject({
    table: z.string().trim().min(1, { error: "table must not be empty" }),
    events: z
      .array(z.enum(["insert", "update", "delete"]))
      .min(1, { error: "list at least one of insert, update, delete" })
      .refine((events) => new Set(events).size === events.length, {
        error: "an event is listed twice",
      }),
    when: z
      .string()
      .trim()
      .min(1, { error: "when must not be empty (leave it out instead)" })
      .optional(),
    columns: z.array(z.string().min(1, { error: "a column name must not be empty" })).optional(),
    excludeColumns: columnList.optional(),
    onDelete: z.enum(["cancel", "compensate", "ignore"]).optional(),
    supersede: z.boolean().optional(),
  })
  .refine((a) => a.columns === undefined || a.excludeColumns === undefined, {
    error: "give columns or excludeColumns, not both",
    path: ["excludeColumns"],
  });

/**
 * Validates and freezes attachments. Throws a `SpecValidationError` (RF001, RF002
 * for an unknown key) with paths under `on`.
 */
export function parseAttachments(
  on: AttachmentOptions | readonly AttachmentOptions[] | undefined,
  workflow: string,
): readonly AttachmentOptions[] {
  if (on === undefined) return Object.freeze([]);
  const list: readonly unknown[] = Array.isArray(on) ? on : [on];
  const result = z.array(attachmentSchema).safeParse(list, { reportInput: true });
  if (!result.success) {
    const [first, ...rest] = toSpecIssues(result.error.issues, ["on"]);
    if (first !== undefined) throw new SpecValidationError([first, ...rest], { workflow });
    throw new SpecValidationError(
      [{ code: SpecErrorCodes.invalidSpec, path: ["on"], message: "on: invalid attachments" }],
      { workflow },
    );
  }
  return Object.freeze(
    list.map((_, i) => {
      const parsed = result.data[i]!;
      return Object.freeze({
        table: parsed.table,
        events: Object.freeze([...parsed.events]),
        ...(parsed.when === undefined ? {} : { when: parsed.when }),
        ...(parsed.columns === undefined ? {} : { columns: Object.freeze([...parsed.columns]) }),
        ...(parsed.excludeColumns === undefined
          ? {}
          : { excludeColumns: Object.freeze([...parsed.excludeColumns]) }),
        ...(parsed.onDelete === undefined ? {} : { onDelete: parsed.onDelete }),
        ...(parsed.supersede === undefined ? {} : { supersede: parsed.supersede }),
      });
    }),
  );
}
