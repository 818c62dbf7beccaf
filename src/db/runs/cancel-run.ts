import { onlyRow, type Queryable } from "../queryable.js";

/** Calls `rowflow.cancel_run`; true when the run was active and is now cancelled. */
export async function cancelRun(
  db: Queryable,
  args: { runId: string; reason?: string | null },
): Promise<boolean> {
  const { rows } = await db.query<{ cancelled: boolean }>(
    "select rowflow.cancel_run(run_id => $1, reason => $2) as cancelled",
    [args.runId, args.reason ?? null],
  );
  return onlyRow(rows, "rowflow.cancel_run").cancelled;
}
