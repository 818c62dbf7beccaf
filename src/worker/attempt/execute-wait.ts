/**
 * The body of graphile-worker's `rowflow:wait` task: one call of
 * rowflow.arm_step (sql/schema/78_waits/arm_step.sql) for a step that waits
 * — until its startAt, for a signal, for a person — or whose wait reached its
 * deadline. It takes no handler slot: the call is one short transaction, and
 * the waiting itself holds nothing (the step's deadline is another
 * `rowflow:wait` job). A refusal (the step moved on meanwhile: a signal
 * arrived, an operator skipped it, the run was cancelled) changes nothing. An
 * error (the database went away) fails the job, and graphile delivers it again.
 */
import type { JobHelpers } from "graphile-worker";

import { childLogger } from "../../logging/default-logger.js";
import type { WorkerState } from "../worker-state.js";
import { jobPayload, waitTaskIdentifier } from "./step-payload.js";

/** Runs one job of task `rowflow:wait`. */
export async function executeWait(
  state: WorkerState,
  rawPayload: unknown,
  helpers: JobHelpers,
): Promise<void> {
  const payload = jobPayload(state.logger, waitTaskIdentifier, rawPayload, helpers.job.id);
  if (!payload) return;
  const result = await state.db.gate.armStep({
    runId: payload.run,
    step: payload.step,
    attempt: payload.attempt,
    workerId: state.id ?? null,
    now: state.now(),
  });
  const log = childLogger(state.logger, { run: payload.run, step: payload.step });
  if (result.ok) log.debug(`wait: ${result.outcome}`);
  else log.debug(`wait job changed nothing: ${result.reason}`);
}
