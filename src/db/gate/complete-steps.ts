import type { Queryable } from "../queryable.js";
import type { BeginStepStarted } from "./step-context.js";

/** A step a completion reserved for the worker's local queue (queued under its lease). */
export interface ReservedStep {
  runId: string;
  step: string;
  attempt: number;
  priority: number;
}

/** What `rowflow.complete_step(s)` answers (docs/sql-api.md). */
export type CompleteStepResult = (
  | {
      ok: true;
      /** Dependents queued, reserved or handed to this worker. */
      released: string[];
      /** Dependents skipped by their condition. */
      skipped: string[];
      runStatus: string;
    }
  | {
      ok: false;
      /** e.g. step_terminal, attempt_mismatch, not_lease_holder, output_too_large (docs/sql-api.md). */
      reason: string;
      /** output_too_large: the output's size and the limit, in bytes of JSON text. */
      bytes?: number;
      limit?: number;
    }
) & {
  /** Steps to run now in the call's slots (the reserved `next` first): running under the worker's lease. */
  taken?: BeginStepStarted[];
  /** Steps reserved for the worker's local queue. */
  reserved?: ReservedStep[];
  /** Queued runs claimed for leftover slots, when the call asked to claim. */
  claimedRuns?: number;
};

export interface CompleteStepCall {
  runId: string;
  step: string;
  attempt: number;
  outputJson: string;
  /** The attempt's lease token (its context's `lease`); without it the call changes nothing. */
  lease?: string | null;
  /** How many steps the caller runs next in the slots this call brings. (Default: 0) */
  take?: number;
  /** A reserved step the call's slot runs next (begun by the call). (Default: none) */
  next?: { runId: string; step: string; attempt: number } | null;
  now?: Date | null;
}

/** What applies to a whole batch of completions. */
export interface CompleteOptions {
  /** The worker (graphile pool id) running taken steps and holding leases. (Default: none) */
  workerId?: string | null;
  /** Claim queued runs for slots left over. (Default: false) */
  claim?: boolean;
  /** How many ready dependents to reserve for the worker's local queue. (Default: 0) */
  reserve?: number;
  /** The worker's token (register_worker's answer): required with `workerId`. (Default: none) */
  workerToken?: string | null;
}

/**
 * Calls `rowflow.complete_steps` with each step output as JSON text, for
 * several attempts in one statement (one transaction: the completions and
 * what they release commit together, with one WAL flush). Run it on the
 * handler's transaction so that the handler's writes, the completion and the
 * release of dependents commit together. Answers in the order of `calls`; if the statement raises,
 * none took effect. The clock of the first call is used for all of them.
 */
export async function completeSteps(
  db: Queryable,
  calls: readonly CompleteStepCall[],
  options: CompleteOptions = {},
): Promise<CompleteStepResult[]> {
  const hasNext = calls.some((c) => c.next);
  const { rows } = await db.query<{ result: CompleteStepResult }>(
    `select c.result
     from rowflow.complete_steps(run_ids => $1::bigint[], steps => $2::text[], attempts => $3::int[],
                                 outputs => $4::jsonb[], takes => $5::int[], worker_id => $6, now => $7,
                                 claim => $8, reserve => $9, next_run_ids => $10::bigint[],
                                 next_steps => $11::text[], next_attempts => $12::int[],
                                 leases => $13::text[], worker_token => $14) as c(result)`,
    [
      calls.map((c) => c.runId),
      calls.map((c) => c.step),
      calls.map((c) => c.attempt),
      calls.map((c) => c.outputJson),
      calls.map((c) => c.take ?? 0),
      options.workerId ?? null,
      calls[0]?.now ?? null,
      options.claim ?? false,
      options.reserve ?? 0,
      hasNext ? calls.map((c) => c.next?.runId ?? null) : null,
      hasNext ? calls.map((c) => c.next?.step ?? null) : null,
      hasNext ? calls.map((c) => c.next?.attempt ?? null) : null,
      calls.some((c) => c.lease) ? calls.map((c) => c.lease ?? null) : null,
      options.workerId ? (options.workerToken ?? null) : null,
    ],
  );
  return rows.map((row) => row.result);
}
