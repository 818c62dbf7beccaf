import { ErrorCodes, RowflowError } from "../../errors.js";
import { onlyRow, type Queryable } from "../queryable.js";

/** The SQL of one definition (named arguments, as everywhere in rowflow). */
export const DEFINE_WORKFLOW_SQL =
  "select rowflow.define_workflow(name => $1, spec => $2::jsonb) as version";

/** Calls `rowflow.define_workflow`; returns the version (a new one only when the spec changed). */
export async function defineWorkflow(
  db: Queryable,
  args: { name: string; spec: object },
): Promise<number> {
  const { rows } = await db.query<{ version: number }>(DEFINE_WORKFLOW_SQL, [
    args.name,
    JSON.stringify(args.spec),
  ]);
  return onlyRow(rows, "rowflow.define_workflow").version;
}

/**
 * What a worker does with its workflows at start: defines them when its role
 * may (EXECUTE on define_workflow), else checks that the database already has
 * each spec as its latest version. A worker role (rowflow_worker) may not
 * define workflows (docs/security.md): the owner's migration does, and a
 * worker whose code is ahead of the database refuses to start (RF095)
 * instead of running steps of a definition it does not have.
 */
export async function syncOrCheckWorkflow(
  db: Queryable,
  args: { name: string; spec: object },
): Promise<{ version: number; defined: boolean }> {
  const { rows: may } = await db.query<{ may: boolean }>(
    `select pg_catalog.has_function_privilege('rowflow.define_workflow(text, jsonb, name)', 'execute') as may`,
  );
  if (onlyRow(may, "has_function_privilege").may) {
    return { version: await defineWorkflow(db, args), defined: true };
  }
  const { rows } = await db.query<{ version: number; same: boolean }>(
    `select w.latest_version as version, wv.spec = $2::jsonb as same
     from rowflow.workflows as w
     join rowflow.workflow_versions as wv on wv.workflow = w.name and wv.version = w.latest_version
     where w.name = $1`,
    [args.name, JSON.stringify(args.spec)],
  );
  const row = rows[0];
  if (!row?.same) {
    throw new RowflowError(
      `workflow "${args.name}" ${row ? `differs from its latest version in the database (${row.version})` : "is not defined in the database"}, and this role may not define workflows: define it as the owner (rowflow migrate, or syncWorkflows from a role with EXECUTE on rowflow.define_workflow), or start the worker with syncWorkflows: false`,
      { code: ErrorCodes.definitionDiffers },
    );
  }
  return { version: row.version, defined: false };
}
