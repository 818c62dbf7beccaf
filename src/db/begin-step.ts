import { onlyRow, type Queryable } from "./queryable.js";

/**
 * A step attempt's handler context, as `rowflow.begin_steps` answers it and as
 * `rowflow.claim_runs` / `rowflow.complete_steps` hand out the steps they give
 * a worker directly (docs/contract.md).
 */
export interface BeginStepStarted {
  ok: true;
  /** Run id (bigint as a decimal string). */
  runId: string;
  step: string;
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
  /** The step's priority (step + run priority), for steps handed to the worker directly. */
  priority?: number;
}

/** Why `rowflow.begin_step` refused the attempt (stale or duplicate job). */
export interface BeginStepRefused {
  ok: false;
  reason: "step_terminal" | "attempt_mismatch" | "run_not_active" | "unknown_step" | (string & {});
}

export type BeginStepResult = BeginStepStarted | BeginStepRefused;

export interface BeginStepCall {
  runId: string;
  step: string;
  attempt: number;
  workerId?: string | null;
  now?: Date | null;
}

/**
 * Calls `rowflow.begin_step`: fences the attempt, marks the step running and
 * returns its task, input and dependency outputs.
 *
 * The call runs with `synchronous_commit` off for its own transaction only
 * (set_config local to the implicit transaction, still in effect when it
 * commits). The write it makes is a hint (status `running`, `started_at`): if
 * a server crash lost it, the step would read as `queued` and the re-delivered
 * job would simply run it; and the next synchronous commit on the server (at
 * the latest the step's own completion) flushes it anyway, because WAL is
 * flushed in order. Skipping the flush saves one fsync per step execution.
 */
export async function beginStep(db: Queryable, args: BeginStepCall): Promise<BeginStepResult> {
  return onlyRow(await beginSteps(db, [args]), "rowflow.begin_steps");
}

/**
 * `rowflow.begin_steps` for several attempts in one statement (one
 * transaction, asynchronous commit as above). Answers in the order of
 * `calls`. If the statement raises, none took effect. The worker id and
 * clock of the first call are used for all of them. `reserved`: the steps
 * were reserved by this worker (they hold its lease) rather than fetched
 * through graphile-worker.
 */
export async function beginSteps(
  db: Queryable,
  calls: readonly BeginStepCall[],
  options: { reserved?: boolean } = {},
): Promise<BeginStepResult[]> {
  const { rows } = await db.query<{ result: BeginStepResult }>(
    `select pg_catalog.set_config('synchronous_commit', 'off', true) as async_commit, b.result
     from rowflow.begin_steps(run_ids => $1::bigint[], steps => $2::text[], attempts => $3::int[],
                              worker_id => $4, now => $5, reserved => $6) as b(result)`,
    [
      calls.map((c) => c.runId),
      calls.map((c) => c.step),
      calls.map((c) => c.attempt),
      calls[0]?.workerId ?? null,
      calls[0]?.now ?? null,
      options.reserved ?? false,
    ],
  );
  return rows.map((row) => row.result);
}
