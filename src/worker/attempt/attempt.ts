/**
 * An attempt of a step run that this worker runs, and the slot it runs in.
 *
 * An attempt reaches a worker in one of three ways:
 * - graphile-worker fetched its job (execute-job.ts), and completes the job
 *   after the task function returns;
 * - a claim or a completion handed it over (`taken`): it runs under this
 *   worker's lease on its step run, with no job;
 * - a completion reserved it for this worker's local queue (`reserved`), and
 *   a later completion begins it in its slot (`next`), or the dispatcher does
 *   for an idle slot.
 * Leased steps are tracked in `state.leases`, so that the heartbeat's
 * reconciliation hands back only leases this worker is not using.
 */
import type { BeginStepStarted } from "../../db/gate/step-context.js";
import type { AttemptOutcome } from "../../metrics/worker-metrics.js";
import { leaseKey } from "../dispatch/leases.js";
import type { Slot } from "../dispatch/slots.js";
import type { WorkerState } from "../worker-state.js";
import type { AttemptSpan } from "./attempt-span.js";

/** One attempt to run. */
export interface Attempt {
  context: BeginStepStarted;
  /** Held under this worker's lease (handed over or reserved), not through a graphile job. */
  leased: boolean;
  /** graphile-worker's abort signal of the job, for fetched jobs. */
  jobSignal?: AbortSignal;
  /** Its trace span while it runs (run-attempt.ts opens and ends it). */
  span?: AttemptSpan;
  /** How it ended, set when its outcome is recorded (record-outcome.ts); read by the metrics. */
  outcome?: AttemptOutcome;
}

/** A slot and the attempt it runs. */
export interface Lease {
  slot: Slot;
  attempt: Attempt;
}

/** A step handed to this worker under its lease (claim_runs, complete_steps' `taken`, a begun reserved step). */
export function leasedAttempt(state: WorkerState, context: BeginStepStarted): Attempt {
  state.leases.run(leaseKey(context));
  return { context, leased: true };
}
