import { createBusinessTable, execute, naiveTrigger } from "../business-table.js";
import type { Scenario } from "../scenario.js";
import { attachWorkflow, chainSpec } from "../workflows.js";

const bulkInsert = `insert into public.bench_orders (customer, total_cents)
  select 'customer-' || i, (i * 7) % 10000 from generate_series(1, $1::int) as i`;

export const bulk: Scenario = {
  name: "bulk",
  description:
    "one INSERT … SELECT into the business table (4-step workflow attached): rows (= runs) per second",
  async run(ctx) {
    const rows = ctx.sizes.bulkRows;
    // The naive trigger runs ~1.5k rows/s; 100k rows would take a minute per
    // repetition, so it gets a tenth of the rows (its rate does not depend on size).
    const variants: Array<[string, number, (url: string) => Promise<void>]> = [
      ["bare", rows, async () => {}],
      [
        "attached",
        rows,
        (url) => attachWorkflow(url, "bench-order", chainSpec(["a", "b", "c", "d"])),
      ],
      [
        "naive add_job trigger",
        Math.max(1, Math.round(rows / 10)),
        (url) => execute(url, naiveTrigger),
      ],
    ];
    for (let rep = 1; rep <= ctx.sizes.reps; rep++) {
      for (const [variant, n, setup] of variants) {
        if (!ctx.wants(variant) && variant !== "bare") continue;
        const db = await ctx.server.freshDatabase(variant);
        try {
          await execute(db.url, createBusinessTable);
          await setup(db.url);
          const start = performance.now();
          await db.measure(() => execute(db.url, bulkInsert, [n]));
          const seconds = (performance.now() - start) / 1000;
          ctx.log(`  rep ${rep}: ${variant}: ${n} rows in ${seconds.toFixed(2)} s`);
          ctx.record({
            variant,
            rep,
            metric: "rows/s",
            unit: "1/s",
            better: "higher",
            value: n / seconds,
          });
        } finally {
          await db.drop();
        }
      }
    }
    ctx.compare({ metric: "rows/s", baseline: "bare" });
  },
};
