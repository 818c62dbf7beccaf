import type { Logger } from "../../../src/definition/logger.js";

/** Passes on errors only (to stderr): benchmarks must not pay for log lines. */
export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: (message, meta) => console.error(message, meta ?? ""),
};
