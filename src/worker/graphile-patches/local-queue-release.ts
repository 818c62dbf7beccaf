/**
 * Works around a graphile-worker 0.17.3 bug: releasing a local queue that
 * holds fetched jobs while every handler is busy (mode WAITING, i.e. any
 * graceful stop under load) calls `returnJobs()` after switching to RELEASED,
 * and `background()` then throws "Cannot background something when the queue
 * is already released". The graceful shutdown turns into a forceful one that
 * neither waits for running handlers nor returns the queued jobs, which stay
 * locked until a heartbeat timeout releases them.
 *
 * The guard in `background()` is meant for work arriving after the queue has
 * finished; while `setModeReleased()` runs, the returned jobs' promise must be
 * tracked like any other (its completion then resolves the queue's final
 * promise). The patch tracks it instead of throwing. Seen in
 * test/e2e/shutdown.test.ts runs (the stop degraded to "No active jobs to
 * release" with handlers still running). No upstream issue known (graphile/
 * worker's issues searched in December 2026).
 *
 * Still needed? test/worker/graphile-patches/local-queue-release.test.ts
 * releases a LocalQueue in WAITING mode on the installed graphile-worker's own
 * prototype and expects the throw; when it fails, remove this file (and its
 * call in lifecycle/launch-runner.ts).
 */

interface LocalQueueInternals {
  mode: string;
  backgroundCount: number;
  background(promise: Promise<unknown>): void;
  decreaseBackgroundCount: () => void;
  decreaseBackgroundCountWithError: (error: unknown) => void;
}

/** Patches one LocalQueue instance (from graphile-worker's `localQueue:init` event). */
export function patchLocalQueueRelease(localQueue: unknown): void {
  const queue = localQueue as Partial<LocalQueueInternals> | null;
  if (
    !queue ||
    typeof queue.background !== "function" ||
    typeof queue.decreaseBackgroundCount !== "function" ||
    typeof queue.decreaseBackgroundCountWithError !== "function"
  ) {
    return; // internals changed: leave graphile-worker's own behaviour
  }
  const original = queue.background.bind(queue);
  const target = queue as LocalQueueInternals;
  target.background = (promise: Promise<unknown>) => {
    if (target.mode === "RELEASED" && target.backgroundCount === 0) {
      target.backgroundCount++;
      promise.then(target.decreaseBackgroundCount, target.decreaseBackgroundCountWithError);
      return;
    }
    original(promise);
  };
}
