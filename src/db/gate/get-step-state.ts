import type { Queryable } from "../queryable.js";

/** Status and current attempt of one step run. */
export interface StepState {
  status: string;
  attempt: number;
}

/**
 * Reads a step run's status and attempt, e.g. to tell, for a job that
 * graphile-worker delivers again after a crash, whether the lost attempt had
 * started (then it is recorded as failed) or not (then it simply runs).
 */
export async function getStepState(
  db: Queryable,
  args: { runId: string; step: string },
): Promise<StepState | undefined> {
  const { rows } = await db.query<{ status: string; attempt: number }>(
    "select sr.status, sr.attempt from rowflow.step_runs as sr where sr.run_id = $1 and sr.step = $2",
    [args.runId, args.step],
  );
  return rows[0];
}
