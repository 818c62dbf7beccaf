/**
 * The body of graphile-worker's `rowflow:step` task: one attempt of one step
 * run. rowflow records every outcome itself (complete_step / fail_step) and
 * owns retries, so the graphile job succeeds whenever the outcome is recorded;
 * it fails (and graphile re-delivers it) only when rowflow could not record
 * anything, e.g. the database went away.
 */
import type { JobHelpers } from "graphile-worker";
import type { Kysely } from "kysely";
import type pg from "pg";

import type { BeginStepResult, BeginStepStarted } from "../db/begin-step.js";
import { completeStep, type CompleteStepResult } from "../db/complete-step.js";
import { failStep } from "../db/fail-step.js";
import { getStepState } from "../db/get-step-state.js";
import type { Database } from "../db/types.js";
import type { HandlerContext } from "../definition/handler-context.js";
import type { Logger } from "../definition/logger.js";
import { isFromServerSide } from "./call-batcher.js";
import { childLogger } from "./logger.js";
import {
  badJobFailure,
  classifyFailure,
  type FailureRecord,
  record,
  StepTimeoutError,
  WorkerShutdownError,
} from "./step-errors.js";
import { parseStepPayload, type StepPayload } from "./step-payload.js";
import { StepTransaction, type TransactionProps } from "./step-transaction.js";
import type { RegisteredTask } from "./task-registry.js";
import { toJsonOutput } from "./to-json-output.js";

/** What the step task needs from its worker. */
export interface StepTaskEnv {
  readonly pool: pg.Pool;
  readonly kysely: Kysely<Database>;
  readonly transactionProps: TransactionProps;
  readonly tasks: ReadonlyMap<string, RegisteredTask>;
  readonly logger: Logger;
  /** The graphile-worker pool id, once known (recorded with failures). */
  readonly workerId: () => string | undefined;
  /** Clock passed to the SQL functions; undefined: the database's `now()`. */
  readonly now: (() => Date) | undefined;
  /** Wakes `n` idle handlers of this worker (jobs it just released), without waiting for a NOTIFY. */
  readonly nudge: (n: number) => void;
  /** `rowflow.begin_step` (batched with other handler slots' calls: call-batcher.ts). */
  readonly beginStep: (args: BeginStepCall) => Promise<BeginStepResult>;
  /** `rowflow.complete_step` in its own transaction, for handlers that wrote nothing (batched likewise). */
  readonly completeStep: (args: CompleteStepCall) => Promise<CompleteStepResult>;
}

export interface BeginStepCall {
  runId: string;
  step: string;
  attempt: number;
  workerId: string | null;
  now: Date | null;
}

export interface CompleteStepCall {
  runId: string;
  step: string;
  attempt: number;
  outputJson: string;
  now: Date | null;
}

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
  const now = () => env.now?.() ?? null;

  if (helpers.job.attempts > 1 && (await recordLostAttempt(env, payload, helpers, log))) return;

  const begun = await env.beginStep({
    runId: payload.run,
    step: payload.step,
    attempt: payload.attempt,
    workerId: env.workerId() ?? null,
    now: now(),
  });
  if (!begun.ok) {
    log.debug(`attempt not started: ${begun.reason}`);
    return;
  }

  const task = env.tasks.get(begun.task);
  if (!task) {
    const known = [...env.tasks.keys()].sort().join(", ") || "none";
    await recordFailure(
      env,
      payload,
      log,
      badJobFailure(
        "unknown_task",
        `no handler for task "${begun.task}" on this worker (registered: ${known})`,
      ),
    );
    return;
  }

  let input: unknown = begun.input;
  if (task.input) {
    const parsed = task.input.safeParse(begun.input);
    if (!parsed.success) {
      await recordFailure(
        env,
        payload,
        log,
        badJobFailure(
          "invalid_input",
          `run input does not match the input schema of task "${task.name}": ${parsed.error.message}`,
        ),
      );
      return;
    }
    input = parsed.data;
  }

  await runHandler(env, payload, begun, task, input, helpers, log);
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
  await recordFailure(env, payload, log, {
    error: {
      kind: "worker_lost",
      message: `the worker running attempt ${payload.attempt} stopped before recording an outcome (job delivered ${helpers.job.attempts} times)`,
      code: "RF_WORKER_LOST",
    },
    retryable: true,
    retryAt: null,
  });
  return true;
}

async function runHandler(
  env: StepTaskEnv,
  payload: StepPayload,
  begun: BeginStepStarted,
  task: RegisteredTask,
  input: unknown,
  helpers: JobHelpers,
  log: Logger,
): Promise<void> {
  const stepTx = new StepTransaction(env.pool);
  const controller = new AbortController();
  const onShutdown = () => controller.abort(new WorkerShutdownError());
  if (helpers.abortSignal.aborted) onShutdown();
  else helpers.abortSignal.addEventListener("abort", onShutdown, { once: true });
  const timer =
    begun.timeoutMs != null && begun.timeoutMs > 0
      ? setTimeout(
          () => controller.abort(new StepTimeoutError(begun.timeoutMs ?? 0)),
          begun.timeoutMs,
        )
      : undefined;

  const ctx: HandlerContext<unknown, unknown> = {
    input,
    deps: begun.deps,
    run: { id: payload.run, workflow: begun.workflow, version: begun.version },
    step: { name: payload.step, kind: begun.kind },
    attempt: begun.attempt,
    maxAttempts: begun.maxAttempts,
    runError: begun.runError ?? null,
    idempotencyKey: begun.idempotencyKey,
    signal: controller.signal,
    tx: stepTx.kysely(env.kysely, env.transactionProps),
    logger: log,
  };

  // Race the handler against its abort signal: a handler that ignores the
  // signal must not hold the attempt (invariant 4), so on abort the outcome is
  // recorded without waiting for its promise.
  type Settled =
    | { kind: "returned"; value: unknown }
    | { kind: "threw"; error: unknown }
    | { kind: "aborted"; reason: unknown };
  const started = Date.now();
  const handlerPromise: Promise<Settled> = (async () => task.handler(ctx))().then(
    (value) => ({ kind: "returned", value }),
    (error: unknown) => ({ kind: "threw", error }),
  );
  const aborted = new Promise<Settled>((resolve) => {
    const onAbort = () => resolve({ kind: "aborted", reason: controller.signal.reason });
    if (controller.signal.aborted) onAbort();
    else controller.signal.addEventListener("abort", onAbort, { once: true });
  });
  const settled = await Promise.race([handlerPromise, aborted]);
  clearTimeout(timer);
  helpers.abortSignal.removeEventListener("abort", onShutdown);

  if (settled.kind === "aborted") {
    await stepTx.kill();
    void handlerPromise.then((late) => {
      log.warn(
        `handler settled ${Date.now() - started} ms after its attempt was aborted (${late.kind}); its result was discarded`,
      );
    });
    await recordFailure(
      env,
      payload,
      log,
      classifyFailure(settled.reason, () => env.now?.() ?? new Date()),
    );
    return;
  }
  if (settled.kind === "threw") {
    await stepTx
      .rollback()
      .catch((error: unknown) =>
        log.warn("rollback after a handler error failed", { error: String(error) }),
      );
    await recordFailure(
      env,
      payload,
      log,
      classifyFailure(settled.error, () => env.now?.() ?? new Date()),
    );
    return;
  }

  const output = toJsonOutput(settled.value);
  if (!output.ok) {
    await stepTx.rollback();
    await recordFailure(
      env,
      payload,
      log,
      badJobFailure(
        "invalid_output",
        `handler of task "${task.name}" returned a value that is not JSON: ${output.problem}`,
      ),
    );
    return;
  }
  await completeInTransaction(env, payload, stepTx, output.json, log);
}

/**
 * complete_step on the handler's transaction, then COMMIT: the handler's
 * writes, the completion and the release of dependents commit together. A
 * handler that never used `ctx.tx` completes in one autocommit statement.
 */
async function completeInTransaction(
  env: StepTaskEnv,
  payload: StepPayload,
  stepTx: StepTransaction,
  outputJson: string,
  log: Logger,
): Promise<void> {
  const args = {
    runId: payload.run,
    step: payload.step,
    attempt: payload.attempt,
    outputJson,
    now: env.now?.() ?? null,
  };
  let result;
  try {
    result = stepTx.started ? await completeStep(stepTx, args) : await env.completeStep(args);
  } catch (error) {
    await stepTx.rollback().catch(() => {});
    if (isFromServerSide(error)) {
      await recordFailure(env, payload, log, {
        error: record("handler", error),
        retryable: true,
        retryAt: null,
      });
      return;
    }
    throw error; // connection lost: outcome unknown; graphile re-delivers the job
  }
  if (!result.ok) {
    // Stale or duplicate (cancelled, retried elsewhere): the writes must not count.
    await stepTx.rollback();
    log.info(`completion refused (${result.reason}); handler writes rolled back`);
    return;
  }
  await stepTx.commit();
  // The dependents' jobs exist now; fetch them at once instead of waiting for
  // graphile-worker's NOTIFY round trip (or its poll when a NOTIFY is lost).
  if (result.released.length > 0) env.nudge(result.released.length);
  log.debug("step succeeded", { released: result.released, runStatus: result.runStatus });
}

/** fail_step in its own statement; an `ok: false` answer (stale attempt) is only logged. */
async function recordFailure(
  env: StepTaskEnv,
  payload: StepPayload,
  log: Logger,
  failure: FailureRecord,
): Promise<void> {
  const workerId = env.workerId();
  const result = await failStep(env.pool, {
    runId: payload.run,
    step: payload.step,
    attempt: payload.attempt,
    error: workerId ? { ...failure.error, workerId } : failure.error,
    retryable: failure.retryable,
    retryAt: failure.retryAt,
    now: env.now?.() ?? null,
  });
  if (!result.ok) {
    log.info(`failure not recorded (${result.reason}): ${failure.error.message}`);
    return;
  }
  const line = `attempt failed (${failure.error.kind}): ${failure.error.message}; step ${result.outcome}`;
  if (result.outcome === "failed") log.error(line, { runStatus: result.runStatus });
  else log.warn(line, { retryAt: result.retryAt });
}
