/**
 * The body of graphile-worker's `rowflow:step` task: one attempt of one step
 * run whose job graphile fetched. It waits for a handler slot, begins the
 * attempt, and runs it (step-runner.ts). rowflow records every outcome itself
 * (complete_step / fail_step) and owns retries, so the graphile job succeeds
 * whenever the outcome is recorded; it fails (and graphile re-delivers it)
 * only when rowflow could not record anything, e.g. the database went away.
 *
 * Steps the completion hands to this worker run on in the same slot after the
 * task function has returned, so graphile completes this job (and unlocks its
 * named queue) at once.
 */
import type { JobHelpers } from "graphile-worker";

import { failStep } from "../db/fail-step.js";
import { getStepState } from "../db/get-step-state.js";
import type { Logger } from "../definition/logger.js";
import { childLogger } from "./logger.js";
import type { Slot } from "./slots.js";
import { parseStepPayload, type StepPayload } from "./step-payload.js";
import { runAttempt, runLeases, type StepTaskEnv } from "./step-runner.js";

export type { StepTaskEnv } from "./step-runner.js";

/** Runs one job of task `rowflow:step`. */
export async function executeStep(
  env: StepTaskEnv,
  rawPayload: unknown,
  helpers: JobHelpers,
): Promise<void> {
  const payload = parseStepPayload(rawPayload);
  if (!payload) {
    // Nothing to record it on: log and let the job complete rather than retry 25 times.
    env.logger.error("rowflow:step job with a malformed payload; dropped", {
      payload: rawPayload,
      jobId: helpers.job.id,
    });
    return;
  }
  const log = childLogger(env.logger, {
    run: payload.run,
    step: payload.step,
    attempt: payload.attempt,
  });

  if (helpers.job.attempts > 1 && (await recordLostAttempt(env, payload, helpers, log))) return;

  // A stopping worker fails the wait: graphile returns the job for another worker.
  const slot: Slot = await env.slots.acquire(helpers.abortSignal);
  let handedOn = false;
  try {
    const begun = await env.beginStep({
      runId: payload.run,
      step: payload.step,
      attempt: payload.attempt,
      workerId: env.workerId() ?? null,
      now: env.now?.() ?? null,
    });
    if (!begun.ok) {
      log.debug(`attempt not started: ${begun.reason}`);
      return;
    }
    const next = await runAttempt(env, slot, {
      context: begun,
      leased: false,
      jobSignal: helpers.abortSignal,
    });
    if (next.length > 0) {
      handedOn = true;
      runLeases(env, next);
    }
  } finally {
    if (!handedOn) slot.release();
  }
}

/**
 * graphile-worker delivered this job before (the worker holding it crashed or
 * was declared dead, or rowflow could not record an outcome). If the attempt
 * had started, it is recorded as failed and the step's policy decides what
 * follows; returns true then. A job whose attempt never started runs normally.
 */
async function recordLostAttempt(
  env: StepTaskEnv,
  payload: StepPayload,
  helpers: JobHelpers,
  log: Logger,
): Promise<boolean> {
  const state = await getStepState(env.pool, { runId: payload.run, step: payload.step });
  if (state?.status !== "running" || state.attempt !== payload.attempt) return false;
  log.warn("attempt was lost with its worker; recording it as failed");
  const workerId = env.workerId();
  const result = await failStep(env.pool, {
    runId: payload.run,
    step: payload.step,
    attempt: payload.attempt,
    error: {
      kind: "worker_lost",
      message: `the worker running attempt ${payload.attempt} stopped before recording an outcome (job delivered ${helpers.job.attempts} times)`,
      code: "RF_WORKER_LOST",
      ...(workerId ? { workerId } : {}),
    },
    retryable: true,
    retryAt: null,
    now: env.now?.() ?? null,
  });
  if (!result.ok) log.info(`lost attempt not recorded (${result.reason})`);
  return true;
}
