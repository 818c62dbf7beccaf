/**
 * Runs one attempt of one step run in a handler slot: finds its handler,
 * checks the run input against the task's schema, and hands over to
 * run-handler.ts, all inside the attempt's trace span (attempt-span.ts). Returns the steps to run next, each with the slot it runs
 * in (this slot first).
 */
import type { Logger } from "../../definition/logger.js";
import { childLogger } from "../../logging/default-logger.js";
import { leaseKey } from "../dispatch/leases.js";
import type { Slot } from "../dispatch/slots.js";
import type { WorkerState } from "../worker-state.js";
import type { Attempt, Lease } from "./attempt.js";
import { AttemptSpan } from "./attempt-span.js";
import { recordFailure } from "./record-outcome.js";
import { runHandler } from "./run-handler.js";
import { badJobFailure } from "./step-errors.js";

/**
 * Runs `attempt` in `slot` and records its outcome. Returns the steps to run
 * next (the first one in `slot`); when it returns none, the caller releases
 * `slot`. Throws only when the outcome of a graphile-fetched attempt could not
 * be recorded (lost connection): graphile re-delivers it.
 */
export async function runAttempt(
  state: WorkerState,
  slot: Slot,
  attempt: Attempt,
): Promise<Lease[]> {
  const { context } = attempt;
  attempt.span = new AttemptSpan(context, state.id);
  const started = performance.now();
  let log: Logger | undefined;
  const logger = () =>
    (log ??= childLogger(state.logger, {
      run: context.runId,
      step: context.step,
      attempt: context.attempt,
    }));
  try {
    const task = state.tasks.get(context.task);
    if (!task) {
      const known = [...state.tasks.keys()].sort().join(", ") || "none";
      await recordFailure(
        state,
        attempt,
        logger(),
        badJobFailure(
          "unknown_task",
          `no handler for task "${context.task}" on this worker (registered: ${known})`,
        ),
      );
      return [];
    }
    let input: unknown = context.input;
    if (task.input) {
      const parsed = task.input.safeParse(context.input);
      if (!parsed.success) {
        await recordFailure(
          state,
          attempt,
          logger(),
          badJobFailure(
            "invalid_input",
            `run input does not match the input schema of task "${task.name}": ${parsed.error.message}`,
          ),
        );
        return [];
      }
      input = parsed.data;
    }
    return await runHandler(state, slot, attempt, task, input, logger);
  } finally {
    attempt.span.end();
    if (attempt.leased) state.leases.done(leaseKey(context));
    state.metrics?.attempt(
      context.task,
      attempt.outcome ?? "unknown",
      (performance.now() - started) / 1000,
    );
  }
}
