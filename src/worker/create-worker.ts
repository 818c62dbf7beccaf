/**
 * `createWorker`: graphile-worker's `run()` with one task, `rowflow:step`,
 * whose wrapper runs rowflow handlers (execute-step.ts), plus the worker
 * registry and heartbeat loop (crash recovery) and a graceful stop.
 */
import { EventEmitter, setMaxListeners } from "node:events";
import { hostname } from "node:os";

import { run, type Runner, type WorkerEvents, type WorkerPool } from "graphile-worker";
import { Kysely, PostgresDialect } from "kysely";
import type pg from "pg";

import { beginStep, type BeginStepCall, beginSteps } from "../db/begin-step.js";
import { claimRuns } from "../db/claim-runs.js";
import {
  type CompleteOptions,
  completeStep,
  type CompleteStepCall,
  completeSteps,
} from "../db/complete-step.js";
import { createPool } from "../db/connection.js";
import { defineWorkflow } from "../db/define-workflow.js";
import { forceUnlockWorker } from "../db/force-unlock-worker.js";
import { registerWorker } from "../db/register-worker.js";
import { releaseLeases } from "../db/release-leases.js";
import type { Database } from "../db/types.js";
import { unregisterWorker } from "../db/unregister-worker.js";
import type { Logger } from "../definition/logger.js";
import { registerHandle } from "../internal/open-handles.js";
import { byRunThenStep, CallBatcher } from "./call-batcher.js";
import { Dispatcher } from "./dispatcher.js";
import { executeStep, type StepTaskEnv } from "./execute-step.js";
import { type Heartbeat, startHeartbeat } from "./heartbeat.js";
import { Leases } from "./leases.js";
import { patchLocalQueueRelease } from "./local-queue-release-fix.js";
import { createDefaultLogger, toGraphileLogger } from "./logger.js";
import { patchSerialQueueFetch } from "./serial-queue-fix.js";
import { SlotPool } from "./slots.js";
import { leasedAttempt } from "./step-outcome.js";
import { stepTaskIdentifier } from "./step-payload.js";
import { runLeases } from "./step-runner.js";
import { buildTaskRegistry } from "./task-registry.js";
import { waitForDatabase } from "./wait-for-database.js";
import { WorkerWakeUps } from "./wake-ups.js";
import { resolveWorkerOptions, type WorkerOptions } from "./worker-options.js";

/** A rowflow worker process (one graphile-worker pool). */
export interface Worker {
  /** The graphile-worker pool id (`jobs.locked_by`, `rowflow.workers.id`) once started. */
  readonly id: string | undefined;
  /** Task names this worker has handlers for. */
  readonly tasks: readonly string[];
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
  const resolved = resolveWorkerOptions(options);
  const logger: Logger = options.logger ?? createDefaultLogger("rowflow-worker");
  const registry = buildTaskRegistry([
    options.tasks,
    ...(options.workflows ?? []).map((w) => w.tasks),
  ]);
  const taskNames = [...registry.keys()].sort();

  let pool: pg.Pool | undefined;
  let kysely: Kysely<Database> | undefined;
  let runner: Runner | undefined;
  // graphile-worker's pool is ours, not created by run(): run() removes its
  // 'error' listeners when the runner is released, and an idle client that
  // then sees the server go away (57P01) would crash the process.
  let graphilePool: pg.Pool | undefined;
  let workerPool: WorkerPool | undefined;
  let heartbeat: Heartbeat | undefined;
  let wakeUps: WorkerWakeUps | undefined;
  let startRun: Promise<void> | undefined;
  let starting: Promise<void> | undefined;
  let stopping: Promise<void> | undefined;
  const startAbort = new AbortController();
  let resolveStopped!: () => void;
  const stopped = new Promise<void>((resolve) => (resolveStopped = resolve));
  let unregisterHandle: (() => void) | undefined;
  let stepEnv: StepTaskEnv | undefined;
  let dispatcher: Dispatcher | undefined;
  const slots = new SlotPool(resolved.concurrency);
  const shutdownAbort = new AbortController();
  // Running handlers to abort when the shutdown grace period ends.
  const shutdownWatchers = new Set<() => void>();
  shutdownAbort.signal.addEventListener("abort", () => {
    for (const abort of [...shutdownWatchers]) abort();
  });
  // Chains of directly handed-out attempts, awaited by stop().
  const chains = new Set<Promise<void>>();
  const leases = new Leases(
    resolved.localQueueSize > 1 ? resolved.localQueueSize : resolved.concurrency,
  );

  // Waits for the database with backoff (at start, and before relaunching a
  // runner); false when stop() was called meanwhile.
  const connect = (db: pg.Pool) =>
    waitForDatabase(db, {
      connectionString: resolved.connectionString,
      logger,
      firstDelay: resolved.connectDelay,
      maxDelay: resolved.maxConnectDelay,
      signal: startAbort.signal,
    });

  const start = async () => {
    unregisterHandle = registerHandle({
      kind: "worker",
      description: `rowflow worker (${taskNames.join(", ")})`,
      close: stop,
    });
    pool = createPool({
      connectionString: resolved.connectionString,
      max: resolved.maxPoolSize,
      applicationName: "rowflow worker",
    });
    const dialect = new PostgresDialect({ pool });
    kysely = new Kysely<Database>({ dialect });
    const connected = await connect(pool);
    if (!connected) throw new Error("worker stopped before it could connect");

    if (resolved.syncWorkflows) {
      for (const workflow of options.workflows ?? []) {
        const version = await defineWorkflow(pool, { name: workflow.name, spec: workflow.spec });
        logger.info(`workflow "${workflow.name}" is at version ${version}`);
      }
    }

    const db = pool;
    const begins = new CallBatcher<BeginStepCall, Awaited<ReturnType<typeof beginStep>>>({
      runOne: (call) => beginStep(db, call),
      runBatch: (calls) => beginSteps(db, calls),
      compare: byRunThenStep,
    });
    // What a completion batch may take on: claim runs while some may be
    // queued, reserve dependents while the local queue has room.
    const completeOptions = (): CompleteOptions =>
      stopping
        ? { workerId: workerPool?.id ?? null }
        : {
            workerId: workerPool?.id ?? null,
            claim: dispatcher !== undefined && !dispatcher.drained,
            reserve: leases.room,
          };
    const completions = new CallBatcher<CompleteStepCall, Awaited<ReturnType<typeof completeStep>>>(
      {
        runOne: (call) => completeStep(db, call, completeOptions()),
        runBatch: (calls) => completeSteps(db, calls, completeOptions()),
        compare: byRunThenStep,
      },
    );
    const env: StepTaskEnv = {
      pool,
      kysely,
      transactionProps: { config: { dialect }, dialect, driver: dialect.createDriver() },
      tasks: registry,
      logger,
      workerId: () => workerPool?.id,
      now: options.now,
      nudge: (n) => workerPool?.nudge(n),
      slots,
      leases,
      beginStep: (call) => begins.call(call),
      completeStep: (call) => completions.call(call),
      completeOptions,
      claimed: (left) => dispatcher?.claimed(left),
      stopping: () => stopping !== undefined,
      watchShutdown: (abort) => {
        if (shutdownAbort.signal.aborted) {
          abort();
          return () => {};
        }
        shutdownWatchers.add(abort);
        return () => shutdownWatchers.delete(abort);
      },
      track: (work) => {
        chains.add(work);
        void work.finally(() => chains.delete(work));
      },
      maxExtraTakes: Math.min(8, resolved.concurrency),
    };
    if (resolved.localQueueSize > 1 && !patchSerialQueueFetch(logger)) {
      logger.warn(
        "graphile-worker's internals changed: the serial-queue fix is not installed; steps with a `queue` may run concurrently with the local queue on (localQueueSize: -1 avoids it)",
      );
    }
    stepEnv = env;
    await launch(env);
  };

  // graphile-worker's runner, with this worker's registration, heartbeat and
  // wake-up marks. Started by start(), and again by relaunch() when the runner
  // dies under a live worker.
  const launch = async (env: StepTaskEnv) => {
    const events: WorkerEvents = new EventEmitter();
    events.on("pool:create", ({ workerPool: created }) => {
      workerPool = created;
      // Every running handler listens on the pool's shutdown signal
      // (execute-step.ts); past 10 Node warns of a leak that is not one.
      setMaxListeners(resolved.concurrency + 10, created.abortSignal);
    });
    events.on("localQueue:init", ({ localQueue }) => patchLocalQueueRelease(localQueue));
    const ups = new WorkerWakeUps(events, {
      db: env.pool,
      logger,
      ttlMs: resolved.heartbeatTimeout,
      localQueueSize: resolved.localQueueSize,
      nudge: () => {
        workerPool?.nudge(1);
        dispatcher?.notify();
      },
      onRuns: () => dispatcher?.notify(),
    });
    wakeUps = ups;
    const previousPool = graphilePool;
    graphilePool = createPool({
      connectionString: resolved.connectionString,
      max: resolved.graphileMaxPoolSize,
      applicationName: "rowflow worker (graphile-worker)",
    });
    await previousPool?.end().catch(() => {});
    runner = await run({
      pgPool: graphilePool,
      concurrency: resolved.concurrency,
      pollInterval: resolved.pollInterval,
      noHandleSignals: true,
      logger: toGraphileLogger(logger),
      events,
      taskList: { [stepTaskIdentifier]: (payload, helpers) => executeStep(env, payload, helpers) },
      parsedCronItems: [], // no cron: rowflow schedules nothing through graphile-worker
      preset: {
        worker: {
          ...(resolved.localQueueSize > 1 ? { localQueue: { size: resolved.localQueueSize } } : {}),
          completeJobBatchDelay: resolved.completeJobBatchDelay,
          failJobBatchDelay: resolved.failJobBatchDelay,
          gracefulShutdownAbortTimeout: resolved.shutdownGracePeriod,
          // Locks are released by rowflow's heartbeat timeout, far sooner than this scan.
        },
      },
    });
    const id = workerPool?.id;
    if (!id) throw new Error("graphile-worker did not report its pool id");
    const launched = runner;
    launched.promise.then(
      () => void relaunch(id, "stopped on its own"),
      (error: unknown) => void relaunch(id, `stopped with an error: ${(error as Error).message}`),
    );

    const registration = {
      id,
      hostname: hostname(),
      pid: process.pid,
      concurrency: resolved.concurrency,
      tasks: taskNames,
    };
    await registerWorker(env.pool, { ...registration, now: options.now?.() ?? null });
    heartbeat = startHeartbeat({
      pool: env.pool,
      registration,
      intervalMs: resolved.heartbeatInterval,
      timeoutMs: resolved.heartbeatTimeout,
      logger,
      now: options.now,
      onReleased: () => workerPool?.nudge(resolved.concurrency),
      onBeat: async () => {
        await wakeUps?.refresh();
        // Leases this worker holds but does not use (a completion whose
        // answer was lost with its connection) end: lost attempts, or jobs.
        const ended = await releaseLeases(env.pool, {
          workerId: id,
          keep: leases.keys(),
          olderThanMs: resolved.heartbeatInterval,
        });
        if (ended > 0) {
          logger.warn(`ended ${ended} lease(s) on steps this worker was not running`);
          workerPool?.nudge(ended);
        }
      },
    });
    await heartbeat.beat(); // releases what a previous crash left locked, right away
    await dispatcher?.stop();
    dispatcher = new Dispatcher({
      slots,
      leases,
      pollInterval: resolved.pollInterval,
      logger,
      begin: (steps) =>
        beginSteps(
          env.pool,
          steps.map((s) => ({ ...s, workerId: id, now: options.now?.() ?? null })),
          { reserved: true },
        ),
      claim: (take) =>
        claimRuns(env.pool, { workerId: id, take, maxRuns: take, now: options.now?.() ?? null }),
      start: (taken, contexts) =>
        runLeases(
          env,
          contexts.map((context, i) => ({
            slot: taken[i]!,
            attempt: leasedAttempt(env, context),
          })),
        ),
      onDrained: (drained) => ups.setRunsDrained(drained),
    });
    dispatcher.start();
    logger.info(
      `worker ${id} started: ${resolved.concurrency} concurrent handlers, tasks ${taskNames.join(", ") || "(none)"}`,
    );
  };

  // graphile-worker stops its runner for good when, for example, a batched
  // job completion fails because the database restarted. A rowflow worker
  // must carry on: wait for the database, release what the dead runner held
  // (its local-queue batch would otherwise stay locked until the heartbeat
  // timeout), and start a new runner.
  const relaunch = async (deadId: string, reason: string) => {
    if (stopping || !pool || !stepEnv) return;
    logger.warn(`graphile-worker ${reason}; restarting it`);
    await dispatcher?.stop();
    await heartbeat?.stop();
    await wakeUps?.stop();
    for (let attempt = 1; !stopping; attempt++) {
      try {
        const connected = await connect(pool);
        if (!connected || stopping) return;
        await forceUnlockWorker(pool, { id: deadId });
        // The dead runner's id also held leases: reserved steps get jobs now
        // (begin_steps would refuse them under the new id); the steps still
        // running here keep theirs until they complete.
        leases.clearQueue();
        await releaseLeases(pool, { workerId: deadId, keep: leases.keys(), olderThanMs: 0 });
        await unregisterWorker(pool, { id: deadId });
        await launch(stepEnv);
        return;
      } catch (error) {
        logger.warn(
          `restarting graphile-worker failed (attempt ${attempt}): ${(error as Error).message}`,
        );
        await heartbeat?.stop();
        await wakeUps?.stop();
        await runner?.stop().catch(() => {});
      }
    }
  };

  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      startAbort.abort();
      await startRun?.catch(() => {});
      // Handlers still running when the grace period ends are aborted (their
      // attempts fail and retry elsewhere); graphile does the same for its own.
      const grace = setTimeout(() => shutdownAbort.abort(), resolved.shutdownGracePeriod);
      try {
        await dispatcher?.stop();
        await heartbeat?.stop();
        await wakeUps?.stop(); // before the runner: its last fetches must not mark this worker again
        // graphile loops waiting for a slot give their jobs back at once.
        slots.close();
        if (runner) {
          await runner
            .stop()
            .catch((error: unknown) =>
              logger.error(`graceful shutdown: ${(error as Error).message}`),
            );
        }
        while (chains.size > 0) await Promise.allSettled([...chains]);
        clearTimeout(grace);
        await graphilePool?.end().catch(() => {});
        const id = workerPool?.id;
        if (id && pool) {
          // Leases left (the local queue, answers lost with their connection)
          // end now, not at the dead-worker timeout: reserved steps get jobs.
          leases.clearQueue();
          await releaseLeases(pool, { workerId: id, keep: [], olderThanMs: 0 }).catch(() => 0);
          await unregisterWorker(pool, { id }).catch((error: unknown) =>
            logger.warn(
              `could not remove the worker row (it expires with the heartbeat timeout): ${(error as Error).message}`,
            ),
          );
        }
        if (id) logger.info(`worker ${id} stopped`);
      } finally {
        // Not kysely.destroy(): its driver is never initialised (queries go
        // through StepTransaction or the pool), so it would leave the pool open.
        await pool?.end().catch(() => {});
        await graphilePool?.end().catch(() => {});
        unregisterHandle?.();
        resolveStopped();
      }
    })();
    return stopping;
  };

  return {
    get id() {
      return workerPool?.id;
    },
    tasks: taskNames,
    start: () => {
      if (stopping) return Promise.reject(new Error("worker is stopped"));
      startRun ??= start();
      starting ??= startRun.catch(async (error: unknown) => {
        await stop();
        throw error;
      });
      return starting;
    },
    stop,
    stopped,
  };
}
