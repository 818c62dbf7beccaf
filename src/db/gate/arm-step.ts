import type { Queryable } from "../queryable.js";

export interface ArmStepCall {
  runId: string;
  step: string;
  attempt: number;
  workerId: string | null;
  now?: Date | null;
}

/** `rowflow.arm_step`'s answer: what became of the waiting step, or why nothing changed. */
export type ArmStepResult =
  | {
      ok: true;
      outcome:
        "sleeping" | "queued" | "waiting" | "succeeded" | "escalated" | "timed_out" | "failed";
      [key: string]: unknown;
    }
  | { ok: false; reason: string; [key: string]: unknown };

/**
 * Calls `rowflow.arm_step` (sql/schema/78_waits/arm_step.sql), the body of a
 * `rowflow:wait` job: sleeps the step until its startAt, starts its wait
 * (signal, human task), or applies its deadline. One short transaction.
 */
export async function armStep(db: Queryable, call: ArmStepCall): Promise<ArmStepResult> {
  const { rows } = await db.query<{ result: ArmStepResult }>(
    `select rowflow.arm_step($1::bigint, $2, $3, $4, $5) as result`,
    [call.runId, call.step, call.attempt, call.workerId, call.now ?? null],
  );
  const result = rows[0]?.result;
  if (!result) throw new Error("arm_step returned no row");
  return result;
}
