/**
 * Runs steps handed to this worker in the slots they came with: each lease
 * starts a detached chain — its attempt, then whatever that attempt's
 * completion handed over, in the same slot (the finished step's slot passes
 * on without going back to the pool) — tracked so that `stop()` waits for it.
 */
import type { WorkerState } from "../worker-state.js";
import type { Lease } from "./attempt.js";
import { runAttempt } from "./run-attempt.js";

/** Starts a chain per lease; returns at once. */
export function runLeases(state: WorkerState, leases: readonly Lease[]): void {
  for (const lease of leases) state.track(runChain(state, lease));
}

async function runChain(state: WorkerState, first: Lease): Promise<void> {
  let lease: Lease | undefined = first;
  while (lease) {
    let next: Lease[] = [];
    try {
      next = await runAttempt(state, lease.slot, lease.attempt);
    } catch (error) {
      state.logger.error(
        `step ${lease.attempt.context.step} of run ${lease.attempt.context.runId}: ${String(error)}`,
      );
    }
    if (next.length === 0) {
      lease.slot.release();
      return;
    }
    runLeases(state, next.slice(1));
    lease = next[0];
  }
}
