// Child process: drains diamond runs (a → b, c → d) built on pg-boss 10 with
// batch handlers (children/pg-boss.ts): a's handler sends its batch's b and c
// jobs with one insert; b's and c's handlers bump their runs' counter rows in
// one transaction and insert, in the same transaction, the d jobs of the runs
// they brought to 2. The fan-in is not atomic with the jobs' completion
// (pg-boss completes a batch after its handler returned, in a statement of its
// own): a batch retried after its transaction committed would count twice.
// Counts every job handled; prints { executed, firstToLastMs, maxRssMb } after
// `count` of them.
import pg from "pg";
import type PgBoss from "pg-boss";

import { workersPerQueue } from "../peer-settings.js";
import { countdown } from "./countdown.js";
import { type BatchHandler, inTransaction, startPgBoss } from "./pg-boss.js";

const [url, countArg, concurrencyArg] = process.argv.slice(2);
const counter = countdown(Number(countArg));
const concurrency = Number(concurrencyArg);
const runsOf = (jobs: Parameters<BatchHandler>[0]) =>
  jobs.map((job) => Number(job.data.run)).sort((x, y) => x - y);

// The handlers' own connections for the fan-in transactions: one per loop of b and c.
const pool = new pg.Pool({ connectionString: url, max: 2 * workersPerQueue(concurrency, 4) });

// The runs are sorted: two overlapping batches lock their counter rows in the same order.
const fanIn =
  (boss: PgBoss): BatchHandler =>
  async (jobs) => {
    counter.tick(jobs.length);
    const client = await pool.connect();
    try {
      await client.query("begin");
      const { rows } = await client.query<{ run: number; done: number }>(
        `insert into public.bench_fanin (run, done)
           select run, 1 from unnest($1::int[]) as run order by run
           on conflict (run) do update set done = bench_fanin.done + 1
         returning run, done`,
        [runsOf(jobs)],
      );
      const ready = rows.filter((row) => row.done === 2);
      if (ready.length > 0) {
        await boss.insert(
          ready.map((row) => ({ name: "d", data: { run: row.run } })),
          { db: inTransaction(client) },
        );
      }
      await client.query("commit");
    } catch (error) {
      await client.query("rollback");
      throw error;
    } finally {
      client.release();
    }
  };

const stop = await startPgBoss(url as string, concurrency, (boss) => ({
  a: async (jobs) => {
    counter.tick(jobs.length);
    await boss.insert(
      jobs.flatMap((job) => [
        { name: "b", data: job.data },
        { name: "c", data: job.data },
      ]),
    );
  },
  b: fanIn(boss),
  c: fanIn(boss),
  d: async (jobs) => counter.tick(jobs.length),
}));
await counter.done;
await stop();
await pool.end();
process.stdout.write(`${JSON.stringify(counter.result())}\n`);
process.exit(0);
