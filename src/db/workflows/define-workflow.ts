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
