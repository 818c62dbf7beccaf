// The dashboard's GET /metrics: the database series (src/metrics/) as the
// dashboard's read-only viewer connection sees them, equal to the tables,
// with no token even when the dashboard was given one (reads need none).
import { afterEach, expect, it } from "vitest";

import { type Dashboard, startDashboard } from "../../src/dashboard/start-dashboard.js";
import { useTestDatabase } from "../helpers/db.js";
import { byLabels, samplesOf, scrape } from "../helpers/prometheus-text.js";
import { useLoginRoles } from "../helpers/roles.js";
import { define } from "../sql/support.js";

const db = useTestDatabase();
const loginRole = useLoginRoles(db);
let dashboard: Dashboard | undefined;
afterEach(async () => {
  await dashboard?.close();
  dashboard = undefined;
});

it("serves the database series to Prometheus as a viewer, without a token", async () => {
  await define(db.pool, "dash-m", { steps: [{ name: "a", task: "dash.a" }] });
  await db.query(
    "select rowflow.start_runs(workflow => 'dash-m', inputs => array['{}'::jsonb, '{}', '{}'])",
  );
  await db.query(
    `insert into rowflow.workers (id, hostname, pid, concurrency, started_at, heartbeat_at)
     values ('w-live', 'h', 1, 4, now() - interval '1 minute', now() - interval '2 seconds'),
            ('w-stale', 'h', 2, 4, now() - interval '1 minute', now() - interval '45 seconds')`,
  );
  const viewer = await loginRole("viewer", { memberOf: ["rowflow_viewer"] });
  dashboard = await startDashboard({ connectionString: viewer.url, port: 0, token: "secret" });
  const response = await fetch(`${dashboard.url}metrics`);
  expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  const samples = await scrape(`${dashboard.url}metrics`);
  expect(byLabels(samples, "rowflow_runs_started_total", ["workflow"])).toEqual({ "dash-m": 3 });
  expect(byLabels(samples, "rowflow_runs_active", ["workflow", "status"])).toEqual({
    "dash-m/queued": 3,
  });
  expect(byLabels(samples, "rowflow_runs_finished_total", ["workflow", "status"])).toEqual({
    "dash-m/succeeded": 0,
    "dash-m/failed": 0,
    "dash-m/cancelled": 0,
  });
  expect(byLabels(samples, "rowflow_ready_steps", ["task", "queue"])).toEqual({ "dash.a/": 3 });
  expect(samplesOf(samples, "rowflow_workers_live").map((s) => s.value)).toEqual([1]);
  const ages = byLabels(samples, "rowflow_worker_heartbeat_age_seconds", ["worker"]);
  expect(Object.keys(ages)).toEqual(["w-live", "w-stale"]);
  expect(ages["w-live"]).toBeGreaterThanOrEqual(2);
  expect(ages["w-stale"]).toBeGreaterThanOrEqual(45);
  // The worker's in-process series are the worker's own: not here.
  expect(samplesOf(samples, "rowflow_step_attempts_total")).toEqual([]);
});
