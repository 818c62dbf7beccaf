// A reminder 24 hours before shipping: the mission's durable sleep. When an
// order is placed, "remind" sleeps until 24 hours before its ship date —
// as a graphile-worker job with that run_at, holding no worker, surviving
// restarts — then sends the reminder; "ship" waits for the warehouse's
// signal that the parcel left.
//
//   DATABASE_URL=… npx rowflow worker --config examples/reminder/rowflow.config.ts
//   psql: select rowflow.start_run('shipping-reminder',
//           jsonb_build_object('orderId', 1, 'email', 'ann@example.com',
//                              'shipBy', now() + interval '24 hours 10 seconds'));
//         -- the reminder goes out in about 10 seconds; then:
//         select rowflow.signal(<run>, 'parcel-left', '{"carrier": "DHL"}');
import { defineConfig, defineWorkflow } from "rowflow";
import { z } from "zod";

export const reminder = defineWorkflow({
  name: "shipping-reminder",
  input: z.object({ orderId: z.number(), email: z.string(), shipBy: z.string() }),
})
  .step("remind", { startAt: { at: "$.input.shipBy", before: "24 hours" } }, async (ctx) => {
    ctx.logger.info(`reminding ${ctx.input.email}: order ${ctx.input.orderId} ships tomorrow`);
    return { remindedAt: new Date().toISOString() };
  })
  .wait("parcel-left", {
    dependsOn: ["remind"],
    signal: "parcel-left",
    payload: z.object({ carrier: z.string() }),
    timeout: "7 days",
  })
  .step("confirm", { dependsOn: ["parcel-left"] }, async (ctx) => {
    ctx.logger.info(`order ${ctx.input.orderId} left with ${ctx.deps["parcel-left"].carrier}`);
    return { confirmed: true };
  });

export default defineConfig({ workflows: [reminder] });
