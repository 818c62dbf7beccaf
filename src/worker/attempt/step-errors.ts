/**
 * How an attempt's failure is classified and recorded: the error record
 * stored on the step run, whether the step may retry, and when.
 */
import type { StepErrorRecord } from "../../db/gate/fail-step.js";
import { RowflowError } from "../../errors.js";
import { FatalError, OutcomeCodes, RetryAfterError } from "./outcomes.js";

/** Code of the error of an attempt that exceeded the step's timeout. */
export const timeoutCode = "RF_TIMEOUT";
/** Code of the error of an attempt aborted by a worker shutdown. */
export const shutdownCode = "RF_SHUTDOWN";

/** The attempt ran longer than the step's `timeout`. */
export class StepTimeoutError extends RowflowError {
  readonly timeoutMs: number;
  constructor(timeoutMs: number) {
    super(`step timed out after ${timeoutMs} ms`, { code: timeoutCode });
    this.timeoutMs = timeoutMs;
  }
}

/** The worker shut down and its grace period ended before the handler finished. */
export class WorkerShutdownError extends RowflowError {
  constructor() {
    super("the worker shut down before the handler finished (grace period over)", {
      code: shutdownCode,
    });
  }
}

/** A failure ready for `rowflow.fail_step`. */
export interface FailureRecord {
  error: StepErrorRecord;
  retryable: boolean;
  /** Null: the step's backoff policy picks the time. */
  retryAt: Date | null;
}

/** Classifies what a handler threw (or what aborted it). */
export function classifyFailure(thrown: unknown, now: () => Date): FailureRecord {
  if (thrown instanceof StepTimeoutError) {
    return { error: record("timeout", thrown), retryable: true, retryAt: null };
  }
  if (thrown instanceof WorkerShutdownError) {
    // Not the handler's fault: the next attempt may start at once on another worker.
    return { error: record("shutdown", thrown), retryable: true, retryAt: now() };
  }
  // By code, not only instanceof: a config loaded through tsx may hold its own
  // copy of this module, whose classes are different objects.
  const code = (thrown as { code?: unknown } | null)?.code;
  if (thrown instanceof FatalError || code === OutcomeCodes.fatal) {
    return { error: record("fatal", thrown), retryable: false, retryAt: null };
  }
  const delayMs = (thrown as { delayMs?: unknown } | null)?.delayMs;
  if (
    thrown instanceof RetryAfterError ||
    (code === OutcomeCodes.retryAfter && typeof delayMs === "number")
  ) {
    return {
      error: record("retry_after", thrown),
      retryable: true,
      retryAt: new Date(now().getTime() + Number(delayMs)),
    };
  }
  if (isConnectionLoss(thrown)) {
    // Not the handler's failure either: it is counted as a lost attempt
    // (step_runs.lost_attempts), which does not use up the step's attempts.
    return { error: record("worker_lost", thrown), retryable: true, retryAt: now() };
  }
  return { error: record("handler", thrown), retryable: true, retryAt: null };
}

/**
 * Whether a handler's error is its database connection going away (a server
 * restart, a terminated backend): SQLSTATE classes 08 and 57P from the
 * server, or node-postgres's own "connection terminated" errors. Only pg's
 * errors: an ECONNRESET from some HTTP API is the handler's failure.
 */
export function isConnectionLoss(thrown: unknown): boolean {
  if (!(thrown instanceof Error)) return false;
  const { code, severity } = thrown as { code?: unknown; severity?: unknown };
  if (typeof severity === "string" && typeof code === "string") {
    return code.startsWith("08") || code.startsWith("57P");
  }
  return /^(Connection terminated( unexpectedly)?|Client has encountered a connection error and is not queryable)$/.test(
    thrown.message,
  );
}

/** A non-retryable failure found by the worker itself (unknown task, bad input or output). */
export function badJobFailure(
  kind: "unknown_task" | "invalid_input" | "invalid_output",
  message: string,
): FailureRecord {
  return {
    error: { kind, message, code: `RF_${kind.toUpperCase()}` },
    retryable: false,
    retryAt: null,
  };
}

/** The error record of anything thrown: message, name, stack and a string `code` when present. */
export function record(kind: StepErrorRecord["kind"], thrown: unknown): StepErrorRecord {
  if (thrown instanceof Error) {
    const code = (thrown as { code?: unknown }).code;
    return {
      kind,
      message: thrown.message,
      name: thrown.name,
      ...(typeof code === "string" || typeof code === "number" ? { code: String(code) } : {}),
      ...(thrown.stack ? { stack: thrown.stack.slice(0, 8_000) } : {}),
    };
  }
  let message: string;
  try {
    message = typeof thrown === "string" ? thrown : `non-Error thrown: ${JSON.stringify(thrown)}`;
  } catch {
    message = `non-Error thrown: ${String(thrown)}`;
  }
  return { kind, message };
}
