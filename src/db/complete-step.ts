import { onlyRow, type Queryable } from "./queryable.js";

/** What `rowflow.complete_step` answers (docs/contract.md). */
export type CompleteStepResult =
  { ok: true; released: string[]; runStatus: string } | { ok: false; reason: string };

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

/**
 * `rowflow.complete_step` for several attempts in one statement (one
 * transaction: the completions and the jobs they release commit together,
 * with one WAL flush), in the order given: callers sort by run id so that
 * concurrent batches lock runs in the same order. Only for steps without
 * handler writes. Answers in the order of `calls`. If any call raises,
 * none took effect.
 */
export async function completeSteps(
  db: Queryable,
  calls: readonly {
    runId: string;
    step: string;
    attempt: number;
    outputJson: string;
    now?: Date | null;
  }[],
): Promise<CompleteStepResult[]> {
  const { rows } = await db.query<{ result: CompleteStepResult }>(
    `select rowflow.complete_step(run_id => c.run_id, step => c.step, attempt => c.attempt, output => c.output::jsonb, now => c.now) as result
     from unnest($1::bigint[], $2::text[], $3::int[], $4::text[], $5::timestamptz[]) with ordinality
       as c(run_id, step, attempt, output, now, o)
     order by c.o`,
    [
      calls.map((c) => c.runId),
      calls.map((c) => c.step),
      calls.map((c) => c.attempt),
      calls.map((c) => c.outputJson),
      calls.map((c) => c.now ?? null),
    ],
  );
  return rows.map((row) => row.result);
}
