/**
 * The loggers behind rowflow's `Logger` interface (src/definition/logger.ts):
 * the pino default, children that add fields to every line, and a silent one.
 * Shared by the worker, the client and the CLI.
 */
import { destination, type DestinationStream, type Logger as PinoLogger, pino } from "pino";

import type { Logger } from "../definition/logger.js";

/**
 * stdout, written synchronously, shared by every default logger. pino's
 * own default writes asynchronously, and its exit hook writes out what is
 * buffered but not a write still in flight, so a process that ends a few
 * milliseconds after its last line can lose it: `rowflow worker` ends (by
 * its stop signal, src/cli/stop-signals.ts) right after "worker … stopped",
 * and lost that line 1 time in 8 under `npm run`. A synchronous line costs
 * ~1 µs more (3.9 vs 2.9 µs a line into a pipe, 200,000 lines), against a
 * worker's one line per job at info.
 */
let stdout: DestinationStream | undefined;

/** The default logger: pino (JSON lines on stdout) at `LOG_LEVEL` or `info`. */
export function createDefaultLogger(name = "rowflow"): Logger {
  stdout ??= destination({ dest: 1, sync: true });
  const base = pino({ name, level: process.env.LOG_LEVEL ?? "info" }, stdout);
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
