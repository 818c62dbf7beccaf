// Child process: drains `count` no-op jobs with plain graphile-worker and prints
// one JSON line { executed, firstToLastMs, maxRssMb } on stdout.
import { run } from "graphile-worker";

import { quietGraphileLogger } from "../../../src/db/quiet-graphile-logger.js";

const [url, countArg, concurrencyArg, localQueueArg] = process.argv.slice(2);
const count = Number(countArg);
const concurrency = Number(concurrencyArg);
const localQueueSize = Number(localQueueArg);

let executed = 0;
let first = 0;
let last = 0;
let resolveDone: () => void = () => {};
const done = new Promise<void>((resolve) => (resolveDone = resolve));

const runner = await run({
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
  taskList: {
    noop: async () => {
      const now = performance.now();
      if (executed === 0) first = now;
      last = now;
      if (++executed >= count) resolveDone();
    },
  },
});
await done;
await runner.stop();
process.stdout.write(
  `${JSON.stringify({ executed, firstToLastMs: last - first, maxRssMb: process.resourceUsage().maxRSS / 1024 })}\n`,
);
process.exit(0);
