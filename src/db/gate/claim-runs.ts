import { onlyRow, type Queryable } from "../queryable.js";
import type { BeginStepStarted } from "./step-context.js";

/** What `rowflow.claim_runs` answers. */
export interface ClaimRunsResult {
  /** Queued runs claimed (now running). */
  runs: number;
  /** Root steps handed to the worker: run them now (they run under its lease). */
  taken: BeginStepStarted[];
}

/** Arguments of `rowflow.claim_runs`. */
export interface ClaimRunsCall {
  /** The worker that runs the taken steps (null with take 0). */
  workerId: string | null;
  /** Root steps to hand to the worker now. */
  take: number;
  /** Queued runs to claim at most. */
  maxRuns: number;
  now?: Date | null;
  /** The worker's token (register_worker's answer): required with take > 0. */
  workerToken?: string | null;
}

/**
 * Calls `rowflow.claim_runs`: claims up to `maxRuns` queued runs and hands up
 * to `take` of their root steps to `workerId` (the rest become jobs). The
 * claim commits asynchronously: if a server crash lost it, the runs are
 * queued again and claimed anew (a taken step then runs again, which its
 * idempotency key allows), and the step's completion, a synchronous commit,
 * flushes it first because WAL is flushed in order.
 */
export async function claimRuns(db: Queryable, args: ClaimRunsCall): Promise<ClaimRunsResult> {
  const { rows } = await db.query<{ result: ClaimRunsResult }>(
    `select pg_catalog.set_config('synchronous_commit', 'off', true) as async_commit,
            rowflow.claim_runs(worker_id => $1, take => $2, max_runs => $3, now => $4,
                               worker_token => $5) as result`,
    [args.workerId, args.take, args.maxRuns, args.now ?? null, args.workerToken ?? null],
  );
  return onlyRow(rows, "rowflow.claim_runs").result;
}
