// Set-up of the peer variants' databases, run by the bench's parent process
// before a variant's measured part: pg-boss's schema and queues, DBOS's system
// tables and queue, and the work they drain.
import { DBOS, DBOSClient } from "@dbos-inc/dbos-sdk";
import pg from "pg";
import PgBoss from "pg-boss";

import { execute } from "./business-table.js";
import { dbosSettings, pgBossOptions, quietDbosLogger } from "./peer-settings.js";

/** The per-run fan-in counter of the hand-built diamonds (graphile-worker, pg-boss). */
export const createFanInTable = `
  create table public.bench_fanin (
    run int primary key,
    done int not null
  )`;

/** Queues `runs` graphile-worker jobs "a" ({ run: i }) with one add_jobs call, and the counter table. */
export async function prepareGraphileDiamond(url: string, runs: number): Promise<void> {
  await execute(url, createFanInTable);
  await execute(
    url,
    `select count(*) from graphile_worker.add_jobs(
       (select array_agg(row('a', json_build_object('run', i), null, null, null, null, null, null)::graphile_worker.job_spec)
          from generate_series(1, $1::int) as i))`,
    [runs],
  );
}

/**
 * Installs pg-boss's schema, creates `queues` up front and inserts `jobs`
 * (in chunks of 10,000, one insert each).
 */
export async function preparePgBoss(
  url: string,
  queues: string[],
  jobs: PgBoss.JobInsert[] = [],
): Promise<void> {
  const boss = new PgBoss({ connectionString: url, max: 2, ...pgBossOptions });
  boss.on("error", (error) => console.error("[pg-boss]", error));
  await boss.start();
  try {
    for (const queue of queues) await boss.createQueue(queue);
    for (let i = 0; i < jobs.length; i += 10_000) await boss.insert(jobs.slice(i, i + 10_000));
  } finally {
    await boss.stop({ graceful: false });
  }
}

/** pg-boss's queues for the diamond, with `runs` "a" jobs queued, and the counter table. */
export async function preparePgBossDiamond(url: string, runs: number): Promise<void> {
  await execute(url, createFanInTable);
  const jobs = Array.from({ length: runs }, (_, i) => ({ name: "a", data: { run: i + 1 } }));
  await preparePgBoss(url, ["a", "b", "c", "d"], jobs);
}

/** A DBOS client on `url` (the system database), acting as the bench's application. */
export function dbosClient(url: string, pool?: pg.Pool): Promise<DBOSClient> {
  return DBOSClient.create({
    systemDatabaseUrl: url,
    ...(pool ? { systemDatabasePool: pool } : {}),
    applicationName: dbosSettings.appName,
    logger: quietDbosLogger,
  });
}

/**
 * Creates DBOS's system tables in `url` (the variant's own database, schema
 * "dbos"), registers the bench queue with `concurrency` workflows per process
 * and enqueues one run of `workflowName` per input: DBOSClient's
 * enqueueInTransaction, 500 per transaction, on `concurrency` connections.
 */
export async function prepareDbos(
  url: string,
  concurrency: number,
  workflowName?: string,
  inputs: unknown[] = [],
): Promise<void> {
  await DBOS.migrate(url);
  const pool = new pg.Pool({ connectionString: url, max: concurrency });
  // An idle client ended by the server (the variant's database dropped with
  // FORCE while the pool winds down) must not crash the bench.
  pool.on("error", () => {});
  const client = await dbosClient(url, pool);
  try {
    await client.registerQueue(dbosSettings.queue, {
      workerConcurrency: concurrency,
      minPollingIntervalMs: dbosSettings.pollingIntervalMs,
      applicationName: dbosSettings.appName,
    });
    if (!workflowName) return;
    const batches: unknown[][] = [];
    for (let i = 0; i < inputs.length; i += 500) batches.push(inputs.slice(i, i + 500));
    const enqueueBatches = async (): Promise<void> => {
      const connection = await pool.connect();
      try {
        for (let batch = batches.pop(); batch; batch = batches.pop()) {
          await connection.query("begin");
          for (const input of batch) {
            await client.enqueueInTransaction(
              connection,
              { queueName: dbosSettings.queue, workflowName },
              input,
            );
          }
          await connection.query("commit");
        }
      } finally {
        connection.release();
      }
    };
    await Promise.all(Array.from({ length: concurrency }, enqueueBatches));
  } finally {
    await client.destroy();
    await pool.end();
  }
}
