// Waiting steps end to end (docs/spec.md, "Waits"): a DSL workflow whose
// steps wait for a signal and for a person, and sleep until a time, run by a
// real worker. Nothing holds a worker slot while it waits: the worker has one
// slot, and other runs finish meanwhile.
import { afterEach, expect, it } from "vitest";
import { z } from "zod";

import { reminder } from "../../../examples/reminder/rowflow.config.js";
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

const shipped: unknown[] = [];
const order = defineWorkflow({
  name: "order-waits",
  input: z.object({ orderId: z.number(), manager: z.string(), remindAt: z.string() }),
})
  .step("charge", async (ctx) => ({ charged: ctx.input.orderId }))
  .wait("await-payment", {
    dependsOn: ["charge"],
    signal: "payment-confirmed",
    payload: z.object({ amount: z.number() }),
  })
  .human("approve", {
    dependsOn: ["charge"],
    assignee: "$.input.manager",
    title: "Approve the shipment",
    answer: z.object({ approved: z.boolean(), note: z.string().optional() }),
  })
  .step("remind", { dependsOn: ["charge"], startAt: "$.input.remindAt" }, async () => ({
    reminded: true,
  }))
  .step("ship", { dependsOn: ["await-payment", "approve", "remind"] }, async (ctx) => {
    const { amount } = ctx.deps["await-payment"]; // typed by `payload`
    const { approved } = ctx.deps.approve; // typed by `answer`
    shipped.push({ amount, approved, reminded: ctx.deps.remind.reminded });
    return { shipped: approved };
  });
const quick = defineWorkflow({ name: "quick-waits" }).step("only", async () => ({ ok: true }));

it("waits for a signal, a person and a time without a slot, then ships with their outputs", async () => {
  const worker = await startTestWorker(db.url, { concurrency: 1, workflows: [order, quick] });
  cleanup.push(() => worker.stop());
  const client = createClient({ connectionString: db.url, pollInterval: 50 });
  cleanup.push(() => client.close());

  const remindAt = new Date(Date.now() + 1_500).toISOString();
  const run = await client.startRun("order-waits", {
    orderId: 42,
    manager: "ann@example.com",
    remindAt,
  });
  // The human task appears in the manager's inbox once charge is done.
  const [task] = await waitFor(async () => {
    const tasks = await client.tasks({ assignee: "ann@example.com" });
    return tasks.length > 0 && tasks;
  });
  expect(task).toMatchObject({
    runId: run,
    step: "approve",
    status: "open",
    title: "Approve the shipment",
  });

  // Both waits hold no slot: with one slot, other runs still finish.
  const other = await client.startRun("quick-waits", {});
  expect((await client.waitForRun(other, { timeout: 10_000 })).status).toBe("succeeded");

  await expect(
    client.completeTask(task!.id, { by: "ann@example.com", answer: { approved: "yes" } }),
  ).rejects.toMatchObject({ code: "RF066" });
  expect(
    await client.completeTask(task!.id, { by: "ann@example.com", answer: { approved: true } }),
  ).toMatchObject({ ok: true, step: "approve" });
  expect(await client.signal(run, "payment-confirmed", { amount: 99 })).toMatchObject({
    ok: true,
    status: "delivered",
    step: "await-payment",
  });

  const done = await client.waitForRun(run, { timeout: 20_000 });
  expect(done.status).toBe("succeeded");
  expect(shipped).toEqual([{ amount: 99, approved: true, reminded: true }]);
  const remind = done.steps.find((s) => s.step === "remind");
  expect(remind?.startedAt?.getTime()).toBeGreaterThanOrEqual(Date.parse(remindAt));
  expect(await client.signal(run, "payment-confirmed", {})).toMatchObject({
    ok: false,
    status: "run_finished",
  });
});

it("waits for a business row: a later INSERT from the app completes the step in its transaction", async () => {
  await db.query(`create schema shop;
    create table shop.payments (id bigserial primary key, order_id bigint not null, status text not null)`);
  const paid = defineWorkflow({ name: "paid-waits", input: z.object({ orderId: z.number() }) })
    .waitFor("payment", {
      table: "shop.payments",
      where: "order_id = ($.input.orderId)::bigint and status = 'settled'",
      row: z.object({ id: z.number(), status: z.string() }),
    })
    .step("ship", { dependsOn: ["payment"] }, async (ctx) => ({ paymentId: ctx.deps.payment.id }));
  const worker = await startTestWorker(db.url, { concurrency: 1, workflows: [paid] });
  cleanup.push(() => worker.stop());
  const client = createClient({ connectionString: db.url, pollInterval: 50 });
  cleanup.push(() => client.close());

  const run = await client.startRun("paid-waits", { orderId: 7 });
  // The wait is armed and confirmed by the worker's rowflow:wait jobs.
  await waitFor(async () => {
    const { rows } = await db.query(
      "select 1 from rowflow.step_waits where run_id = $1 and confirmed",
      [run],
    );
    return rows.length > 0;
  });
  const { rows } = await db.query<{ id: string }>(
    "insert into shop.payments (order_id, status) values (7, 'settled') returning id",
  );
  const done = await client.waitForRun(run, { timeout: 20_000 });
  expect(done.status).toBe("succeeded");
  expect(done.steps.find((s) => s.step === "ship")?.output).toEqual({
    paymentId: Number(rows[0]!.id),
  });
});

it("examples/reminder: the reminder goes out 24 hours before shipBy, then the parcel's signal confirms", async () => {
  const worker = await startTestWorker(db.url, { concurrency: 2, workflows: [reminder] });
  cleanup.push(() => worker.stop());
  const client = createClient({ connectionString: db.url, pollInterval: 50 });
  cleanup.push(() => client.close());
  const shipBy = new Date(Date.now() + 24 * 3600_000 + 800);
  const run = await client.startRun("shipping-reminder", {
    orderId: 1,
    email: "ann@example.com",
    shipBy: shipBy.toISOString(),
  });
  await waitFor(async () =>
    (await client.getRun(run))?.steps.some((s) => s.step === "remind" && s.status === "succeeded"),
  );
  const remind = (await client.getRun(run))?.steps.find((s) => s.step === "remind");
  expect(remind?.startedAt?.getTime()).toBeGreaterThanOrEqual(shipBy.getTime() - 24 * 3600_000);
  // Before or after the wait armed: delivered at once, or kept and consumed then.
  expect(["delivered", "kept"]).toContain(
    (await client.signal(run, "parcel-left", { carrier: "DHL" })).status,
  );
  expect((await client.waitForRun(run, { timeout: 10_000 })).status).toBe("succeeded");
});
