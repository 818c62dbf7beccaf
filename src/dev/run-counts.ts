import type pg from "pg";

/** Runs per workflow and status, created at or after `since`. */
export interface WorkflowCounts {
  workflow: string;
  started: number;
  /** Started, not yet claimed by a worker. */
  queued: number;
  running: number;
  compensating: number;
  succeeded: number;
  failed: number;
  cancelled: number;
}

export async function readRunCounts(pool: pg.Pool, since: Date): Promise<WorkflowCounts[]> {
  const { rows } = await pool.query<WorkflowCounts>(
    `select workflow,
            count(*)::int as started,
            count(*) filter (where status = 'queued')::int as queued,
            count(*) filter (where status = 'running')::int as running,
            count(*) filter (where status = 'compensating')::int as compensating,
            count(*) filter (where status = 'succeeded')::int as succeeded,
            count(*) filter (where status = 'failed')::int as failed,
            count(*) filter (where status = 'cancelled')::int as cancelled
       from rowflow.runs
      where created_at >= $1
      group by workflow
      order by workflow`,
    [since],
  );
  return rows;
}

/** True when every run counted has finished. */
export function allFinished(counts: readonly WorkflowCounts[]): boolean {
  return counts.every((c) => c.queued === 0 && c.running === 0 && c.compensating === 0);
}
