import { onlyRow, type Queryable } from "../queryable.js";

/**
 * Calls `rowflow.cancel_run`; true when the run was active and is now
 * cancelled (with `compensate`: compensating, then cancelled once its
 * succeeded steps are undone).
 */
export async function cancelRun(
  db: Queryable,
  args: { runId: string; reason?: string | null; compensate?: boolean },
): Promise<boolean> {
  const { rows } = await db.query<{ cancelled: boolean }>(
    "select rowflow.cancel_run(run_id => $1, reason => $2, compensate => $3) as cancelled",
    [args.runId, args.reason ?? null, args.compensate ?? false],
  );
  return onlyRow(rows, "rowflow.cancel_run").cancelled;
}
