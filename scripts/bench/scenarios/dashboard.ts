import { startDashboard } from "../../../src/dashboard/start-dashboard.js";
import { fillRuns } from "../fill-runs.js";
import type { Scenario } from "../scenario.js";
import { percentile } from "../stats.js";

/** Requests per page and repetition (the first two of each page are not counted). */
const requestsPerPage = 10;
const target = 200;

/**
 * The Runs page with `dashboardRuns` runs in the tables (1,000,000 by
 * default and with --full, 2,000 with --smoke), each page fetched whole
 * over HTTP (HTML, every statement behind it) from the dashboard, one
 * request at a time: p50 and p95 per page beside the 200 ms target of
 * issue #19, and the Workflows page (its failure-rate chart).
 */
export const dashboard: Scenario = {
  name: "dashboard",
  description:
    "the dashboard's Runs page over HTTP with many runs in the tables: p50/p95 per page vs 200 ms",
  fullOnly: true,
  async run(ctx) {
    const runs = ctx.sizes.dashboardRuns;
    const db = await ctx.server.freshDatabase("dashboard");
    try {
      const filling = performance.now();
      await fillRuns(db.url, runs, ctx.log);
      ctx.log(
        `  filled ${runs.toLocaleString("en-US")} runs in ${((performance.now() - filling) / 1000).toFixed(1)} s`,
      );
      const server = await startDashboard({ connectionString: db.url, port: 0 });
      try {
        const pages: Array<[string, string]> = [
          ["default (newest 50)", ""],
          ["status=failed", "?status=failed"],
          ["workflow=dash-9 (1% of runs)", "?workflow=dash-9"],
          ["status with no runs (compensating)", "?status=compensating"],
          ["next page", `?before=${runs - 50}`],
          ["deep page (middle of the table)", `?before=${Math.floor(runs / 2)}`],
          ["input search, text (q=order 4242)", "?q=order%204242"],
          [
            'input search, JSON (q={"customerId":7})',
            `?q=${encodeURIComponent('{"customerId":7}')}`,
          ],
          ["workflows page", "workflows"],
        ];
        for (let rep = 1; rep <= ctx.sizes.reps; rep++) {
          await db.measure(async () => {
            for (const [variant, path] of pages) {
              if (!ctx.wants(variant)) continue;
              const times: number[] = [];
              for (let i = 0; i < requestsPerPage + 2; i++) {
                const start = performance.now();
                const res = await fetch(`${server.url}${path}`);
                const body = await res.text();
                if (res.status !== 200)
                  throw new Error(`${path}: ${res.status} ${body.slice(0, 200)}`);
                if (i >= 2) times.push(performance.now() - start);
              }
              const p50 = percentile(times, 50);
              const p95 = percentile(times, 95);
              ctx.log(
                `  rep ${rep}: ${variant}: p50 ${p50.toFixed(1)} ms, p95 ${p95.toFixed(1)} ms (target ${target} ms${p95 > target ? ": MISSED" : ""})`,
              );
              for (const [metric, value] of [
                ["runs page p50", p50],
                ["runs page p95", p95],
              ] as const) {
                ctx.record({ variant, rep, metric, unit: "ms", better: "lower", value });
              }
            }
          });
        }
      } finally {
        await server.close();
      }
    } finally {
      await db.drop();
    }
  },
};
