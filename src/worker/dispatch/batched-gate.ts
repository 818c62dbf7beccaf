/**
 * The gate as the worker uses it: begin and complete calls that many handler
 * slots make at once go out batched (call-batcher.ts: one statement, one
 * round trip and one commit per batch); failures, claims and reads go out one
 * by one (as do the arms of waiting steps); `inTransaction(tx)` is the gate on a handler's transaction, for a
 * completion that must commit together with the handler's writes.
 */
import type { BeginStepCall } from "../../db/gate/begin-steps.js";
import type {
  CompleteOptions,
  CompleteStepCall,
  CompleteStepResult,
} from "../../db/gate/complete-steps.js";
import { type Gate, gateOn } from "../../db/gate/gate.js";
import type { BeginStepResult } from "../../db/gate/step-context.js";
import { onlyRow, type Queryable } from "../../db/queryable.js";
import { byRunThenStep, CallBatcher } from "./call-batcher.js";

export interface BatchedGate extends Pick<
  Gate,
  "beginSteps" | "failStep" | "claimRuns" | "failLostAttempt" | "armStep" | "settleChild"
> {
  /** `rowflow.begin_steps` for one graphile-fetched attempt, batched with other slots' calls. */
  beginStep(call: BeginStepCall): Promise<BeginStepResult>;
  /** `rowflow.complete_steps` for one attempt whose handler wrote nothing, batched likewise (autocommit). */
  completeStep(call: CompleteStepCall): Promise<CompleteStepResult>;
  /** `rowflow.complete_steps` for one attempt inside `tx` (the handler's transaction). */
  completeIn(tx: Queryable, call: CompleteStepCall): Promise<CompleteStepResult>;
}

/**
 * The batched gate on `db` (the worker's pool). `completeOptions` is read
 * when a completion goes out: whether it may claim runs or reserve steps
 * depends on the worker's state at that moment.
 */
export function batchedGate(db: Queryable, completeOptions: () => CompleteOptions): BatchedGate {
  const gate = gateOn(db);
  const one = <R>(rows: R[]) => onlyRow(rows, "rowflow gate call");
  const begins = new CallBatcher<BeginStepCall, BeginStepResult>({
    runOne: async (call) => one(await gate.beginSteps([call])),
    runBatch: (calls) => gate.beginSteps(calls),
    compare: byRunThenStep,
  });
  const completions = new CallBatcher<CompleteStepCall, CompleteStepResult>({
    runOne: async (call) => one(await gate.completeSteps([call], completeOptions())),
    runBatch: (calls) => gate.completeSteps(calls, completeOptions()),
    compare: byRunThenStep,
  });
  return {
    beginSteps: gate.beginSteps,
    failStep: gate.failStep,
    claimRuns: gate.claimRuns,
    failLostAttempt: gate.failLostAttempt,
    armStep: gate.armStep,
    settleChild: gate.settleChild,
    beginStep: (call) => begins.call(call),
    completeStep: (call) => completions.call(call),
    completeIn: async (tx, call) => one(await gateOn(tx).completeSteps([call], completeOptions())),
  };
}
