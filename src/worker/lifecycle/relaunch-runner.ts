/**
 * graphile-worker stops its runner for good when, for example, a batched job
 * completion fails because the database restarted. A rowflow worker must
 * carry on: wait for the database, release what the dead runner held (its
 * local-queue batch would otherwise stay locked until the heartbeat timeout),
 * and start a new runner. `stop()` waits for a relaunch in progress.
 */
import type { WorkerState } from "../worker-state.js";
import { untilConnected } from "./connect-worker.js";
import { launchRunner } from "./launch-runner.js";

/** Called when the runner of pool `deadId` ended on its own. */
export function relaunchRunner(state: WorkerState, deadId: string, reason: string): void {
  if (state.isStopping || !state.connection || state.relaunching) return;
  state.relaunching = relaunch(state, deadId, reason).finally(() => {
    state.relaunching = undefined;
  });
}

async function relaunch(state: WorkerState, deadId: string, reason: string): Promise<void> {
  const { logger } = state;
  const { registry } = state.db;
  logger.warn(`graphile-worker ${reason}; restarting it`);
  await state.runner?.dispatcher.stop();
  await state.runner?.stopTimers();
  for (let attempt = 1; !state.isStopping; attempt++) {
    try {
      if (!(await untilConnected(state)) || state.isStopping) return;
      await registry.forceUnlock({ id: deadId });
      // The dead runner's id also held leases: reserved steps get jobs now
      // (begin_steps would refuse them under the new id); the steps still
      // running here keep theirs until they complete.
      state.leases.clearQueue();
      const token = state.tokenFor(deadId);
      await registry.releaseLeases({
        workerId: deadId,
        keep: state.leases.keys(),
        olderThanMs: 0,
        token,
      });
      await registry.unregister({ id: deadId, token });
      await state.runner?.lock?.close();
      await launchRunner(state, (id, why) => relaunchRunner(state, id, why));
      return;
    } catch (error) {
      // launchRunner stopped what it had started.
      logger.warn(
        `restarting graphile-worker failed (attempt ${attempt}): ${(error as Error).message}`,
      );
    }
  }
}
