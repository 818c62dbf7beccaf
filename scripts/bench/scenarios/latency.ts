import pg from "pg";

import { startChild } from "../child.js";
import type { Scenario, ScenarioContext } from "../scenario.js";
import { percentile } from "../stats.js";
import { chainSpec, defineWorkflow } from "../workflows.js";

interface LatencyResult {
  first: number[];
  hop: number[];
}

const now = () => performance.timeOrigin + performance.now();

/**
 * Open-loop arrivals: request i is sent at t0 + i / rate whatever happened to
 * the earlier ones (from a pool, so a slow commit does not delay the next
 * send), and latency counts from that scheduled time. Returns each send's
 * scheduled time → commit acknowledged, in ms: the part of "commit → first
 * start" spent before the worker can know.
 */
async function sendOpenLoop(
  url: string,
  sql: string,
  count: number,
  rate: number,
): Promise<number[]> {
  const pool = new pg.Pool({ connectionString: url, max: 16 });
  try {
    // Connect every client first: a connection opened mid-run (SCRAM
    // authentication takes milliseconds) would count as commit latency.
    const clients = await Promise.all(Array.from({ length: 16 }, () => pool.connect()));
    for (const client of clients) client.release();
    const t0 = now() + 50;
    const sends: Promise<number>[] = [];
    for (let i = 0; i < count; i++) {
      const scheduled = t0 + (i * 1000) / rate;
      const wait = scheduled - now();
      if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
      sends.push(pool.query(sql, [scheduled]).then(() => now() - scheduled));
    }
    return await Promise.all(sends);
  } finally {
    await pool.end();
  }
}

async function measure(ctx: ScenarioContext, variant: "rowflow" | "graphile-worker", rep: number) {
  const db = await ctx.server.freshDatabase(variant);
  try {
    if (variant === "rowflow") {
      const spec = chainSpec(["a", "b", "c"]);
      for (const step of spec.steps) step.task = "chain-step";
      await defineWorkflow(db.url, "bench-chain", spec);
    }
    const { concurrency, localQueueSize } = ctx.worker;
    const child = startChild<LatencyResult>("latency-worker.ts", [
      variant,
      db.url,
      String(ctx.sizes.latencyRuns),
      String(concurrency),
      String(localQueueSize),
    ]);
    await child.ready;
    const { acks, result } = await db.measure(async () => {
      const acks = await sendOpenLoop(
        db.url,
        variant === "rowflow"
          ? "select rowflow.start_run(workflow => 'bench-chain', input => jsonb_build_object('t', $1::float8))"
          : "select graphile_worker.add_job('noop', json_build_object('t', $1::float8))",
        ctx.sizes.latencyRuns,
        ctx.sizes.latencyRate,
      );
      return { acks, result: await child.result };
    });
    const series: Array<[string, number[]]> = [
      ["commit → first start", result.first],
      ["send → commit acknowledged", acks],
    ];
    if (variant === "rowflow") series.push(["step end → dependent start", result.hop]);
    for (const [metric, values] of series) {
      for (const p of [50, 95, 99]) {
        ctx.record({
          variant,
          rep,
          metric: `${metric} p${p}`,
          unit: "ms",
          better: "lower",
          value: percentile(values, p),
        });
      }
    }
  } finally {
    await db.drop();
  }
}

export const latency: Scenario = {
  name: "latency",
  description:
    "open-loop arrivals of a 3-step chain: commit → first handler start, handler end → dependent start",
  async run(ctx) {
    ctx.log(`  ${ctx.sizes.latencyRuns} runs at ${ctx.sizes.latencyRate}/s`);
    for (let rep = 1; rep <= ctx.sizes.reps; rep++) {
      for (const variant of ["rowflow", "graphile-worker"] as const) {
        ctx.log(`  rep ${rep}/${ctx.sizes.reps}: ${variant}`);
        await measure(ctx, variant, rep);
      }
    }
    for (const p of [50, 95, 99])
      ctx.compare({ metric: `commit → first start p${p}`, baseline: "graphile-worker" });
  },
};
