// Helpers of the waits tests (sql/schema/78_waits/): arming a step as its
// rowflow:wait job would, and reading the job and the wait a step has.
import type { Queryable } from "../support.js";
import { stepRow } from "../support.js";

export interface ArmResult {
  ok: boolean;
  outcome?: string;
  reason?: string;
  until?: string;
  task?: number;
  released?: string[];
  runStatus?: string;
  [key: string]: unknown;
}

/** rowflow.arm_step for the step's current attempt at `now` (a trusted session: no job lock needed). */
export async function arm(
  q: Queryable,
  run: number,
  step: string,
  now: string,
): Promise<ArmResult> {
  const { attempt } = await stepRow(q, run, step);
  const { rows } = await q.query<{ r: ArmResult }>(
    "select rowflow.arm_step(run_id => $1, step => $2, attempt => $3, now => $4::timestamptz) as r",
    [run, step, attempt, now],
  );
  return rows[0]!.r;
}

/** The step's current job: its graphile task and when it may run; null without one. */
export async function stepJob(
  q: Queryable,
  run: number,
  step: string,
): Promise<{ task: string; runAt: string } | null> {
  const { rows } = await q.query<{ task: string; run_at: Date }>(
    `select t.identifier as task, j.run_at
     from rowflow.step_runs as sr
     join graphile_worker._private_jobs as j on j.id = sr.job_id
     join graphile_worker._private_tasks as t on t.id = j.task_id
     where sr.run_id = $1 and sr.step = $2`,
    [run, step],
  );
  const row = rows[0];
  return row ? { task: row.task, runAt: row.run_at.toISOString() } : null;
}

/**
 * Every job of the run, as "<task> <step> <run_at ISO>", sorted — also those a
 * worker would have completed and deleted (no worker runs in these tests).
 */
export async function runJobs(q: Queryable, run: number): Promise<string[]> {
  const { rows } = await q.query<{ j: string }>(
    `select t.identifier || ' ' || (j.payload ->> 'step') || ' '
            || to_char(j.run_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as j
     from graphile_worker._private_jobs as j join graphile_worker._private_tasks as t on t.id = j.task_id
     where (j.payload ->> 'run')::bigint = $1 order by 1`,
    [run],
  );
  return rows.map((r) => r.j);
}

export async function signal(
  q: Queryable,
  run: number,
  name: string,
  payload: unknown = null,
  now: string | null = null,
): Promise<Record<string, unknown>> {
  const { rows } = await q.query<{ r: Record<string, unknown> }>(
    "select rowflow.signal(run_id => $1, name => $2, payload => $3::jsonb, now => $4::timestamptz) as r",
    [run, name, payload === null ? null : JSON.stringify(payload), now],
  );
  return rows[0]!.r;
}

/** The run's events of the given types, as "<step> <type>" in order. */
export async function waitEvents(q: Queryable, run: number): Promise<string[]> {
  const { rows } = await q.query<{ e: string }>(
    `select coalesce(step, '-') || ' ' || type as e from rowflow.events
     where run_id = $1 and type in ('step_sleeping', 'step_waiting', 'step_timed_out', 'signal_received',
       'task_created', 'task_claimed', 'task_reassigned', 'task_escalated', 'task_completed', 'step_skipped')
     order by id`,
    [run],
  );
  return rows.map((r) => r.e);
}
