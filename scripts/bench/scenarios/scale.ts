import { type Child, startChild } from "../child.js";
import { withClient } from "../pg-client.js";
import type { Scenario } from "../scenario.js";
import { startDiamondRuns } from "./drain.js";

interface ScaleWorkerResult {
  executed: number;
  first: number;
  last: number;
  maxRssMb: number;
}

/** How many worker processes each variant runs on the same database. */
const processCounts = [1, 2, 4];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls the database until no run is queued or running (every 20 ms, with a
 * deadline), and samples its connections meanwhile. Returns the peak number of
 * backends connected to the database besides this poller's own.
 */
async function waitForDrain(url: string, deadlineMs: number): Promise<number> {
  const deadline = Date.now() + deadlineMs;
  let peak = 0;
  return withClient(url, async (client) => {
    for (;;) {
      const { rows } = await client.query<{ unfinished: number; connections: number }>(
        `select (select count(*)::int from rowflow.runs where status in ('queued', 'running')) as unfinished,
                (select count(*)::int - 1 from pg_stat_activity where datname = current_database()) as connections`,
      );
      const row = rows[0];
      peak = Math.max(peak, row?.connections ?? 0);
      if (row?.unfinished === 0) return peak;
      if (Date.now() > deadline) {
        throw new Error(`scale: ${row?.unfinished} runs still unfinished after ${deadlineMs} ms`);
      }
      await sleep(20);
    }
  });
}

export const scale: Scenario = {
  name: "scale",
  description:
    "the drain's diamond runs with 1, 2 and 4 rowflow worker processes on the same database " +
    "(each with the bench's concurrency and local queue): executions/s from the first handler " +
    "call of any process to the last, the ratio to one process; peak connections per process",
  async run(ctx) {
    const runs = ctx.sizes.drainRuns;
    const { concurrency, localQueueSize } = ctx.worker;
    ctx.log(
      `  ${runs} runs = ${runs * 4} steps; per process: concurrency ${concurrency}, local queue ${localQueueSize}`,
    );
    const baseline = `${processCounts[0]} process`;
    const variantName = (n: number) => (n === 1 ? baseline : `${n} processes`);
    const runVariant = async (processes: number, rep: number) => {
      const variant = variantName(processes);
      const db = await ctx.server.freshDatabase(variant);
      const children: Child<ScaleWorkerResult>[] = [];
      try {
        const args = [db.url, String(concurrency), String(localQueueSize)];
        for (let i = 0; i < processes; i++) children.push(startChild("scale-worker.ts", args));
        await Promise.all(children.map((c) => c.ready));
        // Every process is listening before the runs exist: the start's
        // NOTIFY wakes them all at once and none starts late.
        const { results, connections } = await db.measure(async () => {
          await startDiamondRuns(db.url, runs);
          const connections = await waitForDrain(db.url, 600_000);
          for (const child of children) child.kill("SIGTERM");
          return { results: await Promise.all(children.map((c) => c.result)), connections };
        });
        const executed = results.reduce((sum, r) => sum + r.executed, 0);
        if (executed < runs * 4) {
          throw new Error(`scale: ${executed} executions for ${runs * 4} steps`);
        }
        const first = Math.min(...results.filter((r) => r.executed > 0).map((r) => r.first));
        const last = Math.max(...results.map((r) => r.last));
        const sample = { variant, rep } as const;
        ctx.record({
          ...sample,
          metric: "executions/s",
          unit: "1/s",
          better: "higher",
          value: ((executed - 1) * 1000) / (last - first),
        });
        ctx.record({
          ...sample,
          metric: "peak connections per process",
          unit: "",
          better: "lower",
          value: connections / processes,
        });
        ctx.record({
          ...sample,
          metric: "busiest process's share of executions",
          unit: "%",
          better: "lower",
          value: (100 * Math.max(...results.map((r) => r.executed))) / executed,
        });
        ctx.record({
          ...sample,
          metric: "worker peak RSS",
          unit: "MB",
          better: "lower",
          value: Math.max(...results.map((r) => r.maxRssMb)),
        });
      } finally {
        for (const child of children) child.kill("SIGTERM");
        await Promise.allSettled(children.map((c) => c.result));
        await db.drop();
      }
    };
    for (let rep = 1; rep <= ctx.sizes.reps; rep++) {
      for (const processes of processCounts) {
        ctx.log(`  rep ${rep}/${ctx.sizes.reps}: ${variantName(processes)}`);
        await runVariant(processes, rep);
      }
    }
    ctx.compare({ metric: "executions/s", baseline });
  },
};
