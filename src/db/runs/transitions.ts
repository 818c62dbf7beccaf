// The SQL reads behind `rowflow tail` (src/client/tail/transition-cursor.ts):
// the transitions of rowflow.run_timeline from a time on, and a visibility
// mark, the server's clock and the transactions in progress, from which the
// cursor works out how far back a transaction still open may yet commit one.
// Both are plain reads a rowflow_viewer may make (pg_locks is readable by
// every role).
import { onlyRow, type Queryable } from "../queryable.js";

// A type, not an interface: pg's row type needs an index signature.
export type TransitionRow = {
  run_id: string;
  workflow: string;
  step: string | null;
  type: string;
  attempt: number | null;
  data: unknown;
  /** rowflow.events.id of a stored event; null for one implied by the rows' timestamps. */
  event_id: string | null;
  /** ISO 8601 in UTC, to the microsecond. */
  at: string;
  /** The same instant in microseconds since the epoch (exact: a bigint's text). */
  at_us: string;
};

export interface TransitionFilter {
  /** Only this workflow's runs. (Default: every workflow) */
  workflow?: string | null;
  /** Only this run. (Default: every run) */
  runId?: string | null;
}

/**
 * The transitions whose time is `from` or later, in the timeline's order
 * (at, ord, step, then the stored event's id).
 *
 * This is rowflow.run_timeline (sql/schema/25_views/run_timeline.sql),
 * branch for branch, read from its tables rather than through the view:
 * the view calls rowflow._has_stored_start, which only rowflow's owner may
 * execute, so a rowflow_viewer's SELECT on it fails (42501) as soon as one
 * run exists. Here that test is an EXISTS on rowflow.events, which a viewer
 * may read. test/integration/client/tail-cursor.test.ts checks that both
 * answer the same rows; once the view works for a viewer, read it instead.
 *
 * The timeline has no index on its times, so the runs that can have a
 * transition at `from` or later are picked first (`c`), and every branch
 * reads those runs' rows by primary key: such a run is running or
 * compensating, or it finished or was updated (retried, started again) at
 * `from` or later. One statement, so one snapshot. It runs in milliseconds,
 * but its estimates can pass jit_above_cost, and JIT compiling it took ~1 s
 * per read on a 2-core machine (50,000 runs): a caller that polls should
 * turn `jit` off on its session (`rowflow tail` does).
 */
export async function readTransitions(
  db: Queryable,
  args: TransitionFilter & { from: string },
): Promise<TransitionRow[]> {
  const { rows } = await db.query<TransitionRow>(
    `with c as materialized (
       select r.id, r.workflow, r.status, r.started_at, r.finished_at,
              exists (select 1 from rowflow.events as e where e.run_id = r.id and e.type = 'run_started')
                as stored_start
       from rowflow.runs as r
       where ($2::text is null or r.workflow = $2) and ($3::bigint is null or r.id = $3)
         and (r.status in ('running', 'compensating') or r.finished_at >= $1::timestamptz
              or r.updated_at >= $1::timestamptz)
     ), t as (
       select e.run_id, c.workflow, e.at, e.step, e.type, e.attempt::int, e.data, e.id,
         case e.type
           when 'run_started' then 0
           when 'step_succeeded' then 1 when 'step_failed' then 1 when 'step_retrying' then 1
           when 'step_skipped' then 2 when 'step_cancelled' then 2
           when 'step_queued' then 3 when 'step_started' then 4
           else 5 end as ord
       from rowflow.events as e join c on c.id = e.run_id
       where e.run_id = any (array(select c.id from c)) and e.at >= $1::timestamptz
       union all
       select c.id, c.workflow, c.started_at, null, 'run_started', null, null, null, 0
       from c where c.started_at >= $1::timestamptz and not c.stored_start
       union all
       select c.id, c.workflow, c.finished_at, null, 'run_succeeded', null, null, null, 5
       from c where c.status = 'succeeded' and c.finished_at >= $1::timestamptz and not c.stored_start
       union all
       select sr.run_id, c.workflow, sr.queued_at, sr.step, 'step_queued', 1, null, null, 3
       from rowflow.step_runs as sr join c on c.id = sr.run_id
       where sr.run_id = any (array(select c.id from c)) and sr.queued_at >= $1::timestamptz and not c.stored_start
       union all
       select e.run_id, c.workflow, e.at, e.step, 'step_queued', (e.data ->> 'nextAttempt')::int, null, null, 3
       from rowflow.events as e join c on c.id = e.run_id
       where e.run_id = any (array(select c.id from c)) and e.type = 'step_retrying' and e.at >= $1::timestamptz
         and not c.stored_start
       union all
       select sr.run_id, c.workflow, sr.started_at, sr.step, 'step_started', sr.attempt::int, null, null, 4
       from rowflow.step_runs as sr join c on c.id = sr.run_id
       where sr.run_id = any (array(select c.id from c)) and sr.started_at >= $1::timestamptz
         and sr.status in ('running', 'succeeded', 'cancelled') and not c.stored_start
       union all
       select e.run_id, c.workflow, (e.data ->> 'startedAt')::timestamptz, e.step, 'step_started',
              e.attempt::int, null, null, 4
       from rowflow.events as e join c on c.id = e.run_id
       where e.run_id = any (array(select c.id from c)) and e.type in ('step_retrying', 'step_failed')
         and (e.data ->> 'startedAt')::timestamptz >= $1::timestamptz
       union all
       select sr.run_id, c.workflow, sr.finished_at, sr.step, 'step_succeeded', sr.attempt::int, null, null, 1
       from rowflow.step_runs as sr join c on c.id = sr.run_id
       where sr.run_id = any (array(select c.id from c)) and sr.status = 'succeeded'
         and sr.finished_at >= $1::timestamptz and not c.stored_start
     )
     select t.run_id::text, t.workflow, t.step, t.type, t.attempt, t.data, t.id::text as event_id,
            pg_catalog.to_char(t.at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as at,
            (extract(epoch from t.at) * 1000000)::bigint::text as at_us
     from t
     order by t.at, t.ord, t.step nulls first, t.id`,
    [args.from, args.workflow ?? null, args.runId ?? null],
  );
  return rows;
}

export interface VisibilityMark {
  /** statement_timestamp() of the read, in microseconds since the epoch. */
  nowUs: bigint;
  /**
   * The virtual transaction ids (pg_locks.virtualtransaction) of every other
   * transaction in progress on the server, with or without a transaction id
   * yet: each holds the lock of its own virtual id from its start to its end.
   */
  inProgress: string[];
}

/**
 * The server's time and the transactions in progress, cluster-wide: a
 * viewer cannot see which database another role's session uses
 * (pg_stat_activity hides it), so a transaction of another database counts
 * too, which only widens the cursor's overlap.
 */
export async function readVisibilityMark(db: Queryable): Promise<VisibilityMark> {
  const { rows } = await db.query<{ now_us: string; in_progress: string[] }>(
    `select (extract(epoch from pg_catalog.statement_timestamp()) * 1000000)::bigint::text as now_us,
            coalesce((select pg_catalog.array_agg(distinct l.virtualtransaction)
                      from pg_catalog.pg_locks as l
                      where l.pid is distinct from pg_catalog.pg_backend_pid()
                        and l.virtualtransaction is not null), '{}') as in_progress`,
  );
  const row = onlyRow(rows, "readVisibilityMark");
  return { nowUs: BigInt(row.now_us), inProgress: row.in_progress };
}

/** The server's time minus `ago` (a Postgres interval, or null for now), in microseconds since the epoch. */
export async function serverTimeUs(db: Queryable, ago: string | null): Promise<bigint> {
  const { rows } = await db.query<{ us: string }>(
    `select (extract(epoch from pg_catalog.statement_timestamp() - coalesce($1::interval, interval '0'))
             * 1000000)::bigint::text as us`,
    [ago],
  );
  return BigInt(onlyRow(rows, "serverTimeUs").us);
}
