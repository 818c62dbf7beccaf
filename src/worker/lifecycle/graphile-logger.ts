import { Logger as GraphileLogger, type LogLevel } from "graphile-worker";

import type { Logger } from "../../definition/logger.js";

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
