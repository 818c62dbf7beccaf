// A workflow defined in TypeScript: typed input (zod), typed outputs of
// dependencies, a compensation, an onFailure task, fatal() and retryAfter().
import {
  defineTask,
  defineWorkflow,
  fatal,
  retryAfter,
  sql,
  type WorkflowOutputs,
  type WorkflowStartInput,
} from "rowflow";
import { z } from "zod";

const orderInput = z.object({
  orderId: z.number().int(),
  customerId: z.string(),
  total: z.number(),
});

// Standalone tasks: a compensation and the workflow's onFailure task.
const refundCard = defineTask("refund-card", { input: orderInput }, async (ctx) => {
  // ctx.deps holds the output of the step being undone: { charge: … }.
  ctx.logger.info("refunding", { orderId: ctx.input.orderId, charge: ctx.deps["charge"] });
  return { refunded: true };
});

const notifyOps = defineTask("notify-ops", async (ctx) => {
  // ctx.deps: outputs of every step that succeeded before the run failed.
  ctx.logger.error(`run ${ctx.run.id} of ${ctx.run.workflow} failed`);
});

export const orderPaid = defineWorkflow({
  name: "order-paid",
  input: orderInput,
  onFailure: notifyOps,
  on: { table: "orders", events: ["update"], when: "new.status = 'paid'" },
})
  .step("validate", { task: "validate-order" }, async (ctx) => {
    if (ctx.input.total < 0) fatal(`order ${ctx.input.orderId} has a negative total`);
    return { ok: true };
  })
  .step(
    "charge",
    {
      task: "charge-card",
      dependsOn: ["validate"],
      attempts: 5,
      backoff: { type: "exponential", base: "1 second", max: "1 minute" },
      timeout: "30 seconds",
      queue: { name: "payments", key: "$.input.customerId" },
      compensate: refundCard,
    },
    async (ctx) => {
      const validated: boolean = ctx.deps.validate.ok; // typed from "validate"'s output
      const response = await fetch("https://payments.example/charge", {
        method: "POST",
        headers: { "idempotency-key": ctx.idempotencyKey }, // same on every attempt
        body: JSON.stringify({ order: ctx.input.orderId, amount: ctx.input.total, validated }),
        signal: ctx.signal, // aborted on timeout and on worker shutdown
      });
      if (response.status === 429) retryAfter("30 seconds", "rate limited by the provider");
      if (!response.ok) throw new Error(`charge failed: HTTP ${response.status}`); // retried
      return { chargeId: (await response.text()).trim() };
    },
  )
  .step("ship", { dependsOn: ["charge"], if: "$.input.total > 0" }, async (ctx) => {
    // Written through ctx.tx: commits together with the step's completion.
    await sql`update orders set status = 'shipping' where id = ${ctx.input.orderId}`.execute(
      ctx.tx,
    );
    // ctx.tx knows only rowflow's tables; declare yours to use the query builder.
    const shop = ctx.tx.withTables<{ orders: { id: number; status: string } }>();
    await shop
      .updateTable("orders")
      .set({ status: "shipped" })
      .where("id", "=", ctx.input.orderId)
      .execute();
    return { chargeId: ctx.deps.charge.chargeId, shippedAt: new Date() };
  });

// Types derived from the definition.
export type OrderPaidStart = WorkflowStartInput<typeof orderPaid>; // what startRun takes
export type OrderPaidOutputs = WorkflowOutputs<typeof orderPaid>;
// A Date output reaches readers as a string; a step with `if` may be null (skipped).
export const shippedAt = (outputs: OrderPaidOutputs): string | undefined => outputs.ship?.shippedAt;
