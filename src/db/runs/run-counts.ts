import type { Queryable } from "../queryable.js";
import { onlyRow } from "../queryable.js";

/** How many runs there are by status (`rowflow.run_counts`). */
export interface RunCounts {
  total: number;
  /** queued + running + compensating: the runs that have not ended. */
  active: number;
  queued: number;
  running: number;
  compensating: number;
  succeeded: number;
  failed: number;
  cancelled: number;
}

/** Which runs `runCounts` counts: one workflow's (or all) created at or after `since` (or all). */
export interface RunCountsFilter {
  workflow?: string | undefined;
  since?: Date | undefined;
}

const columns = `total::int, active::int, queued::int, running::int, compensating::int,
                 succeeded::int, failed::int, cancelled::int`;

/** Calls `rowflow.run_counts` (the runs the session may see). */
export async function runCounts(db: Queryable, filter: RunCountsFilter): Promise<RunCounts> {
  const { rows } = await db.query<RunCounts & Record<string, unknown>>(
    `select ${columns} from rowflow.run_counts(workflow => $1, since => $2)`,
    [filter.workflow ?? null, filter.since ?? null],
  );
  return onlyRow(rows, "rowflow.run_counts");
}

/**
 * The same counts over the given run ids (rowflow.visible_runs), and the ids
 * of those not found (unknown, purged, or not visible to this role).
 */
export async function runCountsOf(
  db: Queryable,
  ids: readonly string[],
): Promise<RunCounts & { missing: string[] }> {
  const { rows } = await db.query<
    RunCounts & { missing: string[] | null } & Record<string, unknown>
  >(
    `with wanted as (select distinct unnest($1::bigint[]) as id),
          found as (select w.id, r.status from wanted as w left join rowflow.visible_runs as r on r.id = w.id)
     select count(status)::int as total,
            count(*) filter (where status in ('queued', 'running', 'compensating'))::int as active,
            count(*) filter (where status = 'queued')::int as queued,
            count(*) filter (where status = 'running')::int as running,
            count(*) filter (where status = 'compensating')::int as compensating,
            count(*) filter (where status = 'succeeded')::int as succeeded,
            count(*) filter (where status = 'failed')::int as failed,
            count(*) filter (where status = 'cancelled')::int as cancelled,
            array_agg(id::text order by id) filter (where status is null) as missing
     from found`,
    [ids],
  );
  const row = onlyRow(rows, "run counts of ids");
  return { ...row, missing: row.missing ?? [] };
}
