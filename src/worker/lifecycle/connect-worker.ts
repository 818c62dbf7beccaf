/**
 * A worker's connection: its pool (waiting for the database with backoff),
 * Kysely for `ctx.tx`, and the database families it uses (src/db/gate,
 * workers, waiters); then its workflows defined (unless `syncWorkflows` is
 * off).
 */
import { Kysely, PostgresDialect } from "kysely";

import { createPool } from "../../db/connection.js";
import { syncOrCheckSchedule } from "../../db/schedules/define-schedule.js";
import { assertMigrated } from "../../db/schema-status.js";
import { waitForDatabase } from "../../db/session/wait-for-database.js";
import type { Database } from "../../db/types.js";
import { waitersOn } from "../../db/waiters/waiters.js";
import { workerRegistryOn } from "../../db/workers/worker-registry.js";
import { syncOrCheckWorkflow } from "../../db/workflows/define-workflow.js";
import { childFirstOrder } from "../../definition/child-order.js";
import { batchedGate } from "../dispatch/batched-gate.js";
import { timedGate } from "../dispatch/timed-gate.js";
import type { WorkerConnection, WorkerState } from "../worker-state.js";

/**
 * Makes the connection and stores it on the state (before connecting, so that
 * `stop()` closes the pool even if connecting never succeeds). Throws when
 * `stop()` was called first, or on a definition's SQL error.
 */
export async function connectWorker(state: WorkerState): Promise<void> {
  const { settings, logger } = state;
  const pool = createPool({
    connectionString: settings.connectionString,
    max: settings.maxPoolSize,
    applicationName: "rowflow worker",
  });
  const dialect = new PostgresDialect({ pool });
  const connection: WorkerConnection = {
    pool,
    kysely: new Kysely<Database>({ dialect }),
    transactionProps: { config: { dialect }, dialect, driver: dialect.createDriver() },
    gate: timedGate(
      batchedGate(pool, () => state.completeOptions()),
      state.metrics,
    ),
    registry: workerRegistryOn(pool),
    waiters: waitersOn(pool),
  };
  state.connection = connection;
  // At start, waiting is bounded by the waitForDatabase option; a running
  // worker's relaunch waits as long as it takes.
  if (!(await untilConnected(state, settings.waitForDatabase))) {
    throw new Error("worker stopped before it could connect");
  }
  // Before graphile-worker's run(), which would install its own schema on an
  // unmigrated database and leave the worker to fail on a missing function.
  const newer = await assertMigrated(pool);
  if (newer) logger.warn(newer);
  if (settings.syncWorkflows) {
    // Children first: define_workflow rejects a child workflow not defined yet (RF015).
    const workflows = state.options.workflows ?? [];
    for (const workflow of childFirstOrder(workflows).map((i) => workflows[i]!)) {
      const { version, defined } = await syncOrCheckWorkflow(pool, {
        name: workflow.name,
        spec: workflow.spec,
      });
      logger.info(
        `workflow "${workflow.name}" is at version ${version}${defined ? "" : " (checked: this role does not define workflows)"}`,
      );
    }
    for (const schedule of state.options.schedules ?? []) {
      const outcome = await syncOrCheckSchedule(pool, schedule);
      if (outcome === "differs") {
        logger.warn(
          `schedule "${schedule.name}" differs from (or is missing in) the database, and this role may not define schedules (rowflow_operator may): the workers fire what the database holds`,
        );
      } else if (outcome !== "unchanged") {
        logger.info(
          `schedule "${schedule.name}" ${outcome} (${schedule.cron}, ${schedule.timezone})`,
        );
      }
    }
  }
}

/**
 * Waits for the database with backoff (at start, and before relaunching a
 * runner); false when `stop()` was called meanwhile. Throws a
 * `ConnectionError` when `timeoutMs` passes first.
 */
export function untilConnected(state: WorkerState, timeoutMs?: number): Promise<boolean> {
  return waitForDatabase({
    connectionString: state.settings.connectionString,
    applicationName: "rowflow worker",
    timeoutMs,
    logger: state.logger,
    firstDelay: state.settings.connectDelay,
    maxDelay: state.settings.maxConnectDelay,
    signal: state.startAbort.signal,
  });
}
