// Child process of the scale scenario: one rowflow worker process with no-op
// handlers, one of several draining the same database. Prints "ready" once
// started; on SIGTERM it drains, stops and prints
// { executed, first, last, maxRssMb }, `first` and `last` in epoch
// milliseconds so that the parent can merge several processes' spans.
import { createWorker } from "../../../src/worker/create-worker.js";
import { silentLogger } from "./silent-logger.js";

const [url, concurrencyArg, localQueueArg] = process.argv.slice(2);
const now = () => performance.timeOrigin + performance.now();
let executed = 0;
let first = 0;
let last = 0;

const worker = createWorker({
  connectionString: url,
  concurrency: Number(concurrencyArg),
  localQueueSize: Number(localQueueArg),
  syncWorkflows: false,
  logger: silentLogger,
  tasks: {
    noop: () => {
      const t = now();
      if (executed++ === 0) first = t;
      last = t;
      return {};
    },
  },
});
await worker.start();
process.stdout.write("ready\n");
await new Promise<void>((resolve) => process.once("SIGTERM", () => resolve()));
await worker.stop();
const maxRssMb = process.resourceUsage().maxRSS / 1024;
process.stdout.write(`${JSON.stringify({ executed, first, last, maxRssMb })}\n`);
process.exit(0);
