/**
 * One graphile-worker runner with this worker's registration, heartbeat,
 * wake-up marks and dispatcher. Started by `start()`, and again by
 * relaunch-runner.ts when the runner dies under a live worker.
 */
import { EventEmitter, setMaxListeners } from "node:events";
import { hostname } from "node:os";

import { run, type Runner, type WorkerEvents, type WorkerPool } from "graphile-worker";

import { createPool } from "../../db/connection.js";
import { SessionLock } from "../../db/workers/session-lock.js";
import { leasedAttempt } from "../attempt/attempt.js";
import { executeChild } from "../attempt/execute-child.js";
import { executeJob } from "../attempt/execute-job.js";
import { executeWait } from "../attempt/execute-wait.js";
import { runLeases } from "../attempt/run-chains.js";
import {
  childTaskIdentifier,
  stepTaskIdentifier,
  waitTaskIdentifier,
} from "../attempt/step-payload.js";
import { Dispatcher } from "../dispatch/dispatcher.js";
import { patchLocalQueueRelease } from "../graphile-patches/local-queue-release.js";
import { fireDueSchedules } from "../schedules/fire-due-schedules.js";
import type { WorkerState } from "../worker-state.js";
import { toGraphileLogger } from "./graphile-logger.js";
import { type Heartbeat, startHeartbeat } from "./heartbeat.js";
import { WorkerWakeUps } from "./wake-ups.js";

/**
 * Starts a runner and stores it (with its heartbeat, wake-ups and
 * dispatcher) as `state.runner`; its pool becomes `state.workerPool` as soon
 * as graphile-worker creates it. `onRunnerEnd` is called when graphile-worker
 * stops the runner on its own, after a successful launch. A launch that
 * fails part-way stops what it started and throws.
 */
export async function launchRunner(
  state: WorkerState,
  onRunnerEnd: (deadId: string, reason: string) => void,
): Promise<void> {
  const { settings, logger } = state;
  const { db } = state;
  const events: WorkerEvents = new EventEmitter();
  let workerPool: WorkerPool | undefined;
  events.on("pool:create", ({ workerPool: created }) => {
    workerPool = created;
    state.workerPool = created;
    // Every running handler listens on the pool's shutdown signal
    // (execute-job.ts); past 10 Node warns of a leak that is not one.
    setMaxListeners(settings.concurrency + 10, created.abortSignal);
  });
  events.on("localQueue:init", ({ localQueue }) => patchLocalQueueRelease(localQueue));
  const wakeUps = new WorkerWakeUps(events, {
    waiters: db.waiters,
    logger,
    ttlMs: settings.heartbeatTimeout,
    localQueueSize: settings.localQueueSize,
    nudge: () => {
      workerPool?.nudge(1);
      state.runner?.dispatcher.notify();
    },
    onRuns: () => state.runner?.dispatcher.notify(),
  });
  // graphile-worker's pool is ours, not created by run(): run() removes its
  // 'error' listeners when the runner is released, and an idle client that
  // then sees the server go away (57P01) would crash the process.
  const graphilePool = createPool({
    connectionString: settings.connectionString,
    max: settings.graphileMaxPoolSize,
    applicationName: "rowflow worker (graphile-worker)",
  });
  await state.runner?.graphilePool.end().catch(() => {});
  let runner: Runner;
  try {
    runner = await run({
      pgPool: graphilePool,
      concurrency: settings.concurrency,
      pollInterval: settings.pollInterval,
      noHandleSignals: true,
      logger: toGraphileLogger(logger, events),
      events,
      taskList: {
        [stepTaskIdentifier]: (payload, helpers) => executeJob(state, payload, helpers),
        [waitTaskIdentifier]: (payload, helpers) => executeWait(state, payload, helpers),
        [childTaskIdentifier]: (payload, helpers) => executeChild(state, payload, helpers),
      },
      parsedCronItems: [], // no cron: rowflow schedules nothing through graphile-worker
      preset: {
        worker: {
          ...(settings.localQueueSize > 1 ? { localQueue: { size: settings.localQueueSize } } : {}),
          completeJobBatchDelay: settings.completeJobBatchDelay,
          failJobBatchDelay: settings.failJobBatchDelay,
          gracefulShutdownAbortTimeout: settings.shutdownGracePeriod,
          // Locks are released by rowflow's heartbeat timeout, far sooner than this scan.
        },
      },
    });
  } catch (error) {
    await wakeUps.stop();
    await graphilePool.end().catch(() => {});
    throw error;
  }
  const pool = workerPool;
  const id = pool?.id;
  let heartbeat: Heartbeat | undefined;
  let lock: SessionLock | undefined;
  try {
    if (!pool || !id) throw new Error("graphile-worker did not report its pool id");
    const registration = {
      id,
      hostname: hostname(),
      pid: process.pid,
      concurrency: settings.concurrency,
      tasks: state.taskNames,
    };
    const token = await db.registry.register({ ...registration, now: state.now() });
    state.registered = { id, token };
    // Closed only after this id is unregistered (stop-worker, relaunch):
    // a worker draining at shutdown is alive.
    if (settings.sessionLock) {
      lock = new SessionLock({
        connectionString: settings.connectionString,
        id,
        token,
        onLost: (error) =>
          logger.warn(
            `liveness lock connection lost${error ? ` (${error.message})` : ""}; other workers may release this worker's steps (its late results are refused); taken again on the next heartbeat`,
          ),
      });
    }
    const reportedSchedules = new Set<string>();
    heartbeat = startHeartbeat({
      registry: db.registry,
      registration,
      token,
      intervalMs: settings.heartbeatInterval,
      timeoutMs: settings.heartbeatTimeout,
      lock,
      livenessIntervalMs: settings.livenessCheckInterval,
      logger,
      now: state.options.now,
      onReleased: () => pool.nudge(settings.concurrency),
      onBeat: async () => {
        await wakeUps.refresh();
        // Leases this worker holds but does not use (a completion whose
        // answer was lost with its connection) end: lost attempts, or jobs.
        const ended = await db.registry.releaseLeases({
          workerId: id,
          keep: state.leases.keys(),
          olderThanMs: settings.heartbeatInterval,
          token,
        });
        if (ended > 0) {
          logger.warn(`ended ${ended} lease(s) on steps this worker was not running`);
          pool.nudge(ended);
        }
        // Every worker fires every due tick; the database starts one run each.
        await fireDueSchedules(db.pool, {
          now: state.now() ?? new Date(),
          injected: state.now() !== null,
          windowMs: Math.max(60_000, 2 * settings.heartbeatInterval),
          logger,
          reported: reportedSchedules,
        });
      },
    });
    await heartbeat.beat(); // releases what a previous crash left locked, right away
  } catch (error) {
    await heartbeat?.stop();
    await lock?.close();
    await wakeUps.stop();
    await runner.stop().catch(() => {});
    await graphilePool.end().catch(() => {});
    throw error;
  }
  await state.runner?.dispatcher.stop();
  const workerToken = state.tokenFor(id);
  const dispatcher = new Dispatcher({
    slots: state.slots,
    leases: state.leases,
    pollInterval: settings.pollInterval,
    logger,
    begin: (steps) =>
      db.gate.beginSteps(
        steps.map((s) => ({ ...s, workerId: id, now: state.now() })),
        { reserved: true, workerToken },
      ),
    claim: (take) =>
      db.gate.claimRuns({ workerId: id, take, maxRuns: take, now: state.now(), workerToken }),
    start: (slots, contexts) =>
      runLeases(
        state,
        contexts.map((context, i) => ({ slot: slots[i]!, attempt: leasedAttempt(state, context) })),
      ),
    onDrained: (drained) => wakeUps.setRunsDrained(drained),
  });
  const beating = heartbeat;
  state.runner = {
    runner,
    graphilePool,
    dispatcher,
    lock,
    stopTimers: async () => {
      await beating.stop();
      await wakeUps.stop();
    },
  };
  dispatcher.start();
  // Watched only now: a launch that failed part-way stopped its runner itself.
  runner.promise.then(
    () => onRunnerEnd(id, "stopped on its own"),
    (error: unknown) => onRunnerEnd(id, `stopped with an error: ${(error as Error).message}`),
  );
  logger.info(
    `worker ${id} started: ${settings.concurrency} concurrent handlers, tasks ${state.taskNames.join(", ") || "(none)"}`,
  );
}
