import type pg from "pg";
import PgBoss from "pg-boss";

import { pgBossOptions, pgBossSettings, workersPerQueue } from "../peer-settings.js";

/** A batch handler for one queue. */
export type BatchHandler = (jobs: PgBoss.Job<{ run?: number; t?: number }>[]) => Promise<void>;

/**
 * pg-boss 10 workers for the handlers that `makeHandlers` returns for the started
 * instance (queue name → batch handler):
 * `concurrency` `work` loops in all, split evenly over the queues, each
 * fetching up to `pgBossSettings.batchSize` jobs per poll. pg-boss 10 has no
 * per-worker concurrency option, so each loop is one `work` call; a queue's
 * loops start spread over one polling interval, so they poll in turn rather
 * than all at once. The pool: `concurrency` + 2 connections, as graphile-worker's.
 */
export async function startPgBoss(
  url: string,
  concurrency: number,
  makeHandlers: (boss: PgBoss) => Record<string, BatchHandler>,
): Promise<() => Promise<void>> {
  const boss = new PgBoss({
    connectionString: url,
    max: concurrency + 2,
    migrate: false,
    ...pgBossOptions,
  });
  boss.on("error", (error) => console.error("[pg-boss]", error));
  await boss.start();
  const handlers = makeHandlers(boss);
  const queues = Object.keys(handlers);
  const perQueue = workersPerQueue(concurrency, queues.length);
  const intervalMs = pgBossSettings.pollingIntervalSeconds * 1000;
  const options = {
    batchSize: pgBossSettings.batchSize,
    pollingIntervalSeconds: pgBossSettings.pollingIntervalSeconds,
  };
  for (let i = 0; i < perQueue; i++) {
    if (i > 0) await new Promise((resolve) => setTimeout(resolve, intervalMs / perQueue));
    for (const [queue, handler] of Object.entries(handlers))
      await boss.work(queue, options, handler);
  }
  return () => boss.stop({ graceful: true, timeout: 5_000 });
}

/** A pg-boss `db` (its ConnectionOptions) running on `client`: pg-boss writes in the caller's transaction. */
export function inTransaction(client: pg.PoolClient): PgBoss.Db {
  return { executeSql: (text, values) => client.query(text, values) };
}
