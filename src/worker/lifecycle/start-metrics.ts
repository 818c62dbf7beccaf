/**
 * The worker's metrics at start (the `metrics` option): the database-derived
 * series on the worker's pool (unless `database: false`), then the /metrics
 * endpoint (with `port`). stop-worker.ts closes the endpoint before the pool.
 */
import { registerDatabaseMetrics } from "../../metrics/database-metrics.js";
import { serveMetrics } from "../../metrics/metrics-server.js";
import type { WorkerState } from "../worker-state.js";

/** Registers and serves the metrics; rejects when the endpoint cannot listen (the start fails). */
export async function startMetrics(state: WorkerState): Promise<void> {
  const { metrics } = state;
  const settings = state.settings.metrics;
  if (!metrics || !settings) return;
  if (settings.database) {
    registerDatabaseMetrics(metrics.registry, {
      db: state.db.pool,
      heartbeatTimeoutMs: state.settings.heartbeatTimeout,
      cacheMs: settings.cacheMs,
    });
  }
  if (settings.port !== undefined) {
    state.metricsServer = await serveMetrics({
      registry: metrics.registry,
      host: settings.host,
      port: settings.port,
    });
    state.logger.info(`metrics at ${state.metricsServer.url}`);
  }
}
