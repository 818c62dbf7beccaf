import { onlyRow, type Queryable } from "../queryable.js";

/** The error recorded on a failed attempt (stored as jsonb on the step run). */
export interface StepErrorRecord {
  /** What failed: the handler threw, timed out, was stopped, or the job was bad. */
  kind:
    | "handler"
    | "fatal"
    | "retry_after"
    | "timeout"
    | "shutdown"
    | "worker_lost"
    | "unknown_task"
    | "invalid_input"
    | "invalid_output"
    | "output_too_large";
  message: string;
  name?: string;
  code?: string;
  stack?: string;
  workerId?: string;
}

/** What `rowflow.fail_step` answers (docs/sql-api.md). */
export type FailStepResult =
  | { ok: true; outcome: "retrying" | "failed"; retryAt: string | null; runStatus: string }
  | { ok: false; reason: string };

/** One attempt's failure, as `rowflow.fail_step` takes it. */
export interface FailStepCall {
  runId: string;
  step: string;
  attempt: number;
  error: StepErrorRecord;
  retryable: boolean;
  /** Null: the step's backoff policy picks the next attempt time. */
  retryAt?: Date | null;
  now?: Date | null;
  /** The attempt's lease token (its context's `lease`); without it the call changes nothing. */
  lease?: string | null;
}

/**
 * Calls `rowflow.fail_step` in its own statement (the caller's transaction, if
 * any, must not be the handler's: that one was rolled back). `retryAt` null
 * lets the step's backoff policy pick the next attempt time.
 */
export async function failStep(db: Queryable, args: FailStepCall): Promise<FailStepResult> {
  const { rows } = await db.query<{ result: FailStepResult }>(
    `select rowflow.fail_step(run_id => $1, step => $2, attempt => $3, error => $4::jsonb,
                              retryable => $5, retry_at => $6, now => $7, lease => $8) as result`,
    [
      args.runId,
      args.step,
      args.attempt,
      JSON.stringify(args.error),
      args.retryable,
      args.retryAt ?? null,
      args.now ?? null,
      args.lease ?? null,
    ],
  );
  return onlyRow(rows, "rowflow.fail_step").result;
}

/** A re-delivered job's attempt, as `rowflow.fail_lost_attempt` takes it. */
export interface FailLostAttemptCall {
  runId: string;
  step: string;
  attempt: number;
  /** The worker now holding the job's lock (graphile pool id). */
  workerId: string;
  now?: Date | null;
}

/**
 * Calls `rowflow.fail_lost_attempt`: graphile-worker delivered a job again
 * whose attempt is still running (its worker was lost); the attempt is
 * recorded as failed (worker_lost) and retried by the step's policy. Answers
 * like fail_step, or `not_running` when nothing was lost (the job then runs).
 */
export async function failLostAttempt(
  db: Queryable,
  args: FailLostAttemptCall,
): Promise<FailStepResult> {
  const { rows } = await db.query<{ result: FailStepResult }>(
    `select rowflow.fail_lost_attempt(run_id => $1, step => $2, attempt => $3, worker_id => $4,
                                      now => $5) as result`,
    [args.runId, args.step, args.attempt, args.workerId, args.now ?? null],
  );
  return onlyRow(rows, "rowflow.fail_lost_attempt").result;
}
