// The database series (src/metrics/database-metrics.ts) on a real database:
// one rowflow.metrics_snapshot query serves every series of a scrape and
// every scrape within the cache period (counted through the Queryable the
// series use, on an injected clock instead of waiting); a failed query is
// counted, leaves the run series out and shows no live workers as NaN.
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";

import type { Queryable } from "../../src/db/queryable.js";
import { registerDatabaseMetrics } from "../../src/metrics/database-metrics.js";
import { useTestDatabase } from "../helpers/db.js";
import { byLabels, parsePrometheusText, samplesOf, sumOf } from "../helpers/prometheus-text.js";

const db = useTestDatabase();

function counting(target: Queryable): Queryable & { readonly snapshots: number } {
  let snapshots = 0;
  return {
    get snapshots() {
      return snapshots;
    },
    query: (text, values) => {
      if (text.includes("rowflow.metrics_snapshot")) snapshots++;
      return target.query(text, values);
    },
  };
}

describe("database metrics", () => {
  it("run one query for two scrapes inside the cache period, and a new one after it", async () => {
    await db.query(
      `select rowflow.define_workflow(name => 'dm', spec => '{"steps": [{"name": "a", "task": "dm.a"}]}')`,
    );
    await db.query(
      "select rowflow.start_runs(workflow => 'dm', inputs => array['{}'::jsonb, '{}'])",
    );
    const counted = counting(db.pool);
    let now = 1_000;
    const registry = new Registry();
    registerDatabaseMetrics(registry, { db: counted, cacheMs: 2_000, clock: () => now });

    const first = parsePrometheusText(await registry.metrics());
    expect(counted.snapshots).toBe(1); // seven series, one query
    expect(byLabels(first, "rowflow_runs_started_total", ["workflow"])).toEqual({ dm: 2 });
    expect(byLabels(first, "rowflow_runs_active", ["workflow", "status"])).toEqual({
      "dm/queued": 2,
    });
    // The two queued runs' roots are the ready backlog of task dm.a.
    expect(byLabels(first, "rowflow_ready_steps", ["task", "queue"])).toEqual({ "dm.a/": 2 });
    expect(sumOf(first, "rowflow_metrics_snapshot_duration_seconds_count")).toBe(1);

    await db.query("select rowflow.start_runs(workflow => 'dm', inputs => array['{}'::jsonb])");
    now += 1_999;
    const second = parsePrometheusText(await registry.metrics());
    expect(counted.snapshots).toBe(1);
    expect(byLabels(second, "rowflow_runs_started_total", ["workflow"])).toEqual({ dm: 2 });

    // Two scrapes at once after the period share one new query.
    now += 1;
    const [third] = await Promise.all([registry.metrics(), registry.metrics()]);
    expect(counted.snapshots).toBe(2);
    expect(
      byLabels(parsePrometheusText(third), "rowflow_runs_started_total", ["workflow"]),
    ).toEqual({ dm: 3 });
  });

  it("count a failed query, leave the database series out, and show live workers as NaN", async () => {
    const broken: Queryable = {
      query: () => Promise.reject(new Error("connection refused")),
    };
    const registry = new Registry();
    registerDatabaseMetrics(registry, { db: broken, cacheMs: 0 });
    const samples = parsePrometheusText(await registry.metrics());
    expect(sumOf(samples, "rowflow_metrics_snapshot_errors_total")).toBe(1);
    expect(samplesOf(samples, "rowflow_runs_started_total")).toEqual([]);
    expect(samplesOf(samples, "rowflow_ready_steps")).toEqual([]);
    expect(samplesOf(samples, "rowflow_workers_live").map((s) => s.value)).toEqual([NaN]);
    await registry.metrics();
    expect(
      sumOf(parsePrometheusText(await registry.metrics()), "rowflow_metrics_snapshot_errors_total"),
    ).toBe(3);
  });
});
