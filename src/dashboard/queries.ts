// The dashboard's reads: plain SELECTs on the tables and views a
// rowflow_viewer may read (sql/schema/20_tables/, 25_views/). The runs
// list's are in runs-queries.ts.
import type { Queryable } from "../db/queryable.js";

export async function workflowNames(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ name: string }>(
    "select name from rowflow.workflows order by name",
  );
  return rows.map((r) => r.name);
}

export type RunRow = {
  id: string;
  workflow: string;
  version: number;
  status: string;
  createdAt: Date;
  finishedAt: Date | null;
  error: string | null;
};

export type RunDetail = RunRow & {
  input: unknown;
  errorDetail: unknown;
  startedAt: Date | null;
  startedBy: string;
  rerunOf: string | null;
  parentRunId: string | null;
  parentStep: string | null;
};

export async function getRun(db: Queryable, id: string): Promise<RunDetail | undefined> {
  const { rows } = await db.query<RunDetail>(
    `select r.id::text as id, r.workflow, r.version, r.status, r.created_at as "createdAt",
       r.finished_at as "finishedAt", r.error ->> 'message' as error, r.error as "errorDetail",
       r.input, r.started_at as "startedAt", r.started_by as "startedBy", r.rerun_of::text as "rerunOf",
       r.parent_run_id::text as "parentRunId", r.parent_step as "parentStep"
     from rowflow.runs as r where r.id = $1`,
    [id],
  );
  return rows[0];
}

export type StepRow = {
  step: string;
  kind: string;
  status: string;
  attempt: number;
  maxAttempts: number;
  output: unknown;
  error: unknown;
  startedAt: Date | null;
  finishedAt: Date | null;
  lockedBy: string | null;
  /** A child step's latest child run. */
  childRunId: string | null;
  /** A map step's elements (rowflow.step_maps): counts, not rows; null for other steps. */
  elements: { total: number; open: number; failed: number } | null;
};

/** A run's step runs without the elements of its map steps (up to 10,000 each): those are counted. */
export async function runSteps(db: Queryable, id: string): Promise<StepRow[]> {
  const { rows } = await db.query<StepRow>(
    `select sr.step, sr.kind, sr.status, sr.attempt, sr.max_attempts as "maxAttempts", sr.output, sr.error,
       sr.started_at as "startedAt", sr.finished_at as "finishedAt", sr.locked_by as "lockedBy",
       (select c.id::text from rowflow.runs as c
        where c.parent_run_id = sr.run_id and c.parent_step = sr.step
        order by c.created_at desc, c.id desc limit 1) as "childRunId",
       case when m.run_id is not null then
         jsonb_build_object('total', m.total, 'open', m.open, 'failed', m.failed) end as elements
     from rowflow.step_runs as sr
     left join rowflow.step_maps as m on m.run_id = sr.run_id and m.step = sr.step
     where sr.run_id = $1 and sr.kind <> 'element'
     order by sr.kind <> 'step', sr.seq nulls first, sr.step`,
    [id],
  );
  return rows;
}

export type SpecStep = { name: string; task: string; dependsOn: string[]; wait: unknown };

export async function versionSteps(
  db: Queryable,
  workflow: string,
  version: number,
): Promise<SpecStep[]> {
  const { rows } = await db.query<SpecStep>(
    `select name, task, depends_on as "dependsOn", wait from rowflow.workflow_steps
     where workflow = $1 and version = $2 order by idx`,
    [workflow, version],
  );
  return rows;
}

export type TimelineRow = {
  at: Date;
  step: string | null;
  type: string;
  attempt: number | null;
  data: unknown;
};

export async function timeline(db: Queryable, id: string): Promise<TimelineRow[]> {
  const { rows } = await db.query<TimelineRow>(
    `select at, step, type, attempt, data from rowflow.run_timeline
     where run_id = $1 and at is not null order by at, ord, step nulls first limit 500`,
    [id],
  );
  return rows;
}

/** Whether the connection's role may act as rowflow's operator (rowflow._may). */
export async function isOperator(db: Queryable): Promise<boolean> {
  const { rows } = await db.query<{ ok: boolean }>("select rowflow._may('operator') as ok");
  return rows[0]?.ok === true;
}

export async function taskForm(db: Queryable, taskId: string): Promise<unknown> {
  const { rows } = await db.query<{ form: unknown }>(
    "select form from rowflow.tasks where id = $1",
    [taskId],
  );
  return rows[0]?.form ?? null;
}
