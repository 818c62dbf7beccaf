// One chaos worker process: `tsx worker-child.ts '<json options>'`. Prints
// "ready" once it takes jobs; SIGTERM stops it gracefully (exit 0). The
// workflows are defined by the scenario before the workers start.
import { silentLogger } from "../../src/logging/default-logger.js";
import { createWorker } from "../../src/worker/create-worker.js";
import { chaosTasks, type WorkloadOptions } from "./workload.js";

export interface WorkerChildOptions extends WorkloadOptions {
  url: string;
  concurrency: number;
  pollInterval: number;
  heartbeatInterval?: number | undefined;
  heartbeatTimeout?: number | undefined;
}

const options = JSON.parse(process.argv[2] ?? "{}") as WorkerChildOptions;
const worker = createWorker({
  connectionString: options.url,
  tasks: chaosTasks(options),
  syncWorkflows: false,
  concurrency: options.concurrency,
  pollInterval: options.pollInterval,
  heartbeatInterval: options.heartbeatInterval,
  heartbeatTimeout: options.heartbeatTimeout,
  shutdownGracePeriod: 2_000,
  logger: process.env.CHAOS_WORKER_LOGS ? undefined : silentLogger,
});
let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  void worker.stop().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
await worker.start();
console.log("ready");
