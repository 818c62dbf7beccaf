/**
 * The database-derived series, shared by the worker's and the dashboard's
 * /metrics: each is a prom-client metric whose `collect` reads one cached
 * answer of `rowflow.metrics_snapshot` (snapshot-cache.ts), so a scrape
 * costs at most one query, however many series it returns, and scrapes
 * within `cacheMs` of each other share it. docs/observability.md lists them.
 *
 * The run counters are the rows of rowflow.runs now: a purge (purge_runs,
 * retention) lowers them and Prometheus reads the drop as a counter reset
 * (docs/observability.md, "Counters from the tables").
 */
import { Counter, Gauge, Histogram, type Registry } from "prom-client";

import { type MetricsSnapshot, metricsSnapshot } from "../db/metrics/metrics-snapshot.js";
import type { Queryable } from "../db/queryable.js";
import { callBuckets } from "./buckets.js";
import { SnapshotCache } from "./snapshot-cache.js";

/** Options of `registerDatabaseMetrics`. */
export interface DatabaseMetricsOptions {
  /** Where `rowflow.metrics_snapshot` runs (a worker's, an operator's or a viewer's pool). */
  db: Queryable;
  /** A worker silent for longer is not live, in ms. (Default: 30000, the workers' default heartbeatTimeout) */
  heartbeatTimeoutMs?: number | undefined;
  /** How long one answer serves scrapes, in ms. (Default: 2000) */
  cacheMs?: number | undefined;
  /** Milliseconds clock of the cache (tests). (Default: performance.now) */
  clock?: (() => number) | undefined;
}

const finished: ReadonlySet<string> = new Set(["succeeded", "failed", "cancelled"]);

/** Registers the database-derived series in `registry`. */
export function registerDatabaseMetrics(registry: Registry, options: DatabaseMetricsOptions): void {
  const registers = [registry];
  // The two series about the query itself are read after this scrape's query settled.
  const errors = new Counter({
    name: "rowflow_metrics_snapshot_errors_total",
    help: "Scrapes whose rowflow.metrics_snapshot query failed (the database series are absent from those scrapes).",
    registers,
    async collect() {
      await current();
    },
  });
  const queryTime = new Histogram({
    name: "rowflow_metrics_snapshot_duration_seconds",
    help: "Time of the rowflow.metrics_snapshot query behind the database series (one per cache period).",
    buckets: [...callBuckets],
    registers,
    async collect() {
      await current();
    },
  });
  const cache = new SnapshotCache<MetricsSnapshot>(
    async () => {
      const stop = queryTime.startTimer();
      try {
        return await metricsSnapshot(options.db, {
          heartbeatTimeoutMs: options.heartbeatTimeoutMs ?? 30_000,
        });
      } finally {
        stop();
      }
    },
    options.cacheMs ?? 2_000,
    options.clock,
  );
  // Every metric's collect asks; the first one of a scrape fetches, the others share it.
  let failed: Promise<MetricsSnapshot> | undefined;
  const current = async (): Promise<MetricsSnapshot | undefined> => {
    const pending = cache.get();
    try {
      return await pending;
    } catch {
      if (failed !== pending) errors.inc();
      failed = pending;
      return undefined;
    }
  };

  new Counter({
    name: "rowflow_runs_started_total",
    help: "Runs started, by workflow: the rows of rowflow.runs (purged runs no longer count).",
    labelNames: ["workflow"],
    registers,
    async collect() {
      const s = await current();
      this.reset();
      const byWorkflow = new Map<string, number>();
      for (const [workflow, , n] of s?.runs ?? [])
        byWorkflow.set(workflow, (byWorkflow.get(workflow) ?? 0) + n);
      for (const [workflow, n] of byWorkflow) this.inc({ workflow }, n);
    },
  });
  new Counter({
    name: "rowflow_runs_finished_total",
    help: "Runs finished, by workflow and status (succeeded, failed, cancelled): the rows of rowflow.runs (purged runs no longer count).",
    labelNames: ["workflow", "status"],
    registers,
    async collect() {
      const s = await current();
      this.reset();
      // Every finished status of every workflow with runs, 0 included: a
      // workflow's first failure must be a change from 0, not a new series
      // (an `x - x offset 15m` rule sees nothing in a series that is new).
      for (const [workflow] of s?.runs ?? [])
        for (const status of finished) this.inc({ workflow, status }, 0);
      for (const [workflow, status, n] of s?.runs ?? [])
        if (finished.has(status)) this.inc({ workflow, status }, n);
    },
  });
  new Gauge({
    name: "rowflow_runs_active",
    help: "Runs not finished, by workflow and status (queued, running, compensating).",
    labelNames: ["workflow", "status"],
    registers,
    async collect() {
      const s = await current();
      this.reset();
      for (const [workflow, status, n] of s?.runs ?? [])
        if (!finished.has(status)) this.set({ workflow, status }, n);
    },
  });
  new Gauge({
    name: "rowflow_ready_steps",
    help: "Steps ready to run that no handler runs yet (due jobs, steps reserved in a worker's local queue, root steps of queued runs), by task and graphile queue ('' for none).",
    labelNames: ["task", "queue"],
    registers,
    async collect() {
      const s = await current();
      this.reset();
      for (const [task, queue, n] of s?.ready ?? []) this.set({ task, queue }, n);
    },
  });
  new Gauge({
    name: "rowflow_oldest_ready_step_age_seconds",
    help: "How long the longest-waiting ready step has been ready, by task and queue (absent when none is ready).",
    labelNames: ["task", "queue"],
    registers,
    async collect() {
      const s = await current();
      this.reset();
      for (const [task, queue, , age] of s?.ready ?? []) this.set({ task, queue }, age);
    },
  });
  new Gauge({
    name: "rowflow_worker_heartbeat_age_seconds",
    help: "Seconds since each registered worker's last heartbeat (rowflow.workers), by worker id.",
    labelNames: ["worker"],
    registers,
    async collect() {
      const s = await current();
      this.reset();
      for (const [worker, age] of s?.workers ?? []) this.set({ worker }, age);
    },
  });
  new Gauge({
    name: "rowflow_workers_live",
    help: "Registered workers whose heartbeat is within the heartbeat timeout (NaN when the query failed).",
    registers,
    async collect() {
      const s = await current();
      // NaN, not 0, when the database did not answer: "no live workers" must not fire then.
      this.set(s ? s.workers.filter(([, , alive]) => alive).length : NaN);
    },
  });
}
