// Child workflows end to end (docs/spec.md, "Child workflows"): a DSL
// workflow whose step runs another workflow, on a real worker with one slot:
// the parent step holds no slot while its child runs (the child's steps
// need that slot), the parent continues with the child's output, a failed
// child is retried with a new one, and cancelling the parent cancels the
// child whose handler is running.
import { afterEach, expect, it } from "vitest";
import { z } from "zod";

import { createClient } from "../../../src/client/create-client.js";
import { defineWorkflow } from "../../../src/definition/define-workflow.js";
import { useTestDatabase } from "../../helpers/db.js";
import { waitFor } from "../../helpers/wait-for.js";
import { startTestWorker } from "../../helpers/worker.js";

const db = useTestDatabase();
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()?.();
});

let labelCalls = 0;
let failLabels = 0;
const shipping = defineWorkflow({
  name: "shipping-child",
  input: z.object({ box: z.string() }),
})
  .step("label", { attempts: 1 }, async (ctx) => {
    labelCalls++;
    if (failLabels > 0) {
      failLabels--;
      throw new Error("label printer jammed");
    }
    return { label: `L-${ctx.input.box}` };
  })
  .step("send", { dependsOn: ["label"] }, async (ctx) => ({
    tracking: `T-${ctx.deps.label.label}`,
  }));

const notified: unknown[] = [];
const order = defineWorkflow({ name: "order-child", input: z.object({ orderId: z.number() }) })
  .step("pack", async (ctx) => ({ box: `B${ctx.input.orderId}` }))
  .child("ship", shipping, {
    dependsOn: ["pack"],
    input: "$.steps.pack",
    attempts: 2,
    backoff: { type: "fixed", base: "10 ms", jitter: 0 },
    output: z.object({ send: z.object({ tracking: z.string() }) }),
  })
  .step("notify", { dependsOn: ["ship"] }, async (ctx) => {
    notified.push(ctx.deps.ship.send.tracking); // typed by `output`
    return { told: true };
  });

it("runs the child without holding a slot, and continues with its output; a failed child is replaced", async () => {
  // The parent is defined first: the worker's sync defines the child first.
  const worker = await startTestWorker(db.url, { concurrency: 1, workflows: [order, shipping] });
  cleanup.push(() => worker.stop());
  const client = createClient({ connectionString: db.url, pollInterval: 50 });
  cleanup.push(() => client.close());

  const run = await client.startRun("order-child", { orderId: 7 });
  const done = await client.waitForRun(run, { timeout: 20_000 });
  expect(done.status).toBe("succeeded");
  expect(notified).toEqual(["T-L-B7"]);
  const { rows } = await db.query(
    `select workflow, status, parent_step, input from rowflow.runs where parent_run_id = $1`,
    [run],
  );
  expect(rows).toEqual([
    { workflow: "shipping-child", status: "succeeded", parent_step: "ship", input: { box: "B7" } },
  ]);
  expect(done.steps.find((s) => s.step === "ship")?.output).toEqual({
    send: { tracking: "T-L-B7" },
  });

  // The first child fails (label has one attempt); the step's second attempt starts a new child.
  failLabels = 1;
  labelCalls = 0;
  const second = await client.startRun("order-child", { orderId: 8 });
  expect((await client.waitForRun(second, { timeout: 30_000 })).status).toBe("succeeded");
  const { rows: kids } = await db.query(
    // by created_at: ids come from per-session sequence caches (cache 100), so
    // the second child may have a smaller id than the first.
    "select status from rowflow.runs where parent_run_id = $1 order by created_at, id",
    [second],
  );
  expect(kids).toEqual([{ status: "failed" }, { status: "succeeded" }]);
  expect(labelCalls).toBe(2);
});

it("cancelling the parent cancels the child, whose running handler is refused at its gate call", async () => {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let started = 0;
  const slow = defineWorkflow({ name: "slow-child" }).step("work", async () => {
    started++;
    await gate;
    return { done: true };
  });
  const parent = defineWorkflow({ name: "parent-child" }).child("sub", slow);
  const worker = await startTestWorker(db.url, { concurrency: 2, workflows: [slow, parent] });
  cleanup.push(() => worker.stop());
  const client = createClient({ connectionString: db.url, pollInterval: 50 });
  cleanup.push(() => client.close());

  const run = await client.startRun("parent-child", {});
  await waitFor(() => started === 1);
  const { rows } = await db.query<{ id: string }>(
    "select id from rowflow.runs where parent_run_id = $1",
    [run],
  );
  const child = rows[0]!.id;
  expect(await client.cancelRun(run, { reason: "not needed" })).toBe(true);
  const { rows: after } = await db.query(
    `select r.status, sr.status as step from rowflow.runs as r
     join rowflow.step_runs as sr on sr.run_id = r.id where r.id = $1`,
    [child],
  );
  expect(after).toEqual([{ status: "cancelled", step: "cancelled" }]);
  release();
  // The worker drains its handlers on stop: the completion is refused, the step stays cancelled.
  cleanup.length = 0;
  await client.close();
  await worker.stop();
  const { rows: final } = await db.query(
    "select status, output from rowflow.step_runs where run_id = $1",
    [child],
  );
  expect(final).toEqual([{ status: "cancelled", output: null }]);
});
