// Child process: runs a rowflow worker with no-op handlers until `count` step
// executions happened, then prints { executed, firstToLastMs, maxRssMb }.
import { createWorker } from "../../../src/worker/create-worker.js";
import { silentLogger } from "./silent-logger.js";

const [url, countArg, concurrencyArg, localQueueArg] = process.argv.slice(2);
const count = Number(countArg);

let executed = 0;
let first = 0;
let last = 0;
let resolveDone: () => void = () => {};
const done = new Promise<void>((resolve) => (resolveDone = resolve));

const worker = createWorker({
  connectionString: url,
  concurrency: Number(concurrencyArg),
  localQueueSize: Number(localQueueArg),
  syncWorkflows: false,
  logger: silentLogger,
  tasks: {
    noop: () => {
      const now = performance.now();
      if (executed === 0) first = now;
      last = now;
      if (++executed >= count) resolveDone();
      return {};
    },
  },
});
await worker.start();
await done;
await worker.stop();
process.stdout.write(
  `${JSON.stringify({ executed, firstToLastMs: last - first, maxRssMb: process.resourceUsage().maxRSS / 1024 })}\n`,
);
process.exit(0);
