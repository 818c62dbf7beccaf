import type { Queryable } from "../queryable.js";

export interface SettleChildCall {
  runId: string;
  step: string;
  attempt: number;
  workerId: string | null;
  now?: Date | null;
}

/** `rowflow.settle_child`'s answer: what became of the parent step, or why nothing changed. */
export type SettleChildResult =
  | { ok: true; outcome: "succeeded" | "retrying" | "failed"; [key: string]: unknown }
  | { ok: false; reason: string; [key: string]: unknown };

/**
 * Calls `rowflow.settle_child` (sql/schema/78_waits/settle_child.sql), the
 * body of a `rowflow:child` job: a child step takes its ended child run's
 * outcome. One short transaction.
 */
export async function settleChild(
  db: Queryable,
  call: SettleChildCall,
): Promise<SettleChildResult> {
  const { rows } = await db.query<{ result: SettleChildResult }>(
    `select rowflow.settle_child(run_id => $1::bigint, step => $2, attempt => $3, worker_id => $4,
       now => $5) as result`,
    [call.runId, call.step, call.attempt, call.workerId, call.now ?? null],
  );
  const result = rows[0]?.result;
  if (!result) throw new Error("settle_child returned no row");
  return result;
}
