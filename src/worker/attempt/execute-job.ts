/**
 * The body of graphile-worker's `rowflow:step` task: one attempt of one step
 * run whose job graphile fetched. It waits for a handler slot, begins the
 * attempt, and runs it (run-attempt.ts). rowflow records every outcome itself
 * (complete_step / fail_step) and owns retries, so the graphile job succeeds
 * whenever the outcome is recorded; it fails (and graphile re-delivers it)
 * only when rowflow could not record anything, e.g. the database went away.
 *
 * Steps the completion hands to this worker run on in the same slot after the
 * task function has returned, so graphile completes this job (and unlocks its
 * named queue) at once.
 */
import type { JobHelpers } from "graphile-worker";

import type { Logger } from "../../definition/logger.js";
import { childLogger } from "../../logging/default-logger.js";
import type { Slot } from "../dispatch/slots.js";
import type { WorkerState } from "../worker-state.js";
import { runAttempt } from "./run-attempt.js";
import { runLeases } from "./run-chains.js";
import { jobPayload, type StepPayload, stepTaskIdentifier } from "./step-payload.js";

/** Runs one job of task `rowflow:step`. */
export async function executeJob(
  state: WorkerState,
  rawPayload: unknown,
  helpers: JobHelpers,
): Promise<void> {
  const payload = jobPayload(state.logger, stepTaskIdentifier, rawPayload, helpers.job.id);
  if (!payload) return;
  const log = childLogger(state.logger, {
    run: payload.run,
    step: payload.step,
    attempt: payload.attempt,
  });

  if (helpers.job.attempts > 1 && (await recordLostAttempt(state, payload, helpers, log))) return;

  // A stopping worker fails the wait: graphile returns the job for another worker.
  const slot: Slot = await state.slots.acquire(helpers.abortSignal);
  let handedOn = false;
  try {
    const begun = await state.db.gate.beginStep({
      runId: payload.run,
      step: payload.step,
      attempt: payload.attempt,
      workerId: state.id ?? null,
      now: state.now(),
    });
    if (!begun.ok) {
      log.debug(`attempt not started: ${begun.reason}`);
      return;
    }
    const next = await runAttempt(state, slot, {
      context: begun,
      leased: false,
      jobSignal: helpers.abortSignal,
    });
    if (next.length > 0) {
      handedOn = true;
      runLeases(state, next);
    }
  } finally {
    if (!handedOn) slot.release();
  }
}

/**
 * graphile-worker delivered this job before (the worker holding it crashed or
 * was declared dead, or rowflow could not record an outcome). If the attempt
 * had started, `fail_lost_attempt` records it as failed and the step's policy
 * decides what follows; returns true then. A job whose attempt never started
 * runs normally.
 */
async function recordLostAttempt(
  state: WorkerState,
  payload: StepPayload,
  helpers: JobHelpers,
  log: Logger,
): Promise<boolean> {
  const workerId = state.id;
  if (!workerId) return false;
  const result = await state.db.gate.failLostAttempt({
    runId: payload.run,
    step: payload.step,
    attempt: payload.attempt,
    workerId,
    now: state.now(),
  });
  if (!result.ok && result.reason === "not_running") return false;
  if (result.ok) {
    log.warn(
      `attempt was lost with its worker (job delivered ${helpers.job.attempts} times); recorded as failed, step ${result.outcome}`,
    );
  } else {
    log.info(`lost attempt not recorded (${result.reason})`);
  }
  return true;
}
