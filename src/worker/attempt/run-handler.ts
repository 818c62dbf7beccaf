/**
 * Runs a step's handler: builds its context (`ctx`), races the handler
 * against its abort (the step's timeout, the worker's shutdown), and records
 * the outcome (record-outcome.ts). A handler that ignores its signal cannot
 * hold the attempt (invariant 4, docs/architecture.md): on abort the outcome
 * is recorded without waiting for its promise, and its transaction is killed.
 */
import type { HandlerContext } from "../../definition/handler-context.js";
import type { Logger } from "../../definition/logger.js";
import type { Slot } from "../dispatch/slots.js";
import type { RegisteredTask } from "../task-registry.js";
import type { WorkerState } from "../worker-state.js";
import type { Attempt, Lease } from "./attempt.js";
import { setLongTimeout } from "./long-timeout.js";
import { completeAttempt, recordFailure } from "./record-outcome.js";
import {
  badJobFailure,
  classifyFailure,
  StepTimeoutError,
  WorkerShutdownError,
} from "./step-errors.js";
import { StepTransaction } from "./step-transaction.js";
import { toJsonOutput } from "./to-json-output.js";

type Settled =
  | { kind: "returned"; value: unknown }
  | { kind: "threw"; error: unknown }
  | { kind: "aborted"; reason: unknown };

export async function runHandler(
  state: WorkerState,
  slot: Slot,
  attempt: Attempt,
  task: RegisteredTask,
  input: unknown,
  logger: () => Logger,
): Promise<Lease[]> {
  const { context } = attempt;
  const stepTx = new StepTransaction(state.db.pool);
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
  const unwatch = state.watchShutdown(onShutdown);
  attempt.jobSignal?.addEventListener("abort", onShutdown, { once: true });
  if (attempt.jobSignal?.aborted) onShutdown();
  const cancelTimer =
    context.timeoutMs != null && context.timeoutMs > 0
      ? setLongTimeout(() => abort(new StepTimeoutError(context.timeoutMs ?? 0)), context.timeoutMs)
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
      tx ??= stepTx.kysely(state.db.kysely, state.db.transactionProps);
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
    // Inside the attempt's span: the handler's own spans nest under it.
    const span = attempt.span;
    const value: unknown = aborted
      ? undefined
      : span
        ? span.inside(() => task.handler(ctx))
        : task.handler(ctx);
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
  cancelTimer?.();
  unwatch();
  attempt.jobSignal?.removeEventListener("abort", onShutdown);
  const now = () => state.now() ?? new Date();

  if (settled.kind === "aborted") {
    await stepTx.kill();
    void handlerPromise?.then((late) => {
      logger().warn(
        `handler settled ${Date.now() - started} ms after its attempt was aborted (${late.kind}); its result was discarded`,
      );
    });
    await recordFailure(state, attempt, logger(), classifyFailure(settled.reason, now));
    return [];
  }
  if (settled.kind === "threw") {
    await stepTx
      .rollback()
      .catch((error: unknown) =>
        logger().warn("rollback after a handler error failed", { error: String(error) }),
      );
    await recordFailure(state, attempt, logger(), classifyFailure(settled.error, now));
    return [];
  }

  const output = toJsonOutput(settled.value);
  if (!output.ok) {
    await stepTx.rollback();
    await recordFailure(
      state,
      attempt,
      logger(),
      badJobFailure(
        "invalid_output",
        `handler of task "${task.name}" returned a value that is not JSON: ${output.problem}`,
      ),
    );
    return [];
  }
  return completeAttempt(state, slot, attempt, stepTx, output.json, logger);
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === "object" || typeof value === "function") &&
    typeof (value as { then?: unknown }).then === "function"
  );
}
