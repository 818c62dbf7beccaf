// Compensation and on-failure handlers learn why the run failed (ctx.runError).
import { expect, it } from "vitest";

import { createClient } from "../../src/client/create-client.js";
import { defineTask, defineWorkflow, type HandlerContext } from "../../src/definition/index.js";
import { fatal } from "../../src/worker/attempt/outcomes.js";
import { useTestDatabase } from "../helpers/db.js";
import { startTestWorker } from "../helpers/worker.js";

const db = useTestDatabase();

it("hands the run's error to compensation and on-failure handlers, null to ordinary steps", async () => {
  const seen: Array<{ step: string; kind: string; runError: unknown; maxAttempts: number }> = [];
  const record = (ctx: HandlerContext) => {
    seen.push({
      step: ctx.step.name,
      kind: ctx.step.kind,
      runError: ctx.runError,
      maxAttempts: ctx.maxAttempts,
    });
    return {};
  };
  const workflow = defineWorkflow({
    name: "fails-late",
    onFailure: defineTask("re.notify", record),
  })
    .step("pay", { task: "re.pay", compensate: defineTask("re.refund", record) }, record)
    .step("ship", { task: "re.ship", dependsOn: ["pay"], attempts: 1 }, () =>
      fatal("truck on fire"),
    );
  const worker = await startTestWorker(db.url, { workflows: [workflow] });
  const client = createClient({ connectionString: db.url });
  try {
    const run = await client.waitForRun(await client.startRun("fails-late", {}), {
      timeout: 20_000,
    });
    expect(run.status).toBe("failed");
    const runError = {
      step: "ship",
      attempt: 1,
      error: expect.objectContaining({ message: "truck on fire" }),
    };
    expect(seen).toEqual([
      { step: "pay", kind: "step", runError: null, maxAttempts: 3 },
      { step: "compensate:pay", kind: "compensation", runError, maxAttempts: 3 },
      { step: "on-failure", kind: "on_failure", runError, maxAttempts: 3 },
    ]);
  } finally {
    await client.close();
    await worker.stop();
  }
});
