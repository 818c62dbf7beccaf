/**
 * Everything a worker asks of the gate functions (sql/schema/60_gate/), as
 * one small interface: the worker depends on it, not on SQL, so a test can
 * see (or replace) exactly what the runtime asks of Postgres. `gateOn(db)`
 * runs each call on a pool (autocommit) or inside a transaction (a handler's:
 * its writes and its completion commit together).
 */
import type { Queryable } from "../queryable.js";
import { armStep, type ArmStepCall, type ArmStepResult } from "./arm-step.js";
import { type BeginOptions, type BeginStepCall, beginSteps } from "./begin-steps.js";
import { claimRuns, type ClaimRunsCall, type ClaimRunsResult } from "./claim-runs.js";
import {
  type CompleteOptions,
  type CompleteStepCall,
  type CompleteStepResult,
  completeSteps,
} from "./complete-steps.js";
import {
  failLostAttempt,
  type FailLostAttemptCall,
  failStep,
  type FailStepCall,
  type FailStepResult,
} from "./fail-step.js";
import { settleChild, type SettleChildCall, type SettleChildResult } from "./settle-child.js";
import type { BeginStepResult } from "./step-context.js";

export interface Gate {
  /** `rowflow.begin_steps`: queued attempts become running; a context or a refusal per call, in order. */
  beginSteps(calls: readonly BeginStepCall[], options?: BeginOptions): Promise<BeginStepResult[]>;
  /** `rowflow.complete_steps`: running attempts succeed and release their dependents; an answer per call, in order. */
  completeSteps(
    calls: readonly CompleteStepCall[],
    options?: CompleteOptions,
  ): Promise<CompleteStepResult[]>;
  /** `rowflow.fail_step`: the attempt failed; retry or fail the step. */
  failStep(call: FailStepCall): Promise<FailStepResult>;
  /** `rowflow.claim_runs`: queued runs start; some root steps are handed over. */
  claimRuns(call: ClaimRunsCall): Promise<ClaimRunsResult>;
  /** `rowflow.fail_lost_attempt`: a re-delivered job's running attempt was lost with its worker. */
  failLostAttempt(call: FailLostAttemptCall): Promise<FailStepResult>;
  /** `rowflow.arm_step`: a `rowflow:wait` job sleeps, starts or ends a step's wait. */
  armStep(call: ArmStepCall): Promise<ArmStepResult>;
  /** `rowflow.settle_child`: a `rowflow:child` job gives a child step its ended child's outcome. */
  settleChild(call: SettleChildCall): Promise<SettleChildResult>;
}

/** The gate on `db`: a pool, a client, or a transaction. */
export function gateOn(db: Queryable): Gate {
  return {
    beginSteps: (calls, options) => beginSteps(db, calls, options),
    completeSteps: (calls, options) => completeSteps(db, calls, options),
    failStep: (call) => failStep(db, call),
    claimRuns: (call) => claimRuns(db, call),
    failLostAttempt: (call) => failLostAttempt(db, call),
    armStep: (call) => armStep(db, call),
    settleChild: (call) => settleChild(db, call),
  };
}
