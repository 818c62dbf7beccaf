// order-cancellation: started by an UPDATE that sets shop.orders.status to
// 'cancelled'. Refunds the payment and puts reserved stock back.
import { sql } from "kysely";

import { defineWorkflow } from "../../src/definition/index.js";
import { orderRowInput } from "./order-input.js";

export const orderCancellation = defineWorkflow({
  name: "order-cancellation",
  description: "Refund and restock a cancelled order",
  input: orderRowInput,
  on: [
    {
      table: "shop.orders",
      events: ["update"],
      when: "new.status = 'cancelled' and old.status is distinct from 'cancelled'",
    },
  ],
})
  .step("refund", { task: "refund-cancelled-order" }, async (ctx) => {
    const { rows } = await sql<{ id: number }>`
      update shop.payments set status = 'refunded', refunded_at = now()
       where order_id = ${ctx.input.row.id} and status = 'captured'
      returning id`.execute(ctx.tx);
    return { refunded: rows.length };
  })
  .step("restock", { task: "restock-order", dependsOn: ["refund"] }, async (ctx) => {
    const order = ctx.input.row;
    await sql`update shop.inventory set in_stock = in_stock + ${order.quantity},
                                        reserved = reserved - ${order.quantity}
               where sku = ${order.sku} and reserved >= ${order.quantity}`.execute(ctx.tx);
    await sql`update shop.orders set status = 'refunded', updated_at = now()
               where id = ${order.id}`.execute(ctx.tx);
    return { restocked: order.quantity };
  });
