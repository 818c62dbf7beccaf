/**
 * Everything a worker asks of the gate functions (sql/schema/60_gate/), as
 * one small interface: the worker depends on it, not on SQL, so a test can
 * see (or replace) exactly what the runtime asks of Postgres. `gateOn(db)`
 * runs each call on a pool (autocommit) or inside a transaction (a handler's:
 * its writes and its completion commit together).
 */
import type { Queryable } from "../queryable.js";
import { type BeginStepCall, beginSteps } from "./begin-steps.js";
import { claimRuns, type ClaimRunsCall, type ClaimRunsResult } from "./claim-runs.js";
import {
  type CompleteOptions,
  type CompleteStepCall,
  type CompleteStepResult,
  completeSteps,
} from "./complete-steps.js";
import { failStep, type FailStepCall, type FailStepResult } from "./fail-step.js";
import { getStepState, type StepState } from "./get-step-state.js";
import type { BeginStepResult } from "./step-context.js";

export interface Gate {
  /** `rowflow.begin_steps`: queued attempts become running; a context or a refusal per call, in order. */
  beginSteps(
    calls: readonly BeginStepCall[],
    options?: { reserved?: boolean },
  ): Promise<BeginStepResult[]>;
  /** `rowflow.complete_steps`: running attempts succeed and release their dependents; an answer per call, in order. */
  completeSteps(
    calls: readonly CompleteStepCall[],
    options?: CompleteOptions,
  ): Promise<CompleteStepResult[]>;
  /** `rowflow.fail_step`: the attempt failed; retry or fail the step. */
  failStep(call: FailStepCall): Promise<FailStepResult>;
  /** `rowflow.claim_runs`: queued runs start; some root steps are handed over. */
  claimRuns(call: ClaimRunsCall): Promise<ClaimRunsResult>;
  /** A step run's status and attempt (is a re-delivered job's attempt lost?). */
  getStepState(call: { runId: string; step: string }): Promise<StepState | undefined>;
}

/** The gate on `db`: a pool, a client, or a transaction. */
export function gateOn(db: Queryable): Gate {
  return {
    beginSteps: (calls, options) => beginSteps(db, calls, options),
    completeSteps: (calls, options) => completeSteps(db, calls, options),
    failStep: (call) => failStep(db, call),
    claimRuns: (call) => claimRuns(db, call),
    getStepState: (call) => getStepState(db, call),
  };
}
