// The designer's read: the spec of a workflow's latest version
// (rowflow.workflow_versions, which a rowflow_viewer may read), to start
// editing from it.
import type { Queryable } from "../db/queryable.js";

export async function latestSpec(
  db: Queryable,
  workflow: string,
): Promise<{ version: number; spec: unknown } | undefined> {
  const { rows } = await db.query<{ version: number; spec: unknown }>(
    `select v.version, v.spec
     from rowflow.workflows as w
     join rowflow.workflow_versions as v on v.workflow = w.name and v.version = w.latest_version
     where w.name = $1`,
    [workflow],
  );
  return rows[0];
}
