// Starting runs, waiting for them, following changes and cancelling.
import {
  coerceError,
  createClient,
  RowflowSqlError,
  type RunInfo,
  WaitTimeoutError,
} from "rowflow";

import type { OrderPaidStart } from "./workflow.js";

const client = createClient({ connectionString: process.env.DATABASE_URL });
try {
  const input: OrderPaidStart = { orderId: 42, customerId: "c-7", total: 25 };
  const runId = await client.startRun("order-paid", input, { idempotencyKey: "order-paid:42" });
  const more = await client.startRuns("order-paid", [input, { ...input, orderId: 43 }], {
    idempotencyKeys: ["order-paid:42", null], // the first returns the existing run
  });
  console.log(runId === more[0]); // true

  const unsubscribe = await client.subscribe((change) => {
    console.log("changed:", change.runId ?? "(batch)", change.payload);
  });

  let run: RunInfo | undefined;
  try {
    run = await client.waitForRun(runId, { timeout: 60_000 });
  } catch (error) {
    if (!(error instanceof WaitTimeoutError)) throw error;
    console.log(`still ${error.lastStatus}; cancelling`);
    await client.cancelRun(runId, "took too long"); // false if it ended meanwhile
  }
  unsubscribe();

  run ??= await client.getRun(runId); // undefined for an unknown id
  for (const step of run?.steps ?? []) console.log(step.step, step.status, step.attempt);
} catch (caught) {
  const error = coerceError(caught);
  if (error instanceof RowflowSqlError && error.code === "RF020") {
    console.error("define the workflow first:", error.message);
  } else {
    throw error;
  }
} finally {
  await client.close();
}
