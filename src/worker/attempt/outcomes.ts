/**
 * Special outcomes a handler can signal by throwing (River's JobCancel and
 * JobSnooze). Any other throw is a retryable failure under the step's policy.
 *
 * ```ts
 * if (!card) fatal("no card on file");             // fails the step, no retry
 * if (rateLimited) retryAfter("30 seconds", "429"); // next attempt in 30 s
 * ```
 */
import { type Interval, intervalToMs } from "../../definition/interval.js";
import { RowflowError } from "../../errors.js";

/** Codes of the outcome errors. */
export const OutcomeCodes = { fatal: "RF_FATAL", retryAfter: "RF_RETRY_AFTER" } as const;

/** Thrown by `fatal()`: the attempt fails and the step is not retried. */
export class FatalError extends RowflowError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { code: OutcomeCodes.fatal, ...options });
  }
}

/** Thrown by `retryAfter()`: the attempt fails and the next one starts after `delayMs`. */
export class RetryAfterError extends RowflowError {
  /** Delay before the next attempt, in milliseconds. */
  readonly delayMs: number;

  constructor(delayMs: number, message: string) {
    super(message, { code: OutcomeCodes.retryAfter });
    this.delayMs = delayMs;
  }
}

/**
 * Fails the attempt without retry: the step fails (and with it the run, which
 * then compensates). Throws; never returns. Pass a message or the error that
 * made the step hopeless (kept as `cause`, its message is used).
 */
export function fatal(reason: string | Error): never {
  if (typeof reason === "string") throw new FatalError(reason);
  throw new FatalError(reason.message, { cause: reason });
}

/**
 * Fails the attempt and asks for the next one after `delay` (milliseconds or
 * an interval string such as `"30 seconds"`) instead of the step's backoff.
 * It counts as an attempt: when none is left, the step fails. Throws; never returns.
 */
export function retryAfter(
  delay: number | Interval,
  reason = "retry requested by the handler",
): never {
  const delayMs = typeof delay === "number" ? delay : intervalToMs(delay);
  if (!Number.isFinite(delayMs) || delayMs < 0) {
    throw new RangeError(
      `retryAfter: delay must be a non-negative number of milliseconds or an interval, got ${String(delay)}`,
    );
  }
  throw new RetryAfterError(delayMs, reason);
}
