/**
 * Loggers: rowflow's `Logger` interface (src/definition/logger.ts), the pino
 * default behind it, per-step children, and the adapter graphile-worker needs.
 */
import { Logger as GraphileLogger, type LogLevel } from "graphile-worker";
import { type Logger as PinoLogger, pino } from "pino";

import type { Logger } from "../definition/logger.js";

/** The default logger: pino (JSON lines on stdout) at `LOG_LEVEL` or `info`. */
export function createDefaultLogger(name = "rowflow"): Logger {
  const base = pino({ name, level: process.env.LOG_LEVEL ?? "info" });
  return fromPino(base);
}

function fromPino(base: PinoLogger): Logger {
  return {
    debug: (message, meta) => base.debug(meta ?? {}, message),
    info: (message, meta) => base.info(meta ?? {}, message),
    warn: (message, meta) => base.warn(meta ?? {}, message),
    error: (message, meta) => base.error(meta ?? {}, message),
  };
}

/** A logger that adds `bindings` to every line's metadata. */
export function childLogger(logger: Logger, bindings: Record<string, unknown>): Logger {
  const merge = (meta?: Record<string, unknown>) => (meta ? { ...bindings, ...meta } : bindings);
  return {
    debug: (message, meta) => logger.debug(message, merge(meta)),
    info: (message, meta) => logger.info(message, merge(meta)),
    warn: (message, meta) => logger.warn(message, merge(meta)),
    error: (message, meta) => logger.error(message, merge(meta)),
  };
}

/** graphile-worker's logger on top of rowflow's (its `warning` level maps to `warn`). */
export function toGraphileLogger(logger: Logger): GraphileLogger {
  return new GraphileLogger((scope) => (level: LogLevel, message: string, meta?: unknown) => {
    const fields: Record<string, unknown> = { component: "graphile-worker" };
    if (scope.workerId) fields.workerId = scope.workerId;
    if (scope.jobId) fields.jobId = scope.jobId;
    if (meta && typeof meta === "object" && "error" in meta)
      fields.error = String((meta as { error: unknown }).error);
    switch (String(level)) {
      case "error":
        return logger.error(message, fields);
      case "warning":
        return logger.warn(message, fields);
      case "info":
        return logger.info(message, fields);
      default:
        return logger.debug(message, fields);
    }
  });
}

/** A logger that drops everything (tests, embedding). */
export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
};
