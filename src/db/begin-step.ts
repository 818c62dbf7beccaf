import { onlyRow, type Queryable } from "./queryable.js";

/** What `rowflow.begin_step` answers when the attempt may run (docs/contract.md). */
export interface BeginStepStarted {
  ok: true;
  task: string;
  workflow: string;
  version: number;
  input: Record<string, unknown>;
  deps: Record<string, unknown>;
  attempt: number;
  maxAttempts: number;
  timeoutMs: number | null;
  idempotencyKey: string;
  kind: "step" | "compensation" | "on_failure";
  /** The run's error once it failed (compensation and on-failure step runs), else null. */
  runError: Record<string, unknown> | null;
}

/** Why `rowflow.begin_step` refused the attempt (stale or duplicate job). */
export interface BeginStepRefused {
  ok: false;
  reason: "step_terminal" | "attempt_mismatch" | "run_not_active" | "unknown_step" | (string & {});
}

export type BeginStepResult = BeginStepStarted | BeginStepRefused;

/**
 * Calls `rowflow.begin_step`: fences the attempt, marks the step running and
 * returns its task, input and dependency outputs.
 *
 * The call runs as one statement with `synchronous_commit` off for its own
 * transaction only (set_config local to the implicit transaction, which is
 * still in effect when that transaction commits). The write it makes is a
 * hint (status `running`, `started_at`, a `step_started` event): if a server
 * crash lost it, the step would read as `queued` and the re-delivered job
 * would simply run it; and the next synchronous commit on the server (at the
 * latest the step's own completion) flushes it anyway, because WAL is flushed
 * in order. Skipping the flush saves one fsync per step execution.
 */
export async function beginStep(
  db: Queryable,
  args: {
    runId: string;
    step: string;
    attempt: number;
    workerId?: string | null;
    now?: Date | null;
  },
): Promise<BeginStepResult> {
  const { rows } = await db.query<{ result: BeginStepResult }>(
    `select pg_catalog.set_config('synchronous_commit', 'off', true) as async_commit,
            rowflow.begin_step(run_id => $1, step => $2, attempt => $3, worker_id => $4, now => $5) as result`,
    [args.runId, args.step, args.attempt, args.workerId ?? null, args.now ?? null],
  );
  return onlyRow(rows, "rowflow.begin_step").result;
}

/**
 * `rowflow.begin_step` for several attempts in one statement (one
 * transaction, asynchronous commit as above), in the order given: callers
 * sort by run id so that concurrent batches lock runs in the same order.
 * Answers in the order of `calls`. If any call raises, none took effect.
 */
export async function beginSteps(
  db: Queryable,
  calls: readonly {
    runId: string;
    step: string;
    attempt: number;
    workerId?: string | null;
    now?: Date | null;
  }[],
): Promise<BeginStepResult[]> {
  const { rows } = await db.query<{ result: BeginStepResult }>(
    `select pg_catalog.set_config('synchronous_commit', 'off', true) as async_commit,
            rowflow.begin_step(run_id => c.run_id, step => c.step, attempt => c.attempt, worker_id => c.worker_id, now => c.now) as result
     from unnest($1::bigint[], $2::text[], $3::int[], $4::text[], $5::timestamptz[]) with ordinality
       as c(run_id, step, attempt, worker_id, now, o)
     order by c.o`,
    [
      calls.map((c) => c.runId),
      calls.map((c) => c.step),
      calls.map((c) => c.attempt),
      calls.map((c) => c.workerId ?? null),
      calls.map((c) => c.now ?? null),
    ],
  );
  return rows.map((row) => row.result);
}
