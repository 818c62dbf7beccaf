/**
 * `syncWorkflows`: stores TypeScript-defined workflows through
 * `rowflow.define_workflow`, which returns the existing version for an unchanged
 * spec and a new version otherwise.
 */
import { DEFINE_WORKFLOW_SQL } from "../db/workflows/define-workflow.js";
import { coerceError, ErrorCodes, RowflowError } from "../errors.js";
import { childFirstOrder } from "./child-order.js";
import { SpecErrorCodes } from "./error-codes.js";
import { SpecValidationError } from "./spec-error.js";
import type { WorkflowSpec } from "./spec-schema.js";
import { parseSpec } from "./validate-spec.js";

/** Anything with pg's `query(text, values)`: a `pg.Pool`, `pg.Client` or `pg.PoolClient`. */
export interface SqlQueryable {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
}

/** What `syncWorkflows` needs of a workflow: a `Workflow` from `defineWorkflow`, or a plain spec with its name. */
export interface SyncableWorkflow {
  readonly name: string;
  readonly spec: WorkflowSpec;
}

/** One stored workflow. */
export interface SyncedWorkflow {
  readonly name: string;
  /** The version `define_workflow` returned: the latest one if the spec did not change. */
  readonly version: number;
}

// The SQL text lives with the other SQL calls (src/db/); re-exported for callers of syncWorkflows.
export { DEFINE_WORKFLOW_SQL };

/**
 * Validates every spec first (nothing is written if one is invalid), then calls
 * `define_workflow` for each, in order, except that a workflow a child step
 * starts is defined before that step's workflow; the answer is in input order. Throws a `SpecValidationError` for an
 * invalid spec or a name listed twice, and a `RowflowSqlError` (via `coerceError`)
 * when SQL rejects one. Not atomic by itself: pass a client inside
 * `begin`/`commit` to store all or none.
 */
export async function syncWorkflows(
  db: SqlQueryable,
  workflows: readonly SyncableWorkflow[],
): Promise<SyncedWorkflow[]> {
  const seen = new Set<string>();
  for (const workflow of workflows) {
    if (seen.has(workflow.name)) {
      throw new SpecValidationError(
        [
          {
            code: SpecErrorCodes.invalidSpec,
            path: [],
            message: `workflow "${workflow.name}" is listed twice`,
          },
        ],
        { workflow: workflow.name },
      );
    }
    seen.add(workflow.name);
    parseSpec(workflow.spec, { name: workflow.name });
  }
  // Children first: define_workflow rejects a child workflow not defined yet (RF015).
  const synced: SyncedWorkflow[] = new Array<SyncedWorkflow>(workflows.length);
  for (const i of childFirstOrder(workflows)) {
    const workflow = workflows[i]!;
    let rows: unknown[];
    try {
      ({ rows } = await db.query(DEFINE_WORKFLOW_SQL, [
        workflow.name,
        JSON.stringify(workflow.spec),
      ]));
    } catch (error) {
      throw coerceError(error);
    }
    synced[i] = { name: workflow.name, version: versionOf(rows, workflow.name) };
  }
  return synced;
}

function versionOf(rows: readonly unknown[], name: string): number {
  const row = rows[0];
  const version: unknown =
    typeof row === "object" && row !== null ? (row as { version?: unknown }).version : undefined;
  const number = typeof version === "string" ? Number(version) : version;
  if (typeof number === "number" && Number.isSafeInteger(number) && number > 0) return number;
  throw new RowflowError(
    `define_workflow("${name}") returned ${JSON.stringify(rows)}, expected one row with a positive version`,
    {
      code: ErrorCodes.unexpected,
    },
  );
}
