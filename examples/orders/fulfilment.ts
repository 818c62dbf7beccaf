// order-fulfilment: validate → charge → (reserve ∥ confirm ∥ manual review if
// the total is high) → ship. Charging is compensated by a refund if a later
// step fails. Every handler writes to the shop's tables through ctx.tx, so the
// write and the step's completion commit together.
import { sql } from "kysely";

import { defineTask, defineWorkflow } from "../../src/definition/index.js";
import { fatal } from "../../src/worker/attempt/outcomes.js";
import { orderRowInput, reviewThresholdCents } from "./order-input.js";

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
  .step(
    "charge",
    { task: "charge-payment", dependsOn: ["validate"], compensate: refundPayment },
    async (ctx) => {
      const order = ctx.input.row;
      // The idempotency key is the same on every attempt: a payment provider
      // would get it too; here the unique charge_key makes a double charge impossible.
      const { rows } = await sql<{ id: number }>`
        insert into shop.payments (order_id, amount_cents, status, charge_key)
        values (${order.id}, ${order.total_cents}, 'captured', ${ctx.idempotencyKey})
        returning id`.execute(ctx.tx);
      await sql`update shop.orders set status = 'paid', updated_at = now()
                 where id = ${order.id}`.execute(ctx.tx);
      return { paymentId: rows[0]?.id ?? null };
    },
  )
  .step(
    "manual-review",
    {
      task: "review-order",
      dependsOn: ["charge"],
      if: `$.input.row.total_cents > ${reviewThresholdCents}`,
    },
    async (ctx) => {
      // A real shop would wait for a person here; the demo approves at once.
      await sql`update shop.orders set review = 'approved', updated_at = now()
                 where id = ${ctx.input.row.id}`.execute(ctx.tx);
      return { approved: true };
    },
  )
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
    { task: "create-shipment", dependsOn: ["reserve", "confirm", "manual-review"] },
    async (ctx) => {
      const order = ctx.input.row;
      const carrier = order.quantity > 5 ? "freight" : "parcel";
      await sql`insert into shop.shipments (order_id, carrier) values (${order.id}, ${carrier})`.execute(
        ctx.tx,
      );
      await sql`update shop.orders set status = 'shipped', updated_at = now()
                 where id = ${order.id}`.execute(ctx.tx);
      return { carrier, reviewed: ctx.deps["manual-review"] !== null };
    },
  );
