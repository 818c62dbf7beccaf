import { runChild } from "../child.js";
import { withClient } from "../pg-client.js";
import type { Scenario, ScenarioContext } from "../scenario.js";
import { defineWorkflow } from "../workflows.js";

interface DrainResult {
  executed: number;
  firstToLastMs: number;
}

const oneStep = { steps: [{ name: "a", task: "noop" }] };

/**
 * Fills the tables with `runs` finished runs the way production would have
 * them: started by start_runs and claimed (claim_runs writes their step rows
 * and jobs; 100k per call), then marked succeeded in bulk (running 1M no-op
 * handlers would take longer than the measurement itself).
 */
async function addHistory(url: string, runs: number, log: (line: string) => void): Promise<void> {
  await withClient(url, async (client) => {
    for (let done = 0; done < runs;) {
      const n = Math.min(100_000, runs - done);
      await client.query(
        `select count(*) from rowflow.start_runs(workflow => 'bench-history',
           inputs => (select array_agg(jsonb_build_object('i', i)) from generate_series(1, $1::int) as i))`,
        [n],
      );
      await client.query("select rowflow.claim_runs(max_runs => $1)", [n]);
      done += n;
      log(`    history: ${done}/${runs} runs`);
    }
    await client.query("delete from graphile_worker._private_jobs");
    await client.query(
      `update rowflow.step_runs set status = 'succeeded', attempt = 1, started_at = now(), finished_at = now(), output = '{}'
        where status <> 'succeeded'`,
    );
    await client.query(
      "update rowflow.runs set status = 'succeeded', finished_at = now(), updated_at = now() where status <> 'succeeded'",
    );
    await client.query("vacuum analyze");
  });
}

async function measure(ctx: ScenarioContext, variant: string, history: number, rep: number) {
  const db = await ctx.server.freshDatabase(variant);
  try {
    await defineWorkflow(db.url, "bench-history", oneStep);
    if (history > 0) await addHistory(db.url, history, ctx.log);
    const n = ctx.sizes.historyMeasureRuns;
    const { startMs, drained } = await db.measure(async () => {
      const startMs = await withClient(db.url, async (client) => {
        const start = performance.now();
        // One run per call, as an application starts them.
        for (let i = 0; i < n; i++) {
          await client.query(
            "select rowflow.start_run(workflow => 'bench-history', input => $1::jsonb)",
            [JSON.stringify({ i })],
          );
        }
        return performance.now() - start;
      });
      const drained = await runChild<DrainResult>("rowflow-drain.ts", [
        db.url,
        String(n),
        String(ctx.worker.concurrency),
        String(ctx.worker.localQueueSize),
      ]);
      return { startMs, drained };
    });
    ctx.record({
      variant,
      rep,
      metric: "start_run calls/s",
      unit: "1/s",
      better: "higher",
      value: (n * 1000) / startMs,
    });
    ctx.record({
      variant,
      rep,
      metric: "step executions/s",
      unit: "1/s",
      better: "higher",
      value: ((drained.executed - 1) * 1000) / drained.firstToLastMs,
    });
  } finally {
    await db.drop();
  }
}

export const history: Scenario = {
  name: "history",
  description:
    "start_run and execution throughput with many finished runs in the tables vs empty tables",
  fullOnly: true,
  async run(ctx) {
    const historyRuns = ctx.sizes.historyRuns;
    const full = `${historyRuns.toLocaleString("en-US")} finished runs`;
    for (let rep = 1; rep <= ctx.sizes.reps; rep++) {
      for (const [variant, runs] of [
        ["empty", 0],
        [full, historyRuns],
      ] as const) {
        ctx.log(`  rep ${rep}/${ctx.sizes.reps}: ${variant}`);
        await measure(ctx, variant, runs, rep);
      }
    }
    ctx.compare({ metric: "start_run calls/s", baseline: "empty" });
    ctx.compare({ metric: "step executions/s", baseline: "empty" });
  },
};
