/**
 * What a worker asks of the worker registry (sql/schema/70_workers/):
 * registration, heartbeats, crash recovery, leases and retention, as one
 * small interface.
 */
import type { Queryable } from "../queryable.js";
import { applyRetention, type RetentionResult } from "./apply-retention.js";
import { disconnectedWorkers } from "./disconnected-workers.js";
import { forceUnlockWorker } from "./force-unlock-worker.js";
import { heartbeatWorker } from "./heartbeat-worker.js";
import { registerWorker, type Registration } from "./register-worker.js";
import { releaseDeadWorkers } from "./release-dead-workers.js";
import { releaseLeases, type ReleaseLeasesCall } from "./release-leases.js";
import { unregisterWorker } from "./unregister-worker.js";

export interface WorkerRegistry {
  /** `rowflow.register_worker`: insert or refresh the worker's row; answers its token. */
  register(
    registration: Registration & { now?: Date | null; token?: string | null },
  ): Promise<string>;
  /** `rowflow.heartbeat_worker`; false when the row is gone (declared dead). */
  heartbeat(args: { id: string; now?: Date | null; token: string | null }): Promise<boolean>;
  /** `rowflow.unregister_worker` (clean shutdown). */
  unregister(args: { id: string; token: string | null }): Promise<void>;
  /** `rowflow.release_dead_workers`: the jobs and leases of silent workers; returns their ids. */
  releaseDeadWorkers(args: { timeoutMs: number; now?: Date | null }): Promise<string[]>;
  /** `rowflow.disconnected_workers`: workers whose lock connection closed (dead, not yet released). */
  disconnectedWorkers?(): Promise<string[]>;
  /** `rowflow.release_leases`: this worker's leases on steps it is not using end; returns how many. */
  releaseLeases(args: ReleaseLeasesCall): Promise<number>;
  /** `graphile_worker.force_unlock_workers` for one pool id (a dead runner of this worker). */
  forceUnlock(args: { id: string }): Promise<void>;
  /** `rowflow.apply_retention`: purge runs past their workflow's retention, once per period across workers. */
  applyRetention?(args: { workerId: string; now?: Date | null }): Promise<RetentionResult>;
}

/** The registry on `db`. */
export function workerRegistryOn(db: Queryable): WorkerRegistry {
  return {
    register: (registration) => registerWorker(db, registration),
    heartbeat: (args) => heartbeatWorker(db, args),
    unregister: (args) => unregisterWorker(db, args),
    releaseDeadWorkers: (args) => releaseDeadWorkers(db, args),
    disconnectedWorkers: () => disconnectedWorkers(db),
    releaseLeases: (args) => releaseLeases(db, args),
    forceUnlock: (args) => forceUnlockWorker(db, args),
    applyRetention: (args) => applyRetention(db, args),
  };
}
