/**
 * The loggers behind rowflow's `Logger` interface (src/definition/logger.ts):
 * the pino default, children that add fields to every line, and a silent one.
 * Shared by the worker, the client and the CLI.
 */
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

/** A logger that drops everything (tests, embedding). */
export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
};
