// order-fulfilment: validate → await-payment (a signal from the payment
// provider) → charge → (reserve ∥ confirm ∥ a manager's approval if the total
// is high) → ship. Charging is compensated by a refund if a later step fails.
// Every handler writes to the shop's tables through ctx.tx, so the write and
// the step's completion commit together. The two waits hold no worker while
// they wait: the app ends them with rowflow.signal and rowflow.complete_task
// (the demo, examples/orders/demo.ts, does both after a few seconds).
import { sql } from "kysely";

import { defineTask, defineWorkflow } from "../../src/definition/index.js";
import { fatal } from "../../src/worker/attempt/outcomes.js";
import {
  approvalAnswer,
  managersGroup,
  orderRowInput,
  paymentConfirmed,
  reviewThresholdCents,
} from "./order-input.js";

// The compensation of "charge": runs only if the run fails after the charge succeeded.
const refundPayment = defineTask("refund-payment", { input: orderRowInput }, async (ctx) => {
  const { rows } = await sql<{ id: number }>`
    update shop.payments set status = 'refunded', refunded_at = now()
     where order_id = ${ctx.input.row.id} and status = 'captured'
    returning id`.execute(ctx.tx);
  await sql`update shop.orders set status = 'refunded', updated_at = now()
             where id = ${ctx.input.row.id}`.execute(ctx.tx);
  return { refunded: rows.length };
});

// Runs once when a run fails, after compensation: an order that failed before
// it was paid is rejected; a refunded one stays refunded.
const markOrderFailed = defineTask("mark-order-failed", { input: orderRowInput }, async (ctx) => {
  const { rows } = await sql<{ status: string }>`
    update shop.orders set status = 'rejected', updated_at = now()
     where id = ${ctx.input.row.id} and status in ('new', 'validated')
    returning status`.execute(ctx.tx);
  return { rejected: rows.length === 1 };
});

export const orderFulfilment = defineWorkflow({
  name: "order-fulfilment",
  description: "Validate, charge, reserve stock, confirm and ship a new order",
  input: orderRowInput,
  onFailure: markOrderFailed,
  on: [{ table: "shop.orders", events: ["insert"] }],
})
  .step("validate", { task: "validate-order" }, async (ctx) => {
    const order = ctx.input.row;
    const { rows } = await sql<{ sku: string }>`
      select sku from shop.inventory where sku = ${order.sku}`.execute(ctx.tx);
    // fatal: retrying cannot make an unknown product exist. The run fails;
    // nothing was charged yet, so there is nothing to compensate, and the
    // workflow's onFailure task marks the order rejected. (Writes made through
    // ctx.tx before a throw roll back with the attempt, so they cannot do it.)
    if (rows.length === 0) fatal(`unknown product ${order.sku}`);
    await sql`update shop.orders set status = 'validated', updated_at = now()
               where id = ${order.id}`.execute(ctx.tx);
    return { sku: order.sku };
  })
  // The payment provider confirms the payment out of band: a signal to the
  // run ("payment-confirmed", sent by the app's webhook with rowflow.signal).
  // One sent before the step waits is kept for it; none within an hour fails
  // the run (onFailure rejects the order; nothing was charged).
  .wait("await-payment", {
    dependsOn: ["validate"],
    signal: "payment-confirmed",
    payload: paymentConfirmed,
    timeout: "1 hour",
    onTimeout: "fail",
  })
  .step(
    "charge",
    { task: "charge-payment", dependsOn: ["await-payment"], compensate: refundPayment },
    async (ctx) => {
      const order = ctx.input.row;
      const payment = ctx.deps["await-payment"];
      // The idempotency key is the same on every attempt: a payment provider
      // would get it too; here the unique charge_key makes a double charge impossible.
      const { rows } = await sql<{ id: number }>`
        insert into shop.payments (order_id, amount_cents, status, charge_key, reference)
        values (${order.id}, ${payment.amountCents}, 'captured', ${ctx.idempotencyKey},
                ${payment.reference})
        returning id`.execute(ctx.tx);
      await sql`update shop.orders set status = 'paid', updated_at = now()
                 where id = ${order.id}`.execute(ctx.tx);
      return { paymentId: rows[0]?.id ?? null };
    },
  )
  // A person decides: a task for the managers group (rowflow tasks lists it;
  // rowflow task complete, or rowflow.complete_task, answers it). The answer
  // is checked against the form made from approvalAnswer, then is the
  // step's output, which ship reads.
  .human("approve", {
    dependsOn: ["charge"],
    if: `$.input.row.total_cents > ${reviewThresholdCents}`,
    assignee: managersGroup,
    title: "Approve a large order",
    description: `Orders over $${reviewThresholdCents / 100} ship after a manager approves them.`,
    answer: approvalAnswer,
    due: "1 day",
    onTimeout: "fail",
  })
  .step("reserve", { task: "reserve-inventory", dependsOn: ["charge"] }, async (ctx) => {
    const order = ctx.input.row;
    const { rows } = await sql<{ sku: string }>`
        update shop.inventory set in_stock = in_stock - ${order.quantity},
                                  reserved = reserved + ${order.quantity}
         where sku = ${order.sku} and in_stock >= ${order.quantity}
        returning sku`.execute(ctx.tx);
    // Out of stock: the run fails and the charge is refunded (compensation).
    if (rows.length === 0) fatal(`not enough ${order.sku} in stock for ${order.quantity}`);
    return { reserved: order.quantity };
  })
  .step(
    "confirm",
    {
      task: "send-confirmation",
      dependsOn: ["charge"],
      attempts: 3,
      backoff: { type: "fixed", base: "200 ms", jitter: 0 },
    },
    async (ctx) => {
      const order = ctx.input.row;
      // A flaky mail server: every fourth order's first attempt fails, to show
      // a retry. The attempt's writes roll back; the retry succeeds.
      if (order.id % 4 === 0 && ctx.attempt === 1) {
        throw new Error("mail server timed out (demo: fails once on purpose)");
      }
      await sql`insert into shop.emails (order_id, kind) values (${order.id}, 'confirmation')`.execute(
        ctx.tx,
      );
      return { sentOnAttempt: ctx.attempt };
    },
  )
  .step(
    "ship",
    { task: "create-shipment", dependsOn: ["reserve", "confirm", "approve"] },
    async (ctx) => {
      const order = ctx.input.row;
      const approval = ctx.deps.approve; // null: no approval was needed (skipped)
      // fatal: a refusal is final; the run fails and the charge is refunded.
      if (approval && !approval.approved)
        fatal(`a manager refused the order: ${approval.note ?? ""}`);
      if (approval) {
        await sql`update shop.orders set review = 'approved', updated_at = now()
                   where id = ${order.id}`.execute(ctx.tx);
      }
      const carrier = order.quantity > 5 ? "freight" : "parcel";
      await sql`insert into shop.shipments (order_id, carrier) values (${order.id}, ${carrier})`.execute(
        ctx.tx,
      );
      await sql`update shop.orders set status = 'shipped', updated_at = now()
                 where id = ${order.id}`.execute(ctx.tx);
      return { carrier, reviewed: approval !== null };
    },
  );
