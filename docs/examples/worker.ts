// Running a worker from your own process instead of `rowflow worker`.
import { createWorker, defineTask } from "rowflow";

import { orderPaid } from "./workflow.js";

const sendReceipt = defineTask("send-receipt", async (ctx) => {
  ctx.logger.info("receipt", { attempt: ctx.attempt, key: ctx.idempotencyKey });
  return { sent: true };
});

const worker = createWorker({
  connectionString: process.env.DATABASE_URL, // the default too
  tasks: [sendReceipt], // or { "send-receipt": handler }
  workflows: [orderPaid], // defined at start (checked only, for a role that may not define), tasks registered
  concurrency: 20,
  shutdownGracePeriod: 15_000,
});

await worker.start(); // resolves once jobs are being taken
console.log(`worker ${worker.id} runs ${worker.tasks.join(", ")}`);

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => void worker.stop());
}
await worker.stopped;
