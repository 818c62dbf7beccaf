import type { Queryable } from "../queryable.js";
import type { BeginStepResult } from "./step-context.js";

/** What applies to a whole batch of begins. */
export interface BeginOptions {
  /** The steps were reserved by this worker (they hold its lease). (Default: false) */
  reserved?: boolean;
  /** The worker's token (register_worker's answer): required with `reserved`. (Default: none) */
  workerToken?: string | null;
}

export interface BeginStepCall {
  runId: string;
  step: string;
  attempt: number;
  workerId?: string | null;
  now?: Date | null;
}

/**
 * Calls `rowflow.begin_steps`: fences each attempt, marks it running and
 * returns its handler context (task, input, dependency outputs), for several
 * attempts in one statement. Answers in the order of `calls`; if the
 * statement raises, none took effect. The worker id and clock of the first
 * call are used for all of them. `reserved`: the steps were reserved by this
 * worker (they hold its lease) rather than fetched through graphile-worker;
 * they need the worker's token (`workerToken`, from register_worker).
 *
 * The call runs with `synchronous_commit` off for its own transaction only
 * (set_config local to the implicit transaction, still in effect when it
 * commits). The write it makes is a hint (status `running`, `started_at`): if
 * a server crash lost it, the step would read as `queued` and the re-delivered
 * job would simply run it; and the next synchronous commit on the server (at
 * the latest the step's own completion) flushes it anyway, because WAL is
 * flushed in order. Skipping the flush saves one fsync per step execution.
 */
export async function beginSteps(
  db: Queryable,
  calls: readonly BeginStepCall[],
  options: BeginOptions = {},
): Promise<BeginStepResult[]> {
  const { rows } = await db.query<{ result: BeginStepResult }>(
    `select pg_catalog.set_config('synchronous_commit', 'off', true) as async_commit, b.result
     from rowflow.begin_steps(run_ids => $1::bigint[], steps => $2::text[], attempts => $3::int[],
                              worker_id => $4, now => $5, reserved => $6,
                              worker_token => $7) as b(result)`,
    [
      calls.map((c) => c.runId),
      calls.map((c) => c.step),
      calls.map((c) => c.attempt),
      calls[0]?.workerId ?? null,
      calls[0]?.now ?? null,
      options.reserved ?? false,
      options.workerToken ?? null,
    ],
  );
  return rows.map((row) => row.result);
}
