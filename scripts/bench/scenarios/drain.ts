import { execute } from "../business-table.js";
import { runChild } from "../child.js";
import type { Scenario } from "../scenario.js";
import { defineWorkflow, diamondSpec } from "../workflows.js";

interface DrainResult {
  executed: number;
  firstToLastMs: number;
  maxRssMb: number;
}

/** Queues `count` no-op graphile-worker jobs with one add_jobs call. */
async function queueNoopJobs(url: string, count: number): Promise<void> {
  await execute(
    url,
    `select count(*) from graphile_worker.add_jobs(
       (select array_agg(row('noop', '{}'::json, null, null, null, null, null, null)::graphile_worker.job_spec)
          from generate_series(1, $1::int)))`,
    [count],
  );
}

/** Starts `runs` diamond runs with one start_runs call (the runs' root jobs are queued). */
async function startDiamondRuns(url: string, runs: number): Promise<void> {
  await defineWorkflow(url, "bench-diamond", diamondSpec);
  await execute(
    url,
    `select count(*) from rowflow.start_runs(workflow => 'bench-diamond',
       inputs => (select array_agg(jsonb_build_object('i', i)) from generate_series(1, $1::int) as i))`,
    [runs],
  );
}

export const drain: Scenario = {
  name: "drain",
  description:
    "pre-started diamond runs (a → b, c → d), no-op handlers: step executions/s vs raw graphile-worker no-op jobs/s",
  async run(ctx) {
    const steps = ctx.sizes.drainRuns * 4;
    const { concurrency, localQueueSize } = ctx.worker;
    ctx.log(
      `  ${ctx.sizes.drainRuns} runs = ${steps} steps; concurrency ${concurrency}, local queue ${localQueueSize}`,
    );
    const variants = [
      {
        name: "rowflow",
        run: async () => {
          const db = await ctx.server.freshDatabase("rowflow");
          try {
            await startDiamondRuns(db.url, ctx.sizes.drainRuns);
            const result = await db.measure(() =>
              runChild<DrainResult>("rowflow-drain.ts", [
                db.url,
                String(steps),
                String(concurrency),
                String(localQueueSize),
              ]),
            );
            record("rowflow", result);
          } finally {
            await db.drop();
          }
        },
      },
      {
        name: "graphile-worker",
        run: async () => {
          const db = await ctx.server.freshDatabase("graphile-worker");
          try {
            await queueNoopJobs(db.url, steps);
            const result = await db.measure(() =>
              runChild<DrainResult>("raw-graphile-drain.ts", [
                db.url,
                String(steps),
                String(concurrency),
                String(localQueueSize),
              ]),
            );
            record("graphile-worker", result);
          } finally {
            await db.drop();
          }
        },
      },
    ];
    let rep = 0;
    const record = (variant: string, result: DrainResult) => {
      ctx.record({
        variant,
        metric: "executions/s",
        unit: "1/s",
        better: "higher",
        rep,
        value: ((result.executed - 1) * 1000) / result.firstToLastMs,
      });
      ctx.record({
        variant,
        metric: "worker peak RSS",
        unit: "MB",
        better: "lower",
        rep: 0,
        value: result.maxRssMb,
      });
    };
    for (rep = 1; rep <= ctx.sizes.reps; rep++) {
      for (const v of variants) {
        ctx.log(`  rep ${rep}/${ctx.sizes.reps}: ${v.name}`);
        await v.run();
      }
    }
    ctx.compare({ metric: "executions/s", baseline: "graphile-worker" });
  },
};
