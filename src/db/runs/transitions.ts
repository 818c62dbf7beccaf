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
 * (at, ord, step). rowflow.run_timeline has no index on its times, so the
 * runs that can have such a transition are picked first and their ids
 * pushed into every branch of the view (each then reads by primary key):
 * a transition at `from` or later belongs to a run that is running or
 * compensating, or that finished or was updated (retried, started again)
 * at `from` or later. One statement, so one snapshot.
 */
export async function readTransitions(
  db: Queryable,
  args: TransitionFilter & { from: string },
): Promise<TransitionRow[]> {
  const { rows } = await db.query<TransitionRow>(
    `with c as materialized (
       select r.id, r.workflow from rowflow.runs as r
       where ($2::text is null or r.workflow = $2) and ($3::bigint is null or r.id = $3)
         and (r.status in ('running', 'compensating') or r.finished_at >= $1::timestamptz
              or r.updated_at >= $1::timestamptz)
     )
     select t.run_id::text, c.workflow, t.step, t.type, t.attempt::int, t.data, t.id::text as event_id,
            pg_catalog.to_char(t.at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as at,
            (extract(epoch from t.at) * 1000000)::bigint::text as at_us
     from rowflow.run_timeline as t
     join c on c.id = t.run_id
     where t.run_id = any (array(select c.id from c)) and t.at >= $1::timestamptz
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
