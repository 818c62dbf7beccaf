/**
 * Works around a graphile-worker 0.17.3 bug that breaks serial named queues
 * (graphile/worker#621, fixed upstream by #622, not in a 0.17 release): a
 * batch fetch (the local queue, rowflow's default) locks every available job
 * of a named queue at once, since the queue row passes the eligibility check
 * once and all its jobs then match. The local queue hands them to idle
 * handlers together, so a step `queue` (serial FIFO per key) ran up to
 * `concurrency` steps at a time; and the first of them to complete unlocked
 * the queue while its siblings still ran.
 *
 * The fix keeps graphile-worker's fetch and corrects its result before the
 * local queue sees it: per named queue only the first job (priority, run_at,
 * id: the order the fetch uses) is kept; the others are unlocked again
 * (locked_at/locked_by cleared, the fetch's attempts increment undone) while
 * the queue row stays locked by this pool until the kept job completes —
 * the invariant graphile-worker's completeJobs/returnJobs rely on ("a locked
 * queue has exactly one job in flight"). The extra jobs are unlocked before
 * the kept ones are handed out, so no other pool can overtake them in the
 * queue. Jobs without a queue are untouched, and a batch without two jobs of
 * one queue costs nothing extra.
 *
 * Why not the alternatives: disabling the local queue whenever a workflow
 * uses `queue` costs every step of every workflow ~7x throughput
 * (graphile-worker's own figures: 1.5-2k vs 12-14k jobs/s); a patch-package
 * patch applies only to this repository's own install, not to applications
 * that install rowflow from npm.
 *
 * Still needed? test/worker/graphile-patches/serial-queue-fetch.test.ts runs
 * the installed graphile-worker without this patch and expects the bug; when
 * it fails, graphile-worker has #622: remove this file (and the call in
 * create-worker.ts). test/integration/worker/serial-queue.test.ts keeps
 * checking rowflow's serial queues either way.
 *
 * It patches the module export that graphile-worker's LocalQueue calls
 * through (`getJobs_1.batchGetJobs(…)`, looked up at each call), once per
 * process, and leaves graphile-worker alone if its internals changed.
 */
import { createRequire } from "node:module";

import type { Logger } from "../../definition/logger.js";

interface FetchedJob {
  id: string;
  job_queue_id: number | null;
  priority: number;
  run_at: Date;
}

interface PgClientLike {
  query(config: { text: string; values: unknown[] }): Promise<unknown>;
}

interface WithPgClient {
  <T>(callback: (client: PgClientLike) => Promise<T>): Promise<T>;
  withRetries?: <T>(callback: (client: PgClientLike) => Promise<T>) => Promise<T>;
}

type BatchGetJobs = (
  ctx: { escapedWorkerSchema: string },
  withPgClient: WithPgClient,
  tasks: unknown,
  poolId: string,
  flagsToSkip: unknown,
  batchSize: number,
) => Promise<FetchedJob[]>;

const require = createRequire(import.meta.url);
let installed = false;
let logger: Logger | undefined;

/**
 * Installs the fix (once per process; later calls only update the logger).
 * Returns false when graphile-worker's internals are not the expected ones.
 */
export function patchSerialQueueFetch(log: Logger): boolean {
  logger = log;
  if (installed) return true;
  let module: { batchGetJobs?: unknown };
  try {
    module = require("graphile-worker/dist/sql/getJobs.js") as { batchGetJobs?: unknown };
  } catch {
    return false;
  }
  if (typeof module.batchGetJobs !== "function") return false;
  const original = module.batchGetJobs as BatchGetJobs;
  const fixed: BatchGetJobs = async (ctx, withPgClient, tasks, poolId, flagsToSkip, batchSize) => {
    const jobs = await original(ctx, withPgClient, tasks, poolId, flagsToSkip, batchSize);
    const { kept, extra } = firstJobPerQueue(jobs);
    if (extra.length === 0) return jobs;
    await unlockJobs(ctx.escapedWorkerSchema, withPgClient, poolId, extra);
    return kept;
  };
  module.batchGetJobs = fixed;
  installed = true;
  return true;
}

/** Splits a fetched batch: the first job of each named queue (and every job without one), and the rest. */
export function firstJobPerQueue<J extends FetchedJob>(
  jobs: readonly J[],
): { kept: J[]; extra: J[] } {
  const first = new Map<number, J>();
  for (const job of jobs) {
    if (job.job_queue_id == null) continue;
    const current = first.get(job.job_queue_id);
    if (!current || before(job, current)) first.set(job.job_queue_id, job);
  }
  const kept: J[] = [];
  const extra: J[] = [];
  for (const job of jobs) {
    if (job.job_queue_id == null || first.get(job.job_queue_id) === job) kept.push(job);
    else extra.push(job);
  }
  return { kept, extra };
}

function before(a: FetchedJob, b: FetchedJob): boolean {
  if (a.priority !== b.priority) return a.priority < b.priority;
  const at = new Date(a.run_at).getTime() - new Date(b.run_at).getTime();
  if (at !== 0) return at < 0;
  return BigInt(a.id) < BigInt(b.id);
}

/**
 * Unlocks jobs this pool fetched but must not run yet; the queue rows stay
 * locked. If the database is unreachable the kept jobs cannot run either;
 * the unlock is retried in the background until it succeeds (a job that
 * stays locked meanwhile would otherwise wait for graphile-worker's 4-hour
 * lock expiry), at the price of FIFO order in that case only.
 */
async function unlockJobs(
  schema: string,
  withPgClient: WithPgClient,
  poolId: string,
  jobs: FetchedJob[],
): Promise<void> {
  const query = {
    text: `update ${schema}._private_jobs as jobs
           set attempts = greatest(0, jobs.attempts - 1), locked_by = null, locked_at = null
           where jobs.id = any($2::bigint[]) and jobs.locked_by = $1::text`,
    values: [poolId, jobs.map((job) => job.id)],
  };
  const run = withPgClient.withRetries ?? withPgClient;
  try {
    await run((client) => client.query(query));
  } catch (error) {
    logger?.warn(
      `could not put back ${jobs.length} job(s) of a serial queue fetched with another of the same queue; retrying in the background: ${(error as Error).message}`,
    );
    void retryInBackground(() => run((client) => client.query(query)));
  }
}

async function retryInBackground(attempt: () => Promise<unknown>): Promise<void> {
  for (let delay = 500; ; delay = Math.min(delay * 2, 30_000)) {
    await new Promise((resolve) => setTimeout(resolve, delay).unref());
    try {
      await attempt();
      logger?.info("serial queue jobs put back");
      return;
    } catch {
      // keep trying: the database is still away
    }
  }
}
