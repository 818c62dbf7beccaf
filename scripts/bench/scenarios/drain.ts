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
    // Each variant: how its database gets the work, and the child that drains it.
    const variants = [
      {
        name: "rowflow",
        prepare: (url: string) => startDiamondRuns(url, ctx.sizes.drainRuns),
        child: "rowflow-drain.ts",
      },
      {
        name: "graphile-worker",
        prepare: (url: string) => queueNoopJobs(url, steps),
        child: "raw-graphile-drain.ts",
      },
    ];
    const runVariant = async (v: (typeof variants)[number]) => {
      const db = await ctx.server.freshDatabase(v.name);
      try {
        await v.prepare(db.url);
        const args = [db.url, String(steps), String(concurrency), String(localQueueSize)];
        record(v.name, await db.measure(() => runChild<DrainResult>(v.child, args)));
      } finally {
        await db.drop();
      }
    };
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
        await runVariant(v);
      }
    }
    ctx.compare({ metric: "executions/s", baseline: "graphile-worker" });
  },
};
