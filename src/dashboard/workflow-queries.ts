// Reads of the Workflows page: every workflow with its versions, attachments,
// schedules and run counts (tables and views a rowflow_viewer may read).
import type { Queryable } from "../db/queryable.js";
import { runStatuses } from "./runs-queries.js";

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

/**
 * Every workflow's runs by status, the statuses each has runs in: one scan of
 * the runs this role may see (rowflow.visible_runs), grouped, for the whole
 * page. (One rowflow.run_counts call per workflow scanned the table once per
 * workflow: ~2.5 s for 10 workflows at 1,000,000 runs.)
 */
export async function runCountsByWorkflow(
  db: Queryable,
): Promise<Map<string, Record<string, number>>> {
  const { rows } = await db.query<{ workflow: string; status: string; n: number }>(
    `select workflow, status, count(*)::int as n from rowflow.visible_runs group by workflow, status`,
  );
  const counts = new Map<string, Record<string, number>>();
  for (const r of rows) counts.set(r.workflow, { ...counts.get(r.workflow), [r.status]: r.n });
  const order = (c: Record<string, number>) =>
    Object.fromEntries(runStatuses.filter((s) => (c[s] ?? 0) > 0).map((s) => [s, c[s] ?? 0]));
  return new Map([...counts].map(([w, c]) => [w, order(c)]));
}

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

export type OutcomeBucket = {
  workflow: string;
  /** The bucket's start. */
  bucket: Date;
  succeeded: number;
  failed: number;
  /** Cancelled, and runs not finished yet. */
  other: number;
};

/**
 * Runs created since `since`, per workflow and bucket of `width`, by outcome:
 * one statement for every workflow. rowflow.runs has no index on created_at
 * (every index costs every start), but ids grow with it: a binary search on
 * the primary key (~20 probes) finds the first id created since then, and
 * the count reads only the ids from there, less a margin of 10,000 for ids
 * a session's sequence cache (100) handed out before their start; created_at
 * decides exactly which of them count. A run whose id is more than 10,000
 * below the runs started around it is left out. Measured at 1,000,000 runs
 * (33,000 a day): docs/dashboard.md, "Cost on a large database".
 */
export async function outcomesOverTime(
  db: Queryable,
  since: Date,
  width: string,
): Promise<OutcomeBucket[]> {
  const { rows } = await db.query<OutcomeBucket>(
    `with recursive s(lo, hi) as (
       select coalesce((select min(id) from rowflow.runs), 1), coalesce((select max(id) + 1 from rowflow.runs), 1)
       union all
       select case when m.created_at < $1 then m.id + 1 else s.lo end,
              case when m.created_at is null or m.created_at >= $1 then (s.lo + s.hi) / 2 else s.hi end
       from s left join lateral (
         select r.id, r.created_at from rowflow.runs as r
         where r.id >= (s.lo + s.hi) / 2 order by r.id limit 1) as m on true
       where s.lo < s.hi)
     select r.workflow, date_bin($2::interval, r.created_at, $1) as bucket,
       count(*) filter (where r.status = 'succeeded')::int as succeeded,
       count(*) filter (where r.status = 'failed')::int as failed,
       count(*) filter (where r.status not in ('succeeded', 'failed'))::int as other
     from rowflow.runs as r
     where r.id >= (select min(s.lo) from s where s.lo >= s.hi) - 10000 and r.created_at >= $1
     group by 1, 2 order by 1, 2`,
    [since, width],
  );
  return rows;
}
