/**
 * What follows a handler's attempt: its outcome recorded, and the steps the
 * completion handed to this worker, each with the slot it runs in.
 * run-handler.ts calls these.
 */
import type { CompleteStepCall, CompleteStepResult } from "../../db/gate/complete-steps.js";
import type { Logger } from "../../definition/logger.js";
import { isFromServerSide } from "../dispatch/call-batcher.js";
import { leaseKey } from "../dispatch/leases.js";
import type { Slot } from "../dispatch/slots.js";
import type { WorkerState } from "../worker-state.js";
import { type Attempt, type Lease, leasedAttempt } from "./attempt.js";
import { type FailureRecord, record } from "./step-errors.js";
import type { StepTransaction } from "./step-transaction.js";

/**
 * complete_step on the handler's transaction, then COMMIT: the handler's
 * writes, the completion and the release of dependents commit together. A
 * handler that never used `ctx.tx` completes in a batched autocommit
 * statement. The call brings this slot (and idle ones it reserves) for what
 * runs next: released dependents first (depth first), then the oldest
 * reserved step of the local queue (`next`; put back when a dependent took
 * the slot), then root steps of queued runs it claims.
 */
export async function completeAttempt(
  state: WorkerState,
  slot: Slot,
  attempt: Attempt,
  stepTx: StepTransaction,
  outputJson: string,
  logger: () => Logger,
): Promise<Lease[]> {
  const { context } = attempt;
  const stopping = state.isStopping;
  const [next] = stopping ? [] : state.leases.take(1);
  const extra = stopping ? [] : state.slots.tryAcquire(state.maxExtraTakes);
  const slots = stopping ? [] : [slot, ...extra];
  if (next) state.leases.run(leaseKey(next));
  const args: CompleteStepCall = {
    runId: context.runId,
    step: context.step,
    attempt: context.attempt,
    outputJson,
    lease: context.lease,
    take: slots.length,
    next: next ?? null,
    now: state.now(),
  };
  const releaseFrom = (from: number) => {
    for (const s of slots.slice(Math.max(from, 1))) s.release();
  };
  const forgetNext = () => {
    if (next) state.leases.done(leaseKey(next));
  };
  let result: CompleteStepResult;
  try {
    result = stepTx.started
      ? await state.db.gate.completeIn(stepTx, args)
      : await state.db.gate.completeStep(args);
  } catch (error) {
    releaseFrom(1);
    forgetNext();
    await stepTx.rollback().catch(() => {});
    if (isFromServerSide(error)) {
      // Nothing of the call happened: the reserved step is still this worker's.
      if (next) state.leases.putBack([next]);
      await recordFailure(state, attempt, logger(), {
        error: record("handler", error),
        retryable: true,
        retryAt: null,
      });
      return [];
    }
    if (attempt.leased) {
      // Outcome unknown: the heartbeat's reconciliation ends the leases this
      // worker no longer uses (this step's, and any the lost answer handed over).
      logger().warn(
        `completion outcome unknown (${String(error)}); its leases are reconciled with the heartbeat`,
      );
      return [];
    }
    throw error; // graphile re-delivers the job
  }
  if (!result.ok) {
    // Stale or duplicate (cancelled, retried elsewhere), not this worker's,
    // or an output over the limit: the writes must not count.
    await stepTx.rollback();
    if (result.reason === "output_too_large") {
      // Retrying would produce it again: the step fails (non-retryable), naming the sizes.
      await recordFailure(state, attempt, logger(), {
        error: {
          kind: "output_too_large",
          code: "RF026",
          message: `step "${context.step}" returned ${result.bytes ?? "?"} bytes of JSON; the limit is ${result.limit ?? "?"} bytes (rowflow.max_output_bytes): store large data in a table and return its key`,
        },
        retryable: false,
        retryAt: null,
      });
    } else {
      attempt.span?.refused(result.reason, refusedRunStatus(result));
      attempt.outcome = "refused";
      logger().info(`completion refused (${result.reason}); handler writes rolled back`);
    }
    if (stepTx.started) {
      // The rolled-back transaction also undid what the call took or reserved.
      releaseFrom(1);
      forgetNext();
      if (next) state.leases.putBack([next]);
      return [];
    }
  } else {
    try {
      await stepTx.commit();
      attempt.outcome = "succeeded";
    } catch (error) {
      releaseFrom(1);
      forgetNext();
      if (attempt.leased) {
        logger().warn(
          `commit outcome unknown (${String(error)}); its leases are reconciled with the heartbeat`,
        );
        return [];
      }
      throw error;
    }
  }
  const taken = result.taken ?? [];
  if (next && !taken.some((t) => t.runId === next.runId && t.step === next.step)) {
    // The slot took a dependent instead: the reserved step waits on, at the
    // head of the local queue (a refused begin is the cancel's business).
    forgetNext();
    if (result.ok || !stepTx.started) state.leases.putBack([next]);
  }
  if (result.reserved && result.reserved.length > 0) state.leases.reserve(result.reserved);
  if (result.claimedRuns !== undefined) state.claimed(Math.max(0, slots.length - taken.length));
  releaseFrom(Math.max(1, taken.length));
  if (result.ok) {
    attempt.span?.succeeded(result.runStatus);
    // Dependents queued as jobs exist now: fetch them at once instead of
    // waiting for graphile-worker's NOTIFY round trip (or its poll).
    const takenDeps = taken.filter(
      (t) => t.runId === context.runId && result.released.includes(t.step),
    ).length;
    const queued = result.released.length - takenDeps - (result.reserved?.length ?? 0);
    if (queued > 0) state.nudge(queued);
    state.logger.debug("step succeeded", {
      run: context.runId,
      step: context.step,
      attempt: context.attempt,
      released: result.released,
      runStatus: result.runStatus,
    });
  }
  return taken.map((t, i) => ({ slot: slots[i] as Slot, attempt: leasedAttempt(state, t) }));
}

/** fail_step in its own statement; an `ok: false` answer (stale attempt) is only logged. */
export async function recordFailure(
  state: WorkerState,
  attempt: Attempt,
  log: Logger,
  failure: FailureRecord,
): Promise<void> {
  const { context } = attempt;
  const workerId = state.id;
  const result = await state.db.gate.failStep({
    runId: context.runId,
    step: context.step,
    attempt: context.attempt,
    error: workerId ? { ...failure.error, workerId } : failure.error,
    retryable: failure.retryable,
    retryAt: failure.retryAt,
    now: state.now(),
    lease: context.lease,
  });
  if (!result.ok) {
    attempt.span?.refused(result.reason, refusedRunStatus(result), failure.error);
    attempt.outcome = "refused";
    log.info(`failure not recorded (${result.reason}): ${failure.error.message}`);
    return;
  }
  attempt.span?.failed(failure.error, result.outcome, result.runStatus);
  attempt.outcome = result.outcome;
  const line = `attempt failed (${failure.error.kind}): ${failure.error.message}; step ${result.outcome}`;
  if (result.outcome === "failed") log.error(line, { runStatus: result.runStatus });
  else log.warn(line, { retryAt: result.retryAt });
}

/** The run's status a refusal names (step_terminal, run_not_active), if any. */
function refusedRunStatus(result: { reason: string }): string | undefined {
  const runStatus = (result as { runStatus?: unknown }).runStatus;
  return typeof runStatus === "string" ? runStatus : undefined;
}
