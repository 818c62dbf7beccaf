// What the gate functions hand a worker for each attempt it runs: the
// handler context (sql/schema/60_gate/_context.sql builds it), or why not.

/**
 * A step attempt's handler context, as `rowflow.begin_steps` answers it and as
 * `rowflow.claim_runs` / `rowflow.complete_steps` hand out the steps they give
 * a worker directly (docs/sql-api.md).
 */
export interface BeginStepStarted {
  ok: true;
  /** Run id (bigint as a decimal string). */
  runId: string;
  step: string;
  task: string;
  workflow: string;
  version: number;
  input: Record<string, unknown>;
  deps: Record<string, unknown>;
  attempt: number;
  maxAttempts: number;
  timeoutMs: number | null;
  idempotencyKey: string;
  kind: "step" | "compensation" | "on_failure";
  /** The run's error once it failed (compensation and on-failure step runs), else null. */
  runError: Record<string, unknown> | null;
  /** The step's priority (step + run priority), for steps handed to the worker directly. */
  priority?: number;
  /**
   * The attempt's lease token: complete_steps and fail_step change nothing
   * without it (docs/security.md). Only the worker the attempt was handed to has it.
   */
  lease: string;
  /** The run's W3C trace context (docs/observability.md, "Traces"), or null. */
  traceparent?: string | null;
  tracestate?: string | null;
  /** When the run was created (ISO timestamp): the start of its span. */
  runCreatedAt?: string | null;
}

/** Why `rowflow.begin_step` refused the attempt (stale or duplicate job). */
export interface BeginStepRefused {
  ok: false;
  reason:
    | "step_terminal"
    | "attempt_mismatch"
    | "run_not_active"
    | "unknown_step"
    | "not_lease_holder"
    | (string & {});
}

export type BeginStepResult = BeginStepStarted | BeginStepRefused;
