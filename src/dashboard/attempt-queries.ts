// A run's step attempts, for its Gantt chart (gantt.ts): one statement over
// what a rowflow_viewer may read. A step_runs row holds only its current
// attempt; each earlier one ended in a step_retrying event, a final failure
// in a step_failed event, and both events record when that attempt started
// (data.startedAt), its error and the worker's id (the worker adds it to
// the failure). A step row's first attempt was queued at queued_at, a
// retry when the attempt before it ended (the event's `at`; it may not start
// before data.retryAt, the backoff).
import type { Queryable } from "../db/queryable.js";

export type AttemptRow = {
  step: string;
  attempt: number;
  /** succeeded, failed, retried (failed, then retried), running, queued, cancelled. */
  outcome: string;
  /** When the attempt's row said it was ready: null for a retry (the attempt before it ended). */
  queuedAt: Date | null;
  startedAt: Date | null;
  endedAt: Date | null;
  /** A retry may not start before this (the backoff); null otherwise. */
  retryAt: Date | null;
  worker: string | null;
  error: string | null;
  /** The statement's now(): where an open bar ends. */
  now: Date;
};

export async function runAttempts(db: Queryable, runId: string): Promise<AttemptRow[]> {
  const { rows } = await db.query<AttemptRow>(
    `select a.step, a.attempt, a.outcome, a.queued_at as "queuedAt", a.started_at as "startedAt",
       a.ended_at as "endedAt", a.retry_at as "retryAt", a.worker, a.error, now() as now
     from (
       select e.step, e.attempt::int as attempt,
         case e.type when 'step_retrying' then 'retried' else 'failed' end as outcome,
         -- The row's queued_at is its first attempt's (unless a retry_run queued it again since).
         case when e.attempt = 1 and sr.queued_at <= (e.data ->> 'startedAt')::timestamptz
              then sr.queued_at end as queued_at,
         (e.data ->> 'startedAt')::timestamptz as started_at, e.at as ended_at,
         (select (p.data ->> 'retryAt')::timestamptz from rowflow.events as p
          where p.run_id = e.run_id and p.step = e.step and p.type = 'step_retrying'
            and p.attempt = e.attempt - 1 and p.id < e.id order by p.id desc limit 1) as retry_at,
         e.data -> 'error' ->> 'workerId' as worker, e.data -> 'error' ->> 'message' as error
       from rowflow.events as e
       left join rowflow.step_runs as sr on sr.run_id = e.run_id and sr.step = e.step
       where e.run_id = $1 and e.type in ('step_retrying', 'step_failed') and e.attempt is not null
       union all
       select sr.step, sr.attempt::int, sr.status,
         case when sr.attempt <= 1 then sr.queued_at end, sr.started_at, sr.finished_at,
         (select (e.data ->> 'retryAt')::timestamptz from rowflow.events as e
          where e.run_id = sr.run_id and e.step = sr.step and e.type = 'step_retrying'
            and e.attempt = sr.attempt - 1 limit 1),
         sr.locked_by,
         -- A queued or running attempt's row still holds the error of the one before it.
         case when sr.status = 'cancelled' then sr.error ->> 'message' end
       from rowflow.step_runs as sr
       where sr.run_id = $1 and sr.attempt >= 1
         and (sr.status in ('queued', 'running', 'succeeded')
              or (sr.status = 'cancelled' and sr.started_at is not null))
     ) as a
     order by a.step, coalesce(a.started_at, a.queued_at, now()), a.attempt`,
    [runId],
  );
  return rows;
}
