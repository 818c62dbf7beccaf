// Reads of the Workflows page: every workflow with its versions, attachments,
// schedules and run counts (tables and views a rowflow_viewer may read).
import type { Queryable } from "../db/queryable.js";
import { runCounts as countRuns } from "../db/runs/run-counts.js";

export type WorkflowRow = {
  name: string;
  latestVersion: number;
  paused: boolean;
  versions: number;
};

export async function workflows(db: Queryable): Promise<WorkflowRow[]> {
  const { rows } = await db.query<WorkflowRow>(
    `select w.name, w.latest_version as "latestVersion", w.paused,
       (select count(*)::int from rowflow.workflow_versions as v where v.workflow = w.name) as versions
     from rowflow.workflows as w order by w.name`,
  );
  return rows;
}

/** A workflow's runs by status, the statuses it has runs in (rowflow.run_counts). */
export async function runCounts(db: Queryable, workflow: string): Promise<Record<string, number>> {
  const counts = await countRuns(db, { workflow });
  return Object.fromEntries(RUN_STATUSES.filter((s) => counts[s] > 0).map((s) => [s, counts[s]]));
}

const RUN_STATUSES = [
  "queued",
  "running",
  "compensating",
  "succeeded",
  "failed",
  "cancelled",
] as const;

export type AttachmentRow = { table: string; events: string[]; when: string | null };

export async function attachments(db: Queryable, workflow: string): Promise<AttachmentRow[]> {
  const { rows } = await db.query<AttachmentRow>(
    `select table_name::text as table, events::text[] as events, when_sql as when
     from rowflow.attachments where workflow = $1 order by id`,
    [workflow],
  );
  return rows;
}

export type ScheduleRow = { name: string; cron: string; timezone: string; paused: boolean };

export async function schedules(db: Queryable, workflow: string): Promise<ScheduleRow[]> {
  const { rows } = await db.query<ScheduleRow>(
    "select name, cron, timezone, paused from rowflow.schedules where workflow = $1 order by name",
    [workflow],
  );
  return rows;
}
