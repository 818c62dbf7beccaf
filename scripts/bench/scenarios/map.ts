import { execute } from "../business-table.js";
import { runChild } from "../child.js";
import type { Scenario } from "../scenario.js";
import { defineWorkflow } from "../workflows.js";
import { type DrainResult, startDiamondRuns } from "./drain.js";

/** One run of a map step over `elements` numbers (docs/spec.md, Map steps), no-op elements. */
async function startMapRun(url: string, elements: number): Promise<void> {
  await defineWorkflow(url, "bench-map", {
    steps: [{ name: "each", task: "noop", map: "$.input.items" }],
  });
  await execute(
    url,
    `select rowflow.start_run(workflow => 'bench-map',
       input => jsonb_build_object('items', (select jsonb_agg(i) from generate_series(1, $1::int) as i)))`,
    [elements],
  );
}

const baseline = "rowflow drain (diamonds)";

export const map: Scenario = {
  name: "map",
  description:
    "one run whose map step runs 10,000 no-op elements (each its own step run and graphile job) " +
    "against the plain drain of the same number of steps as diamond runs (a → b, c → d); worker in a " +
    `child process. executions/s, with the ratio to ${baseline}`,
  async run(ctx) {
    const elements = Math.min(10_000, ctx.sizes.drainRuns * 4);
    const { concurrency, localQueueSize } = ctx.worker;
    ctx.log(`  ${elements} elements; concurrency ${concurrency}, local queue ${localQueueSize}`);
    const variants = [
      { name: "rowflow map", prepare: (url: string) => startMapRun(url, elements) },
      { name: baseline, prepare: (url: string) => startDiamondRuns(url, elements / 4) },
    ];
    for (let rep = 1; rep <= ctx.sizes.reps; rep++) {
      for (const v of variants) {
        if (!ctx.wants(v.name) && v.name !== baseline) continue;
        ctx.log(`  rep ${rep}/${ctx.sizes.reps}: ${v.name}`);
        const db = await ctx.server.freshDatabase(v.name);
        try {
          await v.prepare(db.url);
          const args = [db.url, String(elements), String(concurrency), String(localQueueSize)];
          const result = await db.measure(() => runChild<DrainResult>("rowflow-drain.ts", args));
          ctx.record({
            variant: v.name,
            metric: "executions/s",
            unit: "1/s",
            better: "higher",
            rep,
            value: ((result.executed - 1) * 1000) / result.firstToLastMs,
          });
        } finally {
          await db.drop();
        }
      }
    }
    ctx.compare({ metric: "executions/s", baseline });
  },
};
