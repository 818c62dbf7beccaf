import { createBusinessTable, execute, insertOneOrder, naiveTrigger } from "../business-table.js";
import { insertLoad } from "../insert-load.js";
import type { Scenario } from "../scenario.js";
import { attachWorkflow, chainSpec } from "../workflows.js";

const setups: Record<string, (url: string) => Promise<void>> = {
  bare: async () => {},
  attached: (url) => attachWorkflow(url, "bench-order", chainSpec(["a", "b", "c", "d"])),
  "naive add_job trigger": (url) => execute(url, naiveTrigger),
};

export const writeOverhead: Scenario = {
  name: "write-overhead",
  description:
    "single-row INSERTs into a business table: bare vs rowflow attachment vs per-row add_job trigger, 1 and 16 clients",
  async run(ctx) {
    for (let rep = 1; rep <= ctx.sizes.reps; rep++) {
      for (const clients of [1, 16]) {
        for (const [variant, setup] of Object.entries(setups)) {
          if (!ctx.wants(variant) && variant !== "bare") continue;
          const db = await ctx.server.freshDatabase(`${variant}, ${clients} client(s)`);
          try {
            await execute(db.url, createBusinessTable);
            await setup(db.url);
            const { tps, tool } = await db.measure(() =>
              insertLoad(db.url, insertOneOrder, clients, ctx.sizes.insertSeconds),
            );
            ctx.log(
              `  rep ${rep}: ${clients} client(s), ${variant}: ${Math.round(tps)} inserts/s (${tool})`,
            );
            ctx.record({
              variant,
              rep,
              metric: `inserts/s, ${clients} client(s)`,
              unit: "1/s",
              better: "higher",
              value: tps,
            });
          } finally {
            await db.drop();
          }
        }
      }
    }
    for (const clients of [1, 16])
      ctx.compare({ metric: `inserts/s, ${clients} client(s)`, baseline: "bare" });
  },
};
