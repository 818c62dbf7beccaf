import type { Registry } from "prom-client";

import type { Logger } from "../definition/logger.js";
import type { Schedule } from "../definition/schedule.js";
import {
  type AlertOptions,
  resolveAlertOptions,
  type ResolvedAlertOptions,
} from "./alerts/alert-options.js";
import { nonNegativeInt, positiveInt } from "./option-checks.js";
import type { TaskMap } from "./task-registry.js";

/** A workflow definition the worker registers at start (`rowflow.define_workflow`). */
export interface WorkflowSource {
  /** Workflow name. */
  readonly name: string;
  /** The spec as `rowflow.define_workflow` accepts it (docs/spec.md). */
  readonly spec: object;
  /** Handlers the workflow brings along; they join the worker's registry. (Default: none) */
  readonly tasks?: TaskMap | undefined;
}

/** The worker's Prometheus metrics (docs/observability.md, "Metrics"). */
export interface WorkerMetricsOptions {
  /** Serve the registry at `http://host:port/metrics`; 0 picks a free port (`worker.metricsUrl` tells which). (Default: none: nothing is served, read `registry` yourself) */
  port?: number | undefined;
  /** Address the endpoint binds to. (Default: 127.0.0.1) */
  host?: string | undefined;
  /** Include the database-derived series (run counts, ready steps, worker heartbeats: one cached query per scrape). Turn it off on all but one target when many workers are scraped. (Default: true) */
  database?: boolean | undefined;
  /** How long one answer of the database query serves scrapes, in ms. (Default: 2000) */
  cacheMs?: number | undefined;
  /** The prom-client registry to register in, e.g. the application's own (one worker per registry: the names are fixed). (Default: a new registry) */
  registry?: Registry | undefined;
}

/** Options of `createWorker`. */
export interface WorkerOptions {
  /** Postgres connection string. (Default: `process.env.DATABASE_URL`) */
  connectionString?: string | undefined;
  /** Handlers by task name: `{ "charge-card": handler }` or `{ "charge-card": { input, handler } }`. (Default: none) */
  tasks?: TaskMap | undefined;
  /** Workflow definitions: their tasks join `tasks`, and their specs are defined at start unless `syncWorkflows` is false. (Default: none) */
  workflows?: readonly WorkflowSource[] | undefined;
  /** Define `workflows` in the database at start (a new version only when a spec changed). (Default: true) */
  syncWorkflows?: boolean | undefined;
  /** Cron schedules (`defineSchedule`), defined at start with the workflows unless `syncWorkflows` is false. Every worker fires the due ticks of every schedule in the database on its heartbeat, these or not. (Default: none) */
  schedules?: readonly Schedule[] | undefined;
  /** Handlers running at the same time in this process. (Default: 10) */
  concurrency?: number | undefined;
  /** How often graphile-worker polls for jobs, and rowflow's dispatcher for queued runs, when no notification arrives, in ms (retries and delays become due this way). (Default: 1000) */
  pollInterval?: number | undefined;
  /**
   * graphile-worker's local queue: jobs fetched (and locked) per batch, then
   * handed to idle handlers without a round trip each; -1 disables it. The
   * same number bounds rowflow's own local queue: ready steps a completion
   * reserves for this worker (under its lease) beyond the slots it brings,
   * begun by a later completion without a job (with -1: `concurrency`).
   * Larger queues mean fewer queries under load but more steps held by one
   * worker while others may be idle. (Default: 2 × concurrency, at least 4)
   */
  localQueueSize?: number | undefined;
  /** Milliseconds graphile-worker waits to batch job completions into one query; -1 disables. rowflow records outcomes itself, so a crash inside this window costs only a no-op re-delivery. (Default: 10) */
  completeJobBatchDelay?: number | undefined;
  /** Milliseconds graphile-worker waits to batch job failures; -1 disables. (Default: 10) */
  failJobBatchDelay?: number | undefined;
  /** How often this worker records a heartbeat and looks for dead workers, in ms. (Default: 5000) */
  heartbeatInterval?: number | undefined;
  /** A worker silent for longer than this (ms) is dead: any live worker releases its jobs. (Default: 30000) */
  heartbeatTimeout?: number | undefined;
  /**
   * Hold a session advisory lock on a connection of this worker's own, so
   * that the other workers see it dead as soon as Postgres sees that
   * connection close (a killed process, a terminated backend), instead of
   * after `heartbeatTimeout`. Turn it off behind a pooler in transaction
   * mode, where a session lock does not follow the client: the heartbeat
   * alone then tells. (Default: true)
   */
  sessionLock?: boolean | undefined;
  /** How often this worker looks for workers whose lock connection closed (one cheap call), in ms. (Default: the smaller of 1000 and heartbeatInterval) */
  livenessCheckInterval?: number | undefined;
  /** On `stop()`, how long running handlers may finish (ms) before their signal aborts and their attempts fail (and retry elsewhere). (Default: 10000) */
  shutdownGracePeriod?: number | undefined;
  /** Size of rowflow's own pool (handler transactions, begin/complete/fail calls, heartbeats). (Default: concurrency + 4) */
  maxPoolSize?: number | undefined;
  /**
   * Size of graphile-worker's pool (fetching, completing, LISTEN). With the
   * local queue and batched completion graphile-worker holds about four
   * connections at once (one fetch, one completion batch, one failure batch,
   * LISTEN); without the local queue every handler slot fetches on its own.
   * pg opens connections only when needed, so the default costs nothing over
   * a smaller one and keeps graphile-worker's "maxPoolSize smaller than
   * concurrency" warning honest. (Default: concurrency + 2)
   */
  graphileMaxPoolSize?: number | undefined;
  /** Where log lines go; pino and console-like loggers fit the interface. (Default: pino on stdout at LOG_LEVEL or info) */
  logger?: Logger | undefined;
  /** Retries of the first connection: delay of the first retry in ms, doubling up to `maxConnectDelay`. (Default: 250) */
  connectDelay?: number | undefined;
  /** Upper bound of the delay between connection attempts at start, in ms. (Default: 5000) */
  maxConnectDelay?: number | undefined;
  /**
   * How long `start()` retries a database that does not answer (refused,
   * timed out, starting up), in ms; then it throws a `ConnectionError` naming
   * host and port. A missing database or a refused login throws at once
   * either way, and a running worker that loses its database waits for it
   * without bound. (Default: no bound: wait until `stop()`)
   */
  waitForDatabase?: number | undefined;
  /** Clock handed to rowflow's SQL functions (tests backdate instead of sleeping). (Default: the database's `now()`) */
  now?: (() => Date) | undefined;
  /**
   * The failure webhook: POST a JSON event when a run fails, retried until
   * delivered, each attempt recorded in the database (docs/observability.md,
   * "Failure webhook"). A worker without it delivers nothing, and takes
   * nothing: events stay pending for a worker that has it.
   * (Default: none)
   */
  alerts?: AlertOptions | undefined;
  /** Record Prometheus metrics and serve them (`{ port: 9464 }`); see `WorkerMetricsOptions`. (Default: none: no metrics) */
  metrics?: WorkerMetricsOptions | undefined;
}

/** `metrics` with defaults applied. */
export interface ResolvedMetricsOptions {
  port: number | undefined;
  host: string;
  database: boolean;
  cacheMs: number;
}

/** Options with defaults applied. */
export interface ResolvedWorkerOptions {
  connectionString: string;
  concurrency: number;
  pollInterval: number;
  localQueueSize: number;
  completeJobBatchDelay: number;
  failJobBatchDelay: number;
  heartbeatInterval: number;
  heartbeatTimeout: number;
  sessionLock: boolean;
  livenessCheckInterval: number;
  shutdownGracePeriod: number;
  maxPoolSize: number;
  graphileMaxPoolSize: number;
  connectDelay: number;
  maxConnectDelay: number;
  waitForDatabase: number | undefined;
  syncWorkflows: boolean;
  alerts: ResolvedAlertOptions | undefined;
  metrics: ResolvedMetricsOptions | undefined;
}

/** Applies the defaults and checks the numbers; throws a `TypeError` naming a bad option. */
export function resolveWorkerOptions(options: WorkerOptions): ResolvedWorkerOptions {
  const connectionString = options.connectionString ?? process.env.DATABASE_URL;
  if (!connectionString) {
    throw new TypeError("createWorker: connectionString is required (or set DATABASE_URL)");
  }
  const concurrency = positiveInt("concurrency", options.concurrency ?? 10);
  const heartbeatTimeout = positiveInt("heartbeatTimeout", options.heartbeatTimeout ?? 30_000);
  const heartbeatInterval = positiveInt(
    "heartbeatInterval",
    options.heartbeatInterval ?? Math.min(5_000, Math.max(100, Math.floor(heartbeatTimeout / 3))),
  );
  if (heartbeatInterval >= heartbeatTimeout) {
    throw new TypeError(
      `createWorker: heartbeatInterval (${heartbeatInterval} ms) must be shorter than heartbeatTimeout (${heartbeatTimeout} ms), or live workers would be declared dead`,
    );
  }
  const localQueueSize = options.localQueueSize ?? Math.max(4, concurrency * 2);
  if (localQueueSize !== -1 && (!Number.isInteger(localQueueSize) || localQueueSize < 2)) {
    throw new TypeError(
      `createWorker: localQueueSize must be -1 (off) or an integer >= 2, got ${localQueueSize}`,
    );
  }
  return {
    connectionString,
    concurrency,
    pollInterval: positiveInt("pollInterval", options.pollInterval ?? 1_000),
    localQueueSize,
    completeJobBatchDelay: batchDelay("completeJobBatchDelay", options.completeJobBatchDelay ?? 10),
    failJobBatchDelay: batchDelay("failJobBatchDelay", options.failJobBatchDelay ?? 10),
    heartbeatInterval,
    heartbeatTimeout,
    sessionLock: options.sessionLock ?? true,
    livenessCheckInterval: positiveInt(
      "livenessCheckInterval",
      options.livenessCheckInterval ?? Math.min(1_000, heartbeatInterval),
    ),
    shutdownGracePeriod: nonNegativeInt(
      "shutdownGracePeriod",
      options.shutdownGracePeriod ?? 10_000,
    ),
    maxPoolSize: positiveInt("maxPoolSize", options.maxPoolSize ?? concurrency + 4),
    graphileMaxPoolSize: Math.max(
      2,
      positiveInt("graphileMaxPoolSize", options.graphileMaxPoolSize ?? concurrency + 2),
    ),
    connectDelay: positiveInt("connectDelay", options.connectDelay ?? 250),
    maxConnectDelay: positiveInt("maxConnectDelay", options.maxConnectDelay ?? 5_000),
    waitForDatabase:
      options.waitForDatabase === undefined
        ? undefined
        : nonNegativeInt("waitForDatabase", options.waitForDatabase),
    syncWorkflows: options.syncWorkflows ?? true,
    alerts: options.alerts === undefined ? undefined : resolveAlertOptions(options.alerts),
    metrics: options.metrics === undefined ? undefined : resolveMetrics(options.metrics),
  };
}

function resolveMetrics(metrics: WorkerMetricsOptions): ResolvedMetricsOptions {
  const { port } = metrics;
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) {
    throw new TypeError(
      `createWorker: metrics.port must be an integer from 0 to 65535, got ${port}`,
    );
  }
  return {
    port,
    host: metrics.host ?? "127.0.0.1",
    database: metrics.database ?? true,
    cacheMs: nonNegativeInt("metrics.cacheMs", metrics.cacheMs ?? 2_000),
  };
}

function batchDelay(name: string, value: number): number {
  if (value === -1) return -1;
  return nonNegativeInt(name, value);
}
