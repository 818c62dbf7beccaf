import { run, type TaskList } from "graphile-worker";

import { quietGraphileLogger } from "../../../src/db/quiet-graphile-logger.js";

/**
 * Plain graphile-worker with the settings every bench variant shares: the
 * local queue (when size > 1) and batched completion, as rowflow's worker uses.
 */
export function runRawGraphile(
  url: string,
  concurrency: number,
  localQueueSize: number,
  taskList: TaskList,
) {
  return run({
    connectionString: url,
    concurrency,
    logger: quietGraphileLogger,
    noHandleSignals: true,
    pollInterval: 1000,
    preset: {
      worker: {
        maxPoolSize: concurrency + 2,
        ...(localQueueSize > 1 ? { localQueue: { size: localQueueSize } } : {}),
        completeJobBatchDelay: 0,
        failJobBatchDelay: 0,
      },
    },
    taskList,
  });
}
