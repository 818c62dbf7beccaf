/**
 * `createClient`: start runs, read them, wait for them, follow their changes,
 * cancel them. Every method either returns its result or throws: SQL errors
 * of rowflow's functions become `RowflowSqlError` with their `RF…` code
 * (RF020 unknown workflow, RF022 bad input, RF023 unknown run).
 */
import { Kysely, PostgresDialect } from "kysely";

import { createPool } from "../db/connection.js";
import { cancelRun } from "../db/runs/cancel-run.js";
import { getRun, type RunInfo } from "../db/runs/get-run.js";
import {
  cancelRuns,
  type CancelRunsResult,
  type ExplainedStep,
  explainRun,
  type PauseResult,
  purgeRuns,
  rerunFrom,
  type RerunResult,
  type RetentionSetting,
  type RetryMode,
  type RetryResult,
  retryRun,
  retryRuns,
  type RetryRunsResult,
  type RunFilter,
  setPaused,
  setRetention,
  type SkipResult,
  skipStep,
} from "../db/runs/operate.js";
import { type RunCounts, runCounts, type RunCountsFilter } from "../db/runs/run-counts.js";
import { runsFor, type RunSummary } from "../db/runs/runs-for.js";
import { startRun } from "../db/runs/start-run.js";
import { startRuns } from "../db/runs/start-runs.js";
import type { Database } from "../db/types.js";
import type { Logger } from "../definition/logger.js";
import { coerceError } from "../errors.js";
import { registerHandle } from "../internal/open-handles.js";
import { silentLogger } from "../logging/default-logger.js";
import type { TraceContext } from "../tracing/trace-context.js";
import { type RunChangeListener, RunListener } from "./run-listener.js";
import { withStartSpan } from "./start-span.js";
import { waitForRun, type WaitForRunOptions } from "./wait-for-run.js";
import { waitForRuns, type WaitForRunsOptions } from "./wait-for-runs.js";
import { type WaitsApi, waitsApi } from "./waits.js";

/** Options of `createClient`. */
export interface ClientOptions {
  /** Postgres connection string. (Default: `process.env.DATABASE_URL`) */
  connectionString?: string | undefined;
  /** Size of the client's pool. (Default: 4) */
  maxPoolSize?: number | undefined;
  /** `waitForRun` re-reads the run this often (ms) even without a notification, so a lost NOTIFY never hangs it. (Default: 1000) */
  pollInterval?: number | undefined;
  /** Where warnings (LISTEN connection trouble) go. (Default: silent) */
  logger?: Logger | undefined;
}

/** Options of `startRun`. */
export interface StartRunOptions {
  /** A second start with the same key returns the first run's id and creates nothing. (Default: none) */
  idempotencyKey?: string | undefined;
  /** Added to every step's priority; lower runs first. (Default: 0) */
  priority?: number | undefined;
  /**
   * The trace the run continues (docs/observability.md, "Traces"): its steps'
   * spans nest under a `rowflow.start` span, child of this context; null
   * keeps none. A malformed one is ignored. (Default: the active span's, when an
   * OpenTelemetry SDK is registered)
   */
  traceContext?: TraceContext | null | undefined;
}

/** Options of `startRuns`. */
export interface StartRunsOptions {
  /** One key (or null) per input. (Default: none) */
  idempotencyKeys?: readonly (string | null)[] | undefined;
  /** Added to every step's priority. (Default: 0) */
  priority?: number | undefined;
  /** The trace every run continues, as for `startRun`. (Default: the active span's, when an OpenTelemetry SDK is registered) */
  traceContext?: TraceContext | null | undefined;
}

/** A rowflow client. Signals and human tasks: `WaitsApi` (waits.ts). */
export interface Client extends WaitsApi {
  /** Starts a run of the latest version of `workflow`; returns its id. Throws `RowflowSqlError` (RF020, RF022); a paused workflow's run waits, queued. */
  startRun(
    workflow: string,
    input?: Record<string, unknown>,
    options?: StartRunOptions,
  ): Promise<string>;
  /** Starts one run per input in one statement; returns the ids in input order. Throws like `startRun`. */
  startRuns(
    workflow: string,
    inputs: readonly Record<string, unknown>[],
    options?: StartRunsOptions,
  ): Promise<string[]>;
  /** Returns the run with its steps, or `undefined` when there is no such run. */
  getRun(runId: string): Promise<RunInfo | undefined>;
  /**
   * The runs a row of an attached table started, oldest first (`rowflow.runs_for`):
   * `runsFor("shop.orders", 42)`; a composite key takes one value per key column.
   */
  runsFor(table: string, ...key: Array<string | number | bigint>): Promise<RunSummary[]>;
  /**
   * Resolves with the run once it has ended (succeeded, failed or cancelled).
   * Throws `WaitTimeoutError` after `timeout`, `RowflowSqlError` RF023 for an unknown run.
   */
  waitForRun(runId: string, options?: WaitForRunOptions): Promise<RunInfo>;
  /**
   * Resolves with the counts by status once none of the runs is active
   * (queued, running, compensating): the given ids, or the runs of a filter
   * (`{ workflow, since }`, as `runCounts`). Throws `WaitTimeoutError` after
   * `timeout`, `RowflowSqlError` RF023 when an id is unknown.
   */
  waitForRuns(
    runs: readonly string[] | RunCountsFilter,
    options?: WaitForRunsOptions,
  ): Promise<RunCounts>;
  /** How many runs (of `workflow`, created at or after `since`) there are by status (`rowflow.run_counts`). */
  runCounts(filter?: RunCountsFilter): Promise<RunCounts>;
  /**
   * Calls `listener` for every change notification (hints: a run id, or a batch
   * summary). Resolves, once listening, with a function that unsubscribes.
   */
  subscribe(listener: RunChangeListener): Promise<() => void>;
  /**
   * Cancels an active run; false when it had already ended. With
   * `compensate`, its succeeded steps are undone first (the run is
   * compensating, then cancelled). Throws `RowflowSqlError` RF023 for an unknown run.
   */
  cancelRun(
    runId: string,
    options?: string | { reason?: string | undefined; compensate?: boolean | undefined },
  ): Promise<boolean>;
  /**
   * Operators' actions (docs/sql-api.md#operations; the session must be a
   * rowflow_operator member). Each answers what it changed and is safe to
   * call twice; refusals throw `RowflowSqlError` (RF023, RF040–RF043, RF020).
   */
  retryRun(
    runId: string,
    options?: { mode?: RetryMode | undefined; reason?: string | undefined },
  ): Promise<RetryResult>;
  /** A new run from `step`, the other succeeded steps' outputs copied. */
  rerunFrom(
    runId: string,
    step: string,
    options?: { reason?: string | undefined },
  ): Promise<RerunResult>;
  /** Settles a pending or queued step: succeeded with `output`, else skipped. */
  skipStep(
    runId: string,
    step: string,
    options?: { output?: Record<string, unknown> | undefined; reason?: string | undefined },
  ): Promise<SkipResult>;
  pauseWorkflow(workflow: string, reason?: string): Promise<PauseResult>;
  resumeWorkflow(workflow: string, reason?: string): Promise<PauseResult>;
  /** Keeps a workflow's finished runs for `retention` (a Postgres interval, "30 days"; null: forever); the workers purge older ones. */
  setRetention(
    workflow: string,
    retention: string | null,
    reason?: string,
  ): Promise<RetentionSetting>;
  /** Why each unfinished step of a run is not running (viewers may call it too). */
  explainRun(runId: string): Promise<ExplainedStep[]>;
  /** retry_run over a filter, at most `maxRuns` (1,000) per call. */
  retryRuns(filter: RunFilter & { mode?: RetryMode | undefined }): Promise<RetryRunsResult>;
  /** cancel_run over a filter, at most `maxRuns` (1,000) per call. */
  cancelRuns(filter: RunFilter & { compensate?: boolean | undefined }): Promise<CancelRunsResult>;
  /**
   * Deletes finished runs older than `olderThan` (a Postgres interval, "30 days"),
   * `batch` per transaction until none is left; resolves with how many.
   */
  purgeRuns(options: {
    olderThan: string;
    statuses?: string[] | undefined;
    workflow?: string | undefined;
    batch?: number | undefined;
    reason?: string | undefined;
  }): Promise<number>;
  /** Closes the pool and the LISTEN connection. */
  close(): Promise<void>;
}

/** Creates a client. Throws `ConnectionError` for a malformed connection string; connects lazily. */
export function createClient(options: ClientOptions = {}): Client {
  const connectionString = options.connectionString ?? process.env.DATABASE_URL;
  if (!connectionString)
    throw new TypeError("createClient: connectionString is required (or set DATABASE_URL)");
  const logger = options.logger ?? silentLogger;
  const pool = createPool({
    connectionString,
    max: options.maxPoolSize ?? 4,
    applicationName: "rowflow client",
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  const listener = new RunListener(connectionString, logger, pool);
  const pollInterval = options.pollInterval ?? 1_000;
  let closing: Promise<void> | undefined;

  const guard = async <T>(fn: () => Promise<T>): Promise<T> => {
    if (closing) throw new Error("client is closed");
    try {
      return await fn();
    } catch (error) {
      throw coerceError(error);
    }
  };

  const close = () => {
    closing ??= (async () => {
      unregister();
      await listener.close();
      await pool.end();
    })();
    return closing;
  };
  const unregister = registerHandle({ kind: "client", description: "rowflow client", close });

  return {
    startRun: (workflow, input = {}, opts = {}) =>
      guard(() =>
        withStartSpan(workflow, opts.traceContext, undefined, (traceContext) =>
          startRun(pool, {
            workflow,
            input,
            idempotencyKey: opts.idempotencyKey ?? null,
            priority: opts.priority ?? 0,
            traceContext,
          }),
        ),
      ),
    startRuns: (workflow, inputs, opts = {}) =>
      guard(() =>
        withStartSpan(workflow, opts.traceContext, inputs.length, (traceContext) =>
          startRuns(pool, {
            workflow,
            inputs,
            idempotencyKeys: opts.idempotencyKeys ?? null,
            priority: opts.priority ?? 0,
            traceContext,
          }),
        ),
      ),
    getRun: (runId) => guard(() => getRun(db, { runId })),
    runsFor: (table, ...key) => guard(() => runsFor(pool, table, key)),
    waitForRun: (runId, opts = {}) =>
      guard(() => waitForRun({ db, listener, pollInterval }, runId, opts)),
    waitForRuns: (runs, opts = {}) =>
      guard(() => waitForRuns({ db: pool, listener, pollInterval }, runs, opts)),
    runCounts: (filter = {}) => guard(() => runCounts(pool, filter)),
    subscribe: (fn) => guard(() => listener.add(fn)),
    cancelRun: (runId, opts) => {
      const o = typeof opts === "string" ? { reason: opts } : (opts ?? {});
      return guard(() =>
        cancelRun(pool, { runId, reason: o.reason ?? null, compensate: o.compensate ?? false }),
      );
    },
    retryRun: (runId, opts = {}) =>
      guard(() => retryRun(pool, runId, opts.mode ?? "failed", opts.reason ?? null)),
    rerunFrom: (runId, step, opts = {}) =>
      guard(() => rerunFrom(pool, runId, step, opts.reason ?? null)),
    skipStep: (runId, step, opts = {}) =>
      guard(() =>
        skipStep(pool, { runId, step, output: opts.output ?? null, reason: opts.reason ?? null }),
      ),
    pauseWorkflow: (workflow, reason) =>
      guard(() => setPaused(pool, workflow, true, reason ?? null)),
    resumeWorkflow: (workflow, reason) =>
      guard(() => setPaused(pool, workflow, false, reason ?? null)),
    setRetention: (workflow, retention, reason) =>
      guard(() => setRetention(pool, workflow, retention, reason ?? null)),
    explainRun: (runId) => guard(() => explainRun(pool, runId)),
    retryRuns: (filter) => guard(() => retryRuns(pool, filter, filter.mode ?? "failed")),
    cancelRuns: (filter) => guard(() => cancelRuns(pool, filter, filter.compensate ?? false)),
    purgeRuns: (opts) =>
      guard(() =>
        purgeRuns(pool, {
          olderThan: opts.olderThan,
          statuses: opts.statuses ?? ["succeeded", "failed", "cancelled"],
          workflow: opts.workflow ?? null,
          batch: opts.batch ?? 1000,
          reason: opts.reason ?? null,
        }),
      ),
    ...waitsApi(pool, guard),
    close,
  };
}
