import type { EventEmitter } from "node:events";

import { Logger as GraphileLogger, type LogLevel } from "graphile-worker";

import type { Logger } from "../../definition/logger.js";

/**
 * graphile-worker's error lines while its LISTEN connection is down: it
 * reconnects by itself with backoff, logging one error per attempt (a
 * two-minute Postgres restart logged 170–200 of them).
 */
const reconnectNoise =
  /^(Error with notify listener|Error occurred (whilst )?releasing (listening )?client|Error occurred attempting to UNLISTEN|Failed to reset locked; we'll try again)/;

/**
 * graphile-worker's logger on top of rowflow's (its `warning` level maps to
 * `warn`). Its reconnect errors are folded: the first of an outage is one
 * warning, the rest go to debug, and its next successful LISTEN (the
 * `pool:listen:success` event on `events`) is one info line saying how many
 * were folded.
 */
export function toGraphileLogger(logger: Logger, events?: EventEmitter): GraphileLogger {
  let outage = false;
  let folded = 0;
  events?.on("pool:listen:success", () => {
    if (!outage) return;
    logger.info(
      `graphile-worker is listening again (${folded} more reconnect message(s) were logged at debug level)`,
      { component: "graphile-worker" },
    );
    outage = false;
    folded = 0;
  });
  return new GraphileLogger((scope) => (level: LogLevel, message: string, meta?: unknown) => {
    const fields: Record<string, unknown> = { component: "graphile-worker" };
    if (scope.workerId) fields.workerId = scope.workerId;
    if (scope.jobId) fields.jobId = scope.jobId;
    if (meta && typeof meta === "object" && "error" in meta)
      fields.error = String((meta as { error: unknown }).error);
    switch (String(level)) {
      case "error":
        if (events && reconnectNoise.test(message)) {
          if (!outage) {
            outage = true;
            return logger.warn(
              `graphile-worker lost its LISTEN connection and reconnects by itself; until it does, its reconnect errors are logged at debug level: ${message}`,
              fields,
            );
          }
          folded++;
          return logger.debug(message, fields);
        }
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
