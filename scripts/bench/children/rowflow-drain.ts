// Child process: runs a rowflow worker with no-op handlers until `count` step
// executions happened, then prints { executed, firstToLastMs, maxRssMb }.
import { createWorker } from "../../../src/worker/create-worker.js";
import { countdown } from "./countdown.js";
import { silentLogger } from "./silent-logger.js";

const [url, countArg, concurrencyArg, localQueueArg] = process.argv.slice(2);
const counter = countdown(Number(countArg));

const worker = createWorker({
  connectionString: url,
  concurrency: Number(concurrencyArg),
  localQueueSize: Number(localQueueArg),
  syncWorkflows: false,
  logger: silentLogger,
  tasks: {
    noop: () => {
      counter.tick();
      return {};
    },
  },
});
await worker.start();
await counter.done;
await worker.stop();
process.stdout.write(`${JSON.stringify(counter.result())}\n`);
process.exit(0);
