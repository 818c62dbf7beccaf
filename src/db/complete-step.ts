import { onlyRow, type Queryable } from "./queryable.js";

/** What `rowflow.complete_step` answers (docs/contract.md). */
export type CompleteStepResult =
  | { ok: true; released: string[]; runStatus: string }
  | { ok: false; reason: string };

/**
 * Calls `rowflow.complete_step` with the step output as JSON text. Run it on
 * the handler's transaction so that the handler's writes, the completion and
 * the release of dependents commit together.
 */
export async function completeStep(
  db: Queryable,
  args: { runId: string; step: string; attempt: number; outputJson: string; now?: Date | null },
): Promise<CompleteStepResult> {
  const { rows } = await db.query<{ result: CompleteStepResult }>(
    "select rowflow.complete_step(run_id => $1, step => $2, attempt => $3, output => $4::jsonb, now => $5) as result",
    [args.runId, args.step, args.attempt, args.outputJson, args.now ?? null],
  );
  return onlyRow(rows, "rowflow.complete_step").result;
}
