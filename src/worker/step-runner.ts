/**
 * Runs one attempt of one step run in a handler slot, records its outcome
 * (complete_step / fail_step: step-outcome.ts) and returns the steps to run next, each with
 * the slot it runs in (the finished step's slot first: it passes on without
 * going back to the pool).
 *
 * An attempt reaches this worker in one of three ways:
 * - graphile-worker fetched its job (execute-step.ts), and completes the job
 *   after the task function returns;
 * - a claim or a completion handed it over (`taken`): it runs under this
 *   worker's lease on its step run, with no job;
 * - a completion reserved it for this worker's local queue (`reserved`), and
 *   a later completion begins it in its slot (`next`), or the dispatcher does
 *   for an idle slot.
 * Leased steps are tracked in `env.leases`, so that the heartbeat's
 * reconciliation hands back only leases this worker is not using.
 */
import type { Kysely } from "kysely";
import type pg from "pg";

import type { BeginStepResult, BeginStepStarted } from "../db/begin-step.js";
import type { CompleteOptions, CompleteStepCall, CompleteStepResult } from "../db/complete-step.js";
import type { Database } from "../db/types.js";
import type { HandlerContext } from "../definition/handler-context.js";
import type { Logger } from "../definition/logger.js";
import { leaseKey, type Leases } from "./leases.js";
import { childLogger } from "./logger.js";
import type { Slot, SlotPool } from "./slots.js";
import {
  badJobFailure,
  classifyFailure,
  StepTimeoutError,
  WorkerShutdownError,
} from "./step-errors.js";
import { completeInTransaction, recordFailure } from "./step-outcome.js";
import { StepTransaction, type TransactionProps } from "./step-transaction.js";
import type { RegisteredTask } from "./task-registry.js";
import { toJsonOutput } from "./to-json-output.js";

/** What running steps needs from its worker. */
export interface StepTaskEnv {
  readonly pool: pg.Pool;
  readonly kysely: Kysely<Database>;
  readonly transactionProps: TransactionProps;
  readonly tasks: ReadonlyMap<string, RegisteredTask>;
  readonly logger: Logger;
  /** The graphile-worker pool id, once known (holder of this worker's jobs and leases). */
  readonly workerId: () => string | undefined;
  /** Clock passed to the SQL functions; undefined: the database's `now()`. */
  readonly now: (() => Date) | undefined;
  /** Wakes `n` idle graphile loops of this worker (jobs it just queued), without waiting for a NOTIFY. */
  readonly nudge: (n: number) => void;
  /** The handler slots. */
  readonly slots: SlotPool;
  /** The steps held under this worker's lease, and its local queue. */
  readonly leases: Leases;
  /** `rowflow.begin_step` for graphile-fetched jobs (batched with other slots' calls: call-batcher.ts). */
  readonly beginStep: (args: BeginStepCallArgs) => Promise<BeginStepResult>;
  /** `rowflow.complete_step` in its own transaction, for handlers that wrote nothing (batched likewise). */
  readonly completeStep: (args: CompleteStepCall) => Promise<CompleteStepResult>;
  /** The batch-wide completion options now (worker id, claim, reserve): for a completion in a handler's transaction. */
  readonly completeOptions: () => CompleteOptions;
  /** A completion asked to claim runs for leftover slots, and `left` slots stayed unused. */
  readonly claimed: (left: number) => void;
  /** True once the worker stops: no more steps are taken over. */
  readonly stopping: () => boolean;
  /** Calls `abort` when the shutdown grace period ends (at once if it has); returns an unsubscribe function. */
  readonly watchShutdown: (abort: () => void) => () => void;
  /** Keeps a detached chain of attempts alive until the worker has stopped. */
  readonly track: (work: Promise<void>) => void;
  /** Extra idle slots a completion may claim for more released dependents (besides its own). */
  readonly maxExtraTakes: number;
}

export interface BeginStepCallArgs {
  runId: string;
  step: string;
  attempt: number;
  workerId: string | null;
  now: Date | null;
}

/** One attempt to run. */
export interface Attempt {
  context: BeginStepStarted;
  /** Held under this worker's lease (handed over or reserved), not through a graphile job. */
  leased: boolean;
  /** graphile-worker's abort signal of the job, for fetched jobs. */
  jobSignal?: AbortSignal;
}

/** A slot and the attempt it runs. */
export interface Lease {
  slot: Slot;
  attempt: Attempt;
}

/**
 * Runs leases until nothing is left, each in its own detached chain: an
 * attempt, then whatever its completion handed over in the same slot.
 */
export function runLeases(env: StepTaskEnv, leases: readonly Lease[]): void {
  for (const lease of leases) env.track(runChain(env, lease));
}

async function runChain(env: StepTaskEnv, first: Lease): Promise<void> {
  let lease: Lease | undefined = first;
  while (lease) {
    let next: Lease[] = [];
    try {
      next = await runAttempt(env, lease.slot, lease.attempt);
    } catch (error) {
      env.logger.error(
        `step ${lease.attempt.context.step} of run ${lease.attempt.context.runId}: ${String(error)}`,
      );
    }
    if (next.length === 0) {
      lease.slot.release();
      return;
    }
    runLeases(env, next.slice(1));
    lease = next[0];
  }
}

/**
 * Runs `attempt` in `slot` and records its outcome. Returns the steps to run
 * next (the first one in `slot`); when it returns none, the caller releases
 * `slot`. Throws only when the outcome of a graphile-fetched attempt could not
 * be recorded (lost connection): graphile re-delivers it.
 */
export async function runAttempt(env: StepTaskEnv, slot: Slot, attempt: Attempt): Promise<Lease[]> {
  const { context } = attempt;
  let log: Logger | undefined;
  const logger = () =>
    (log ??= childLogger(env.logger, {
      run: context.runId,
      step: context.step,
      attempt: context.attempt,
    }));
  try {
    const task = env.tasks.get(context.task);
    if (!task) {
      const known = [...env.tasks.keys()].sort().join(", ") || "none";
      await recordFailure(
        env,
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
          env,
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
    return await runHandler(env, slot, attempt, task, input, logger);
  } finally {
    if (attempt.leased) env.leases.done(leaseKey(context));
  }
}

type Settled =
  | { kind: "returned"; value: unknown }
  | { kind: "threw"; error: unknown }
  | { kind: "aborted"; reason: unknown };

async function runHandler(
  env: StepTaskEnv,
  slot: Slot,
  attempt: Attempt,
  task: RegisteredTask,
  input: unknown,
  logger: () => Logger,
): Promise<Lease[]> {
  const { context } = attempt;
  const stepTx = new StepTransaction(env.pool);
  // Abort (timeout, shutdown) without an AbortController per attempt: most
  // handlers never read ctx.signal, and one costs an EventTarget and listeners.
  let abortReason: unknown;
  let aborted = false;
  let controller: AbortController | undefined;
  let onAborted: ((settled: Settled) => void) | undefined;
  const abort = (reason: unknown) => {
    if (aborted) return;
    aborted = true;
    abortReason = reason;
    controller?.abort(reason);
    onAborted?.({ kind: "aborted", reason });
  };
  const onShutdown = () => abort(new WorkerShutdownError());
  const unwatch = env.watchShutdown(onShutdown);
  attempt.jobSignal?.addEventListener("abort", onShutdown, { once: true });
  if (attempt.jobSignal?.aborted) onShutdown();
  const timer =
    context.timeoutMs != null && context.timeoutMs > 0
      ? setTimeout(() => abort(new StepTimeoutError(context.timeoutMs ?? 0)), context.timeoutMs)
      : undefined;

  let tx: HandlerContext["tx"] | undefined;
  const ctx: HandlerContext<unknown, unknown> = {
    input,
    deps: context.deps,
    run: { id: context.runId, workflow: context.workflow, version: context.version },
    step: { name: context.step, kind: context.kind },
    attempt: context.attempt,
    maxAttempts: context.maxAttempts,
    runError: context.runError ?? null,
    idempotencyKey: context.idempotencyKey,
    // Built on first use: most handlers never touch them.
    get signal() {
      if (!controller) {
        controller = new AbortController();
        if (aborted) controller.abort(abortReason);
      }
      return controller.signal;
    },
    get tx() {
      tx ??= stepTx.kysely(env.kysely, env.transactionProps);
      return tx;
    },
    get logger() {
      return logger();
    },
  };

  // Race the handler against its abort: a handler that ignores the signal
  // must not hold the attempt (invariant 4), so on abort the outcome is
  // recorded without waiting for its promise.
  const started = Date.now();
  let settled: Settled;
  let handlerPromise: Promise<Settled> | undefined;
  try {
    const value: unknown = aborted ? undefined : task.handler(ctx);
    if (aborted) {
      settled = { kind: "aborted", reason: abortReason };
    } else if (isThenable(value)) {
      handlerPromise = Promise.resolve(value).then(
        (v): Settled => ({ kind: "returned", value: v }),
        (error: unknown): Settled => ({ kind: "threw", error }),
      );
      const abortPromise = new Promise<Settled>((resolve) => {
        if (aborted) resolve({ kind: "aborted", reason: abortReason });
        else onAborted = resolve;
      });
      settled = await Promise.race([handlerPromise, abortPromise]);
    } else {
      settled = { kind: "returned", value };
    }
  } catch (error) {
    settled = { kind: "threw", error };
  }
  clearTimeout(timer);
  unwatch();
  attempt.jobSignal?.removeEventListener("abort", onShutdown);
  const now = () => env.now?.() ?? new Date();

  if (settled.kind === "aborted") {
    await stepTx.kill();
    void handlerPromise?.then((late) => {
      logger().warn(
        `handler settled ${Date.now() - started} ms after its attempt was aborted (${late.kind}); its result was discarded`,
      );
    });
    await recordFailure(env, attempt, logger(), classifyFailure(settled.reason, now));
    return [];
  }
  if (settled.kind === "threw") {
    await stepTx
      .rollback()
      .catch((error: unknown) =>
        logger().warn("rollback after a handler error failed", { error: String(error) }),
      );
    await recordFailure(env, attempt, logger(), classifyFailure(settled.error, now));
    return [];
  }

  const output = toJsonOutput(settled.value);
  if (!output.ok) {
    await stepTx.rollback();
    await recordFailure(
      env,
      attempt,
      logger(),
      badJobFailure(
        "invalid_output",
        `handler of task "${task.name}" returned a value that is not JSON: ${output.problem}`,
      ),
    );
    return [];
  }
  return completeInTransaction(env, slot, attempt, stepTx, output.json, logger);
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === "object" || typeof value === "function") &&
    typeof (value as { then?: unknown }).then === "function"
  );
}
