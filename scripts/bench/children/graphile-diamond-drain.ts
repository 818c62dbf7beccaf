// Child process: drains diamond runs (a → b, c → d) built by hand on plain
// graphile-worker, as its users would write one: a's handler adds b and c
// (one addJobs call); b and c each bump the run's counter row in a
// transaction, and the one that makes it 2 adds d in the same transaction.
// The fan-in is not atomic with the job's completion (graphile-worker marks a
// job done after its handler returned, in its own statement): a b retried
// after its transaction committed would count twice. Counts every handler
// call; prints { executed, firstToLastMs, maxRssMb } after `count` of them.
import type { JobHelpers } from "graphile-worker";

import { countdown } from "./countdown.js";
import { runRawGraphile } from "./raw-graphile.js";

const [url, countArg, concurrencyArg, localQueueArg] = process.argv.slice(2);
const counter = countdown(Number(countArg));

interface Payload {
  run: number;
}

async function fanIn(payload: unknown, helpers: JobHelpers): Promise<void> {
  counter.tick();
  const { run } = payload as Payload;
  await helpers.withPgClient(async (client) => {
    await client.query("begin");
    try {
      const { rows } = await client.query<{ done: number }>(
        `insert into public.bench_fanin (run, done) values ($1, 1)
           on conflict (run) do update set done = bench_fanin.done + 1
         returning done`,
        [run],
      );
      if (rows[0]?.done === 2) {
        await client.query(
          "select graphile_worker.add_job('d', json_build_object('run', $1::int))",
          [run],
        );
      }
      await client.query("commit");
    } catch (error) {
      await client.query("rollback");
      throw error;
    }
  });
}

const runner = await runRawGraphile(url as string, Number(concurrencyArg), Number(localQueueArg), {
  a: async (payload, helpers) => {
    counter.tick();
    await helpers.addJobs([
      { identifier: "b", payload },
      { identifier: "c", payload },
    ]);
  },
  b: fanIn,
  c: fanIn,
  d: async () => counter.tick(),
});
await counter.done;
await runner.stop();
process.stdout.write(`${JSON.stringify(counter.result())}\n`);
process.exit(0);
