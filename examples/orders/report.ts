// shop-report: a sales summary the shop-report schedule starts every minute
// (defineSchedule in rowflow.config.ts; the workers fire each tick once, by
// its idempotency key, however many run). The run's input carries the tick's
// time, so a report is written once per tick even if its step is retried.
import { sql } from "kysely";
import { z } from "zod";

import { defineSchedule, defineWorkflow } from "../../src/definition/index.js";

export const salesReport = defineWorkflow({
  name: "sales-report",
  description: "Count the orders and shipments and sum the revenue, once per schedule tick",
  input: z.object({ scheduledAt: z.string() }),
}).step("summarize", { task: "summarize-sales" }, async (ctx) => {
  const { rows } = await sql<{ orders: number; shipped: number; revenue_cents: number }>`
    insert into shop.reports (scheduled_at, orders, shipped, revenue_cents)
    select ${ctx.input.scheduledAt}::timestamptz, count(*)::int,
           (count(*) filter (where status = 'shipped'))::int,
           coalesce(sum(total_cents) filter (where status = 'shipped'), 0)
      from shop.orders
    on conflict (scheduled_at) do update set orders = excluded.orders
    returning orders, shipped, revenue_cents`.execute(ctx.tx);
  return rows[0] ?? null;
});

/** Every minute, in UTC; a tick missed while no worker ran is made up once (catch up "latest"). */
export const salesReportSchedule = defineSchedule({
  name: "shop-report",
  cron: "* * * * *",
  workflow: salesReport,
});
