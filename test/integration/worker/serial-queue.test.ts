import { afterEach, expect, it } from "vitest";

import { silentLogger } from "../../../src/logging/default-logger.js";
import { createWorker, type Worker } from "../../../src/worker/create-worker.js";
import { firstJobPerQueue } from "../../../src/worker/graphile-patches/serial-queue-fetch.js";
import { useTestDatabase } from "../../helpers/db.js";
import { waitFor } from "../../helpers/wait-for.js";

const db = useTestDatabase();
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()?.();
});

const perKey = 6;

it("runs a keyed queue one step at a time in FIFO order per key, two keys in parallel, with the default local queue", async () => {
  // Every run is queued before the worker starts, so its first local-queue
  // fetch sees all of them at once (graphile-worker 0.17.3 locked every job of
  // a named queue in one batch and ran them together; serial-queue-fix.ts).
  await db.query("select rowflow.define_workflow(name => 'ledger', spec => $1::jsonb)", [
    JSON.stringify({
      steps: [{ name: "post", task: "post", queue: { name: "acct", key: "$.input.account" } }],
    }),
  ]);
  for (let seq = 1; seq <= perKey; seq++) {
    for (const account of ["A", "B"]) {
      // One transaction each: increasing run_at, the queue's FIFO order.
      await db.query("select rowflow.start_run(workflow => 'ledger', input => $1::jsonb)", [
        JSON.stringify({ account, seq }),
      ]);
    }
  }

  const active = new Map<string, number>();
  const maxActive = new Map<string, number>();
  const order = new Map<string, number[]>();
  const overlaps = { seen: false };
  const started = (account: string) => order.get(account)?.length ?? 0;
  let worker: Worker | undefined = createWorker({
    connectionString: db.url,
    concurrency: 10, // the default; localQueueSize, completeJobBatchDelay: defaults too
    pollInterval: 100,
    logger: silentLogger,
    syncWorkflows: false,
    tasks: {
      post: async (ctx) => {
        const account = ctx.input.account as string;
        const other = account === "A" ? "B" : "A";
        active.set(account, (active.get(account) ?? 0) + 1);
        maxActive.set(account, Math.max(maxActive.get(account) ?? 0, active.get(account) ?? 0));
        order.set(account, [...(order.get(account) ?? []), ctx.input.seq as number]);
        try {
          // Lockstep: step n of one key waits (with a deadline) until the other
          // key has started its step n. Two keys that could not run in parallel
          // would never both get there.
          const mine = started(account);
          await waitFor(() => started(other) >= mine || (active.get(other) ?? 0) > 0, {
            timeoutMs: 10_000,
            intervalMs: 5,
            message: `queue key ${other} did not run alongside ${account}`,
          });
          if ((active.get(other) ?? 0) > 0) overlaps.seen = true;
          return { posted: ctx.input.seq };
        } finally {
          active.set(account, (active.get(account) ?? 0) - 1);
        }
      },
    },
  });
  await worker.start();
  cleanup.push(async () => {
    await worker?.stop();
    worker = undefined;
  });

  await waitFor(
    async () => {
      const { rows } = await db.query<{ n: string }>(
        "select count(*) as n from rowflow.runs where status = 'succeeded'",
      );
      return Number(rows[0]?.n) === 2 * perKey;
    },
    {
      timeoutMs: 30_000,
      message: () =>
        `runs not finished; started so far ${JSON.stringify(Object.fromEntries(order))}`,
    },
  );

  const expected = Array.from({ length: perKey }, (_, i) => i + 1);
  expect(Object.fromEntries(order)).toEqual({ A: expected, B: expected });
  expect(Object.fromEntries(maxActive)).toEqual({ A: 1, B: 1 });
  expect(overlaps.seen).toBe(true);
  // Nothing was left behind (graphile-worker deletes completed jobs in
  // batches, a few ms after the step's own commit), and no put-back job was
  // ever re-delivered as a second attempt.
  await waitFor(
    async () => (await db.query("select id from graphile_worker.jobs")).rows.length === 0,
    {
      message: "graphile-worker jobs left behind",
    },
  );
  const { rows: attempts } = await db.query<{ attempt: number }>(
    "select distinct attempt from rowflow.step_runs",
  );
  expect(attempts).toEqual([{ attempt: 1 }]);
});

it("keeps the first job of each named queue by priority, run_at and id; jobs without a queue all stay", () => {
  const at = (s: number) => new Date(Date.UTC(2030, 0, 1, 0, 0, s));
  const jobs = [
    { id: "5", job_queue_id: 1, priority: 0, run_at: at(2) },
    { id: "3", job_queue_id: null, priority: 0, run_at: at(9) },
    { id: "4", job_queue_id: 1, priority: 0, run_at: at(1) },
    { id: "9", job_queue_id: 2, priority: 0, run_at: at(1) },
    { id: "8", job_queue_id: 2, priority: 0, run_at: at(1) },
    { id: "7", job_queue_id: 3, priority: 5, run_at: at(0) },
    { id: "10", job_queue_id: 3, priority: -1, run_at: at(3) },
    { id: "11", job_queue_id: null, priority: 0, run_at: at(9) },
  ];
  const { kept, extra } = firstJobPerQueue(jobs);
  expect(kept.map((j) => j.id)).toEqual(["3", "4", "8", "10", "11"]);
  expect(extra.map((j) => j.id)).toEqual(["5", "9", "7"]);
});
