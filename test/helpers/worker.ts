import { silentLogger } from "../../src/logging/default-logger.js";
import { createWorker, type Worker } from "../../src/worker/create-worker.js";
import type { WorkerOptions } from "../../src/worker/worker-options.js";

/**
 * Starts an in-process worker for a test with fast settings (short poll,
 * silent logs). The caller stops it; the leak guard fails a test that forgets.
 */
export async function startTestWorker(
  url: string,
  options: Omit<WorkerOptions, "connectionString">,
): Promise<Worker> {
  const worker = createWorker({
    connectionString: url,
    pollInterval: 100,
    concurrency: 4,
    shutdownGracePeriod: 2_000,
    logger: process.env.ROWFLOW_TEST_LOGS ? undefined : silentLogger,
    ...options,
  });
  await worker.start();
  return worker;
}
