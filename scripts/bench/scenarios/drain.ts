import { execute } from "../business-table.js";
import { runChild } from "../child.js";
import { dbosSettings } from "../peer-settings.js";
import { prepareDbos, prepareGraphileDiamond, preparePgBossDiamond } from "../peers.js";
import type { Scenario } from "../scenario.js";
import { defineWorkflow, diamondSpec } from "../workflows.js";

export interface DrainResult {
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
export async function startDiamondRuns(url: string, runs: number): Promise<void> {
  await defineWorkflow(url, "bench-diamond", diamondSpec);
  await execute(
    url,
    `select count(*) from rowflow.start_runs(workflow => 'bench-diamond',
       inputs => (select array_agg(jsonb_build_object('i', i)) from generate_series(1, $1::int) as i))`,
    [runs],
  );
}

/** The baseline of "runs/s": the peers' ratios read against pg-boss's batched diamond. */
const runsBaseline = "pg-boss (batched)";

export const drain: Scenario = {
  name: "drain",
  description:
    "pre-queued diamond runs (a → b, c → d), no-op handlers, worker in a child process: rowflow and " +
    "three peers' diamonds (graphile-worker by hand, pg-boss batched, DBOS), and raw graphile-worker " +
    "no-op jobs. executions/s (4 per run; raw graphile-worker: jobs/s) has the ratio to raw " +
    `graphile-worker; runs/s (diamonds only) the ratio to ${runsBaseline}`,
  async run(ctx) {
    const runs = ctx.sizes.drainRuns;
    const steps = runs * 4;
    const { concurrency, localQueueSize } = ctx.worker;
    ctx.log(
      `  ${runs} runs = ${steps} steps; concurrency ${concurrency}, local queue ${localQueueSize}`,
    );
    // Each variant: how its database gets the work, and the child that drains
    // it. `diamond`: it drains `runs` diamonds (else `steps` no-op jobs).
    const variants = [
      {
        name: "rowflow",
        diamond: true,
        prepare: (url: string) => startDiamondRuns(url, runs),
        child: "rowflow-drain.ts",
      },
      {
        name: "graphile-worker",
        diamond: false,
        prepare: (url: string) => queueNoopJobs(url, steps),
        child: "raw-graphile-drain.ts",
      },
      {
        name: "graphile-worker diamond (hand-built)",
        diamond: true,
        prepare: (url: string) => prepareGraphileDiamond(url, runs),
        child: "graphile-diamond-drain.ts",
      },
      {
        name: "pg-boss (batched)",
        diamond: true,
        prepare: (url: string) => preparePgBossDiamond(url, runs),
        child: "pg-boss-drain.ts",
      },
      {
        name: "DBOS",
        diamond: true,
        prepare: (url: string) =>
          prepareDbos(
            url,
            concurrency,
            dbosSettings.diamondWorkflow,
            Array.from({ length: runs }, (_, i) => ({ run: i + 1 })),
          ),
        child: "dbos-drain.ts",
      },
    ];
    let rep = 0;
    const record = (v: (typeof variants)[number], result: DrainResult) => {
      const executionsPerSecond = ((result.executed - 1) * 1000) / result.firstToLastMs;
      ctx.record({
        variant: v.name,
        metric: "executions/s",
        unit: "1/s",
        better: "higher",
        rep,
        value: executionsPerSecond,
      });
      if (v.diamond) {
        ctx.record({
          variant: v.name,
          metric: "runs/s",
          unit: "1/s",
          better: "higher",
          rep,
          value: executionsPerSecond / 4,
        });
      }
      ctx.record({
        variant: v.name,
        metric: "worker peak RSS",
        unit: "MB",
        better: "lower",
        rep: 0,
        value: result.maxRssMb,
      });
    };
    const runVariant = async (v: (typeof variants)[number]) => {
      const db = await ctx.server.freshDatabase(v.name);
      try {
        await v.prepare(db.url);
        const args = [db.url, String(steps), String(concurrency), String(localQueueSize)];
        record(v, await db.measure(() => runChild<DrainResult>(v.child, args)));
      } finally {
        await db.drop();
      }
    };
    for (rep = 1; rep <= ctx.sizes.reps; rep++) {
      for (const v of variants) {
        if (!ctx.wants(v.name) && v.name !== "graphile-worker" && v.name !== runsBaseline) continue;
        ctx.log(`  rep ${rep}/${ctx.sizes.reps}: ${v.name}`);
        await runVariant(v);
      }
    }
    ctx.compare({ metric: "executions/s", baseline: "graphile-worker" });
    ctx.compare({ metric: "runs/s", baseline: runsBaseline });
  },
};
