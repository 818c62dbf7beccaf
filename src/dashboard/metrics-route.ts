// GET /metrics on the dashboard: the database-derived Prometheus series
// (src/metrics/database-metrics.ts: run counts, ready steps, worker
// heartbeats), from one cached rowflow.metrics_snapshot query per 2 s on the
// dashboard's pool. Like the pages, it is a read and needs no token even
// beyond localhost (the token guards actions only): it shows counts, task
// and workflow names and worker ids, less than the runs page shows
// (docs/observability.md, "Scraping").
import type { Hono } from "hono";
import { Registry } from "prom-client";

import type { Queryable } from "../db/queryable.js";
import { registerDatabaseMetrics } from "../metrics/database-metrics.js";

export function registerMetricsRoute(app: Hono, db: Queryable): void {
  const registry = new Registry();
  registerDatabaseMetrics(registry, { db });
  app.get("/metrics", async (c) =>
    c.body(await registry.metrics(), 200, { "content-type": registry.contentType }),
  );
}
