/**
 * `createWorker`: a rowflow worker process. graphile-worker's `run()` with
 * one task, `rowflow:step`, whose body runs rowflow handlers
 * (attempt/execute-job.ts); a dispatcher that starts claimed runs and handed
 * over steps without jobs (dispatch/); the worker registry and heartbeat
 * (crash recovery); and a graceful stop (lifecycle/). docs/architecture.md
 * maps the parts.
 */
import type { Logger } from "../definition/logger.js";
import { registerHandle } from "../internal/open-handles.js";
import { createDefaultLogger } from "../logging/default-logger.js";
import { startAlertSender } from "./alerts/alert-sender.js";
import { patchSerialQueueFetch } from "./graphile-patches/serial-queue-fetch.js";
import { connectWorker } from "./lifecycle/connect-worker.js";
import { launchRunner } from "./lifecycle/launch-runner.js";
import { relaunchRunner } from "./lifecycle/relaunch-runner.js";
import { startMetrics } from "./lifecycle/start-metrics.js";
import { stopWorker } from "./lifecycle/stop-worker.js";
import { buildTaskRegistry } from "./task-registry.js";
import { resolveWorkerOptions, type WorkerOptions } from "./worker-options.js";
import { WorkerState } from "./worker-state.js";

/** A rowflow worker process (one graphile-worker pool). */
export interface Worker {
  /** The graphile-worker pool id (`jobs.locked_by`, `rowflow.workers.id`) once started. */
  readonly id: string | undefined;
  /** Task names this worker has handlers for. */
  readonly tasks: readonly string[];
  /** `http://host:port/metrics` once `start()` opened it (the `metrics.port` option); else undefined. */
  readonly metricsUrl: string | undefined;
  /**
   * Connects (retrying with backoff while the database is down), defines the
   * workflows, registers the worker and starts taking jobs. Resolves when
   * jobs are being taken; throws on a configuration or SQL error, or if
   * `stop()` was called first.
   */
  start(): Promise<void>;
  /**
   * Stops taking jobs, lets running handlers finish within the grace period,
   * then aborts them (their attempts fail and retry elsewhere), releases every
   * lock and closes the pools. Safe to call more than once.
   */
  stop(): Promise<void>;
  /**
   * Resolves when the worker has stopped (after `stop()`, or a failed start).
   * A graphile-worker runner that dies under a running worker (a database
   * restart) is restarted, not reported here.
   */
  readonly stopped: Promise<void>;
}

/** Creates a worker; call `start()` to run it. Throws a `TypeError` for invalid options. */
export function createWorker(options: WorkerOptions): Worker {
  const logger: Logger = options.logger ?? createDefaultLogger("rowflow-worker");
  const tasks = buildTaskRegistry([
    options.tasks,
    ...(options.workflows ?? []).map((w) => w.tasks),
  ]);
  const state = new WorkerState(options, resolveWorkerOptions(options), logger, tasks);

  let resolveStopped!: () => void;
  const stopped = new Promise<void>((resolve) => (resolveStopped = resolve));
  let unregisterHandle: (() => void) | undefined;
  const stop = () =>
    stopWorker(state, () => {
      unregisterHandle?.();
      resolveStopped();
    });

  const start = async () => {
    unregisterHandle = registerHandle({
      kind: "worker",
      description: `rowflow worker (${state.taskNames.join(", ")})`,
      close: stop,
    });
    await connectWorker(state);
    await startMetrics(state);
    if (state.settings.localQueueSize > 1 && !patchSerialQueueFetch(logger)) {
      logger.warn(
        "graphile-worker's internals changed: the serial-queue fix is not installed; steps with a `queue` may run concurrently with the local queue on (localQueueSize: -1 avoids it)",
      );
    }
    await launchRunner(state, (deadId, reason) => relaunchRunner(state, deadId, reason));
    const alerts = state.settings.alerts;
    if (alerts && state.connection && !state.isStopping) {
      state.alertSender = startAlertSender({
        db: state.connection.pool,
        options: alerts,
        logger,
        workerId: () => state.id,
        now: options.now,
        signal: state.shutdownAbort.signal,
      });
    }
  };

  // A failed start stops the worker (closing what it opened) and rethrows.
  let started: Promise<void> | undefined;
  return {
    get id() {
      return state.id;
    },
    tasks: state.taskNames,
    get metricsUrl() {
      return state.metricsServer?.url;
    },
    start: () => {
      if (state.isStopping) return Promise.reject(new Error("worker is stopped"));
      state.starting ??= start();
      started ??= state.starting.catch(async (error: unknown) => {
        await stop();
        throw error;
      });
      return started;
    },
    stop,
    stopped,
  };
}
