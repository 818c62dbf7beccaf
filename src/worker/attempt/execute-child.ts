/**
 * The body of graphile-worker's `rowflow:child` task: one call of
 * rowflow.settle_child (sql/schema/78_waits/settle_child.sql) for a child
 * step whose child run ended. Like `rowflow:wait` it takes no handler slot:
 * the call is one short transaction. A refusal (the step moved on: the
 * parent was cancelled, the job came twice) changes nothing. An error (the
 * database went away) fails the job, and graphile delivers it again.
 */
import type { JobHelpers } from "graphile-worker";

import { childLogger } from "../../logging/default-logger.js";
import type { WorkerState } from "../worker-state.js";
import { childTaskIdentifier, jobPayload } from "./step-payload.js";

/** Runs one job of task `rowflow:child`. */
export async function executeChild(
  state: WorkerState,
  rawPayload: unknown,
  helpers: JobHelpers,
): Promise<void> {
  const payload = jobPayload(state.logger, childTaskIdentifier, rawPayload, helpers.job.id);
  if (!payload) return;
  const result = await state.db.gate.settleChild({
    runId: payload.run,
    step: payload.step,
    attempt: payload.attempt,
    workerId: state.id ?? null,
    now: state.now(),
  });
  const log = childLogger(state.logger, { run: payload.run, step: payload.step });
  if (result.ok) log.debug(`child settled: ${result.outcome}`);
  else log.debug(`child job changed nothing: ${result.reason}`);
}
