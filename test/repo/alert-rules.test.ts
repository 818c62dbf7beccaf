// docs/alerts/rowflow.rules.yml is a Prometheus rules file whose every
// metric is one the code registers (src/metrics/): parsed with `yaml`, each
// rule has the fields Prometheus needs, and each `rowflow_…` name in an
// expression is a registered metric (or a histogram's _bucket/_sum/_count);
// recording rules (names with a colon) are defined in the file.
import { readFile } from "node:fs/promises";

import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

import { registerDatabaseMetrics } from "../../src/metrics/database-metrics.js";
import { WorkerMetrics } from "../../src/metrics/worker-metrics.js";

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

const file = new URL("../../docs/alerts/rowflow.rules.yml", import.meta.url);
const rules = (parse(await readFile(file, "utf8")) as { groups: { name: string; rules: Rule[] }[] })
  .groups;
const all = rules.flatMap((g) => g.rules);

/** Every series name the code can expose. */
function exposedNames(): Set<string> {
  const registry = new Registry();
  new WorkerMetrics(registry, { size: 1, busy: 0 });
  registerDatabaseMetrics(registry, { db: { query: () => Promise.reject(new Error("unused")) } });
  const names = new Set<string>();
  for (const metric of registry.getMetricsAsArray()) {
    const { name, type } = metric as unknown as { name: string; type: string };
    names.add(name);
    if (type === "histogram") for (const s of ["_bucket", "_sum", "_count"]) names.add(name + s);
  }
  return names;
}

/** Metric and recording-rule names in a PromQL expression (strings, label matchers and keywords left out). */
function namesIn(expr: string): string[] {
  const bare = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""').replace(/\{[^}]*\}/g, "{}");
  const withoutGrouping = bare.replace(
    /\b(by|on|without|ignoring|group_left|group_right)\s*\([^)]*\)/g,
    "",
  );
  return [...withoutGrouping.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)]
    .map((m) => m[0])
    .filter((t) => t.startsWith("rowflow_") || t.includes(":"));
}

describe("docs/alerts/rowflow.rules.yml", () => {
  it("has the alerts docs/observability.md promises, each complete", () => {
    const alerts = all.filter((r) => r.alert !== undefined);
    expect(alerts.map((a) => a.alert)).toEqual([
      "RowflowRunsFailing",
      "RowflowReadyStepsWaiting",
      "RowflowNoLiveWorkers",
      "RowflowWorkerHeartbeatStale",
      "RowflowMetricsQueryFailing",
    ]);
    for (const alert of alerts) {
      expect(alert.expr, alert.alert).toMatch(/\S/);
      expect(alert.for, alert.alert).toMatch(/^\d+[smh]$/);
      expect(["warning", "critical"], alert.alert).toContain(alert.labels?.severity);
      expect(alert.annotations?.summary, alert.alert).toMatch(/^rowflow: /);
    }
  });

  it("names only metrics the code registers, and recording rules it defines", () => {
    const exposed = exposedNames();
    const recorded = new Set(all.flatMap((r) => (r.record ? [r.record] : [])));
    const used = all.flatMap((r) =>
      namesIn(r.expr).map((name) => ({ rule: r.alert ?? r.record, name })),
    );
    expect(used.length).toBeGreaterThan(5);
    const unknown = used.filter(({ name }) =>
      name.includes(":") ? !recorded.has(name) : !exposed.has(name),
    );
    expect(unknown).toEqual([]);
    // Every metric of the alerts the issue asks for is among them.
    const names = new Set(used.map((u) => u.name));
    for (const name of [
      "rowflow_runs_finished_total",
      "rowflow_oldest_ready_step_age_seconds",
      "rowflow_workers_live",
      "rowflow_worker_heartbeat_age_seconds",
    ])
      expect(names, name).toContain(name);
  });

  it("would catch a misspelt metric", () => {
    expect(namesIn('max by (task) (rowflow_oldest_ready_age{queue="x"}) > 300')).toEqual([
      "rowflow_oldest_ready_age",
    ]);
    expect(exposedNames().has("rowflow_oldest_ready_age")).toBe(false);
  });
});
