/**
 * A worker's graceful stop: no new steps, running handlers get the grace
 * period (then their signal aborts and their attempts fail and retry
 * elsewhere), every lock and lease is released, and the pools close.
 */
import type { WorkerState } from "../worker-state.js";

/** Stops the worker; the first call does the work, later ones share its promise. */
export function stopWorker(state: WorkerState, onStopped: () => void): Promise<void> {
  state.stopping ??= stop(state).finally(onStopped);
  return state.stopping;
}

async function stop(state: WorkerState): Promise<void> {
  const { logger, settings } = state;
  state.startAbort.abort();
  await state.starting?.catch(() => {});
  await state.relaunching;
  // Handlers still running when the grace period ends are aborted (their
  // attempts fail and retry elsewhere); graphile does the same for its own.
  const grace = setTimeout(() => state.shutdownAbort.abort(), settings.shutdownGracePeriod);
  const runner = state.runner;
  try {
    await runner?.dispatcher.stop();
    // Before the runner stops: its last fetches must not mark this worker waiting again.
    await runner?.stopTimers();
    // POSTs in flight finish (or are aborted with the grace period) and are recorded.
    await state.alertSender?.stop();
    // graphile loops waiting for a slot give their jobs back at once.
    state.slots.close();
    await runner?.runner
      .stop()
      .catch((error: unknown) => logger.error(`graceful shutdown: ${(error as Error).message}`));
    await state.settled();
    clearTimeout(grace);
    await runner?.graphilePool.end().catch(() => {});
    const id = state.id;
    if (id && state.connection) {
      const { registry } = state.connection;
      // Leases left (the local queue, answers lost with their connection)
      // end now, not at the dead-worker timeout: reserved steps get jobs.
      state.leases.clearQueue();
      const token = state.tokenFor(id);
      await registry
        .releaseLeases({ workerId: id, keep: [], olderThanMs: 0, token })
        .catch(() => 0);
      await registry
        .unregister({ id, token })
        .catch((error: unknown) =>
          logger.warn(
            `could not remove the worker row (it expires with the heartbeat timeout): ${(error as Error).message}`,
          ),
        );
    }
    if (id) logger.info(`worker ${id} stopped`);
  } finally {
    clearTimeout(grace);
    // Only now: while it drains, the worker is alive to the others.
    await runner?.lock?.close();
    // Scraped while it drains; closed before the pool its database series query.
    await state.metricsServer?.close();
    // Not kysely.destroy(): its driver is never initialised (queries go
    // through StepTransaction or the pool), so it would leave the pool open.
    await state.connection?.pool.end().catch(() => {});
    await runner?.graphilePool.end().catch(() => {});
  }
}
