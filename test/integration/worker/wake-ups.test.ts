import pg from "pg";
import { afterEach, expect, it } from "vitest";

import { createClient } from "../../../src/client/create-client.js";
import { useTestDatabase } from "../../helpers/db.js";
import { waitFor } from "../../helpers/wait-for.js";
import { startTestWorker } from "../../helpers/worker.js";

const db = useTestDatabase();
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()?.();
});

const chain = {
  steps: [
    { name: "a", task: "wake.step" },
    { name: "b", task: "wake.step", dependsOn: ["a"] },
    { name: "c", task: "wake.step", dependsOn: ["b"] },
  ],
};
const tasks = { "wake.step": () => ({ ok: true }) };

async function waiters(): Promise<{ id: string; channel: string }[]> {
  const { rows } = await db.query<{ id: string; channel: string }>(
    "select id, channel from rowflow.waiters where until > now() order by channel, id",
  );
  return rows;
}

/** A LISTEN connection on both channels that counts what arrives. */
async function listen(): Promise<{ received: string[] }> {
  const listener = new pg.Client({ connectionString: db.url });
  await listener.connect();
  const received: string[] = [];
  listener.on("notification", (message) => received.push(message.channel));
  await listener.query('listen "jobs:insert"; listen rowflow');
  cleanup.push(() => listener.end());
  return { received };
}

it("wakes an idle worker and a waiting client by NOTIFY: runs finish with both poll intervals far beyond the deadline", async () => {
  // Neither side polls within the test's deadlines (60 s), so the chain can
  // only finish through wake-ups: the worker marked itself waiting on
  // jobs:insert when it ran out of jobs, the client on rowflow while it waits.
  await db.query("select rowflow.define_workflow(name => 'wake-chain', spec => $1::jsonb)", [
    JSON.stringify(chain),
  ]);
  const worker = await startTestWorker(db.url, {
    tasks,
    pollInterval: 60_000,
    syncWorkflows: false,
  });
  cleanup.push(() => worker.stop());
  await waitFor(
    async () => (await waiters()).some((w) => w.id === worker.id && w.channel === "jobs:insert"),
    {
      message: "the idle worker never marked itself waiting on jobs:insert",
    },
  );

  const client = createClient({ connectionString: db.url, pollInterval: 60_000 });
  cleanup.push(() => client.close());
  for (let i = 0; i < 3; i++) {
    const id = await client.startRun("wake-chain", { i });
    const run = await client.waitForRun(id, { timeout: 20_000 });
    expect(run.status).toBe("succeeded");
  }
  expect((await waiters()).filter((w) => w.channel === "rowflow")).toHaveLength(1);

  await client.close();
  await worker.stop();
  expect(await waiters()).toEqual([]);
});

it("wakes a worker whose LISTEN is the only one on the database, for jobs queued by start_run and by the gates", async () => {
  // Problem seen earlier under vitest: jobs created by rowflow reached a
  // worker only by polling unless another LISTEN connection existed. Since
  // 000005 the write paths NOTIFY jobs:insert only for a marked waiter, and
  // nothing marked; here the worker marks itself and nothing else listens.
  await db.query("select rowflow.define_workflow(name => 'alone-chain', spec => $1::jsonb)", [
    JSON.stringify(chain),
  ]);
  const worker = await startTestWorker(db.url, {
    tasks,
    pollInterval: 60_000,
    syncWorkflows: false,
  });
  cleanup.push(() => worker.stop());
  await waitFor(async () => (await waiters()).some((w) => w.id === worker.id));
  const { rows: listeners } = await db.query<{ n: number }>(
    "select count(*)::int as n from pg_stat_activity where datname = current_database() and query ilike 'listen%'",
  );
  expect(listeners).toEqual([{ n: 1 }]);
  const { rows } = await db.query<{ id: string }>(
    "select rowflow.start_run(workflow => 'alone-chain') as id",
  );
  const status = await waitFor(async () => {
    const { rows: run } = await db.query<{ status: string }>(
      "select status from rowflow.runs where id = $1",
      [rows[0]?.id],
    );
    return run[0]?.status === "succeeded" && run[0].status;
  });
  expect(status).toBe("succeeded");
});

it("completes runs by polling alone when no NOTIFY is ever sent", async () => {
  // This database never notifies (invariant 5, docs/architecture.md: NOTIFY is a hint):
  // neither _wake (jobs added through _enqueue / _add_step_jobs, hints
  // through _notify) nor 000011's _wake_all (starts, claims and gates).
  await db.query(`create or replace function rowflow._wake(channel text, payload text) returns void
                  language sql set search_path to '' as $$ select $$`);
  await db.query(`create or replace function rowflow._wake_all(jobs int, runs int, hint jsonb) returns int
                  language sql set search_path to '' as $$ select 0 $$`);
  const { received } = await listen();
  await db.query("select rowflow.define_workflow(name => 'quiet-chain', spec => $1::jsonb)", [
    JSON.stringify(chain),
  ]);
  const worker = await startTestWorker(db.url, { tasks, pollInterval: 50, syncWorkflows: false });
  cleanup.push(() => worker.stop());
  const client = createClient({ connectionString: db.url, pollInterval: 50 });
  cleanup.push(() => client.close());

  const ids = await client.startRuns("quiet-chain", [{ i: 1 }, { i: 2 }, { i: 3 }]);
  for (const id of ids)
    expect((await client.waitForRun(id, { timeout: 20_000 })).status).toBe("succeeded");
  const id = await client.startRun("quiet-chain", { i: 4 });
  expect((await client.waitForRun(id, { timeout: 20_000 })).status).toBe("succeeded");
  expect(received).toEqual([]);
});

it("a busy worker is not marked waiting, so step commits under load do not NOTIFY", async () => {
  // 40 runs queued before the worker starts: its first fetch is a full local
  // queue batch (localQueueSize 4), i.e. a backlog, so it must not mark.
  await db.query("select rowflow.define_workflow(name => 'busy-chain', spec => $1::jsonb)", [
    JSON.stringify(chain),
  ]);
  await db.query(
    "select count(*) from rowflow.start_runs(workflow => 'busy-chain', inputs => (select array_agg(jsonb_build_object('i', i)) from generate_series(1, 40) as i))",
  );
  const marks: boolean[] = [];
  const worker = await startTestWorker(db.url, {
    tasks: {
      "wake.step": async () => {
        marks.push((await waiters()).some((w) => w.channel === "jobs:insert"));
        return {};
      },
    },
    concurrency: 2,
    localQueueSize: 4,
    pollInterval: 50,
    syncWorkflows: false,
  });
  cleanup.push(() => worker.stop());
  await waitFor(async () => {
    const { rows } = await db.query<{ n: string }>(
      "select count(*) as n from rowflow.runs where workflow = 'busy-chain' and status = 'succeeded'",
    );
    return Number(rows[0]?.n) === 40;
  });
  // The first handlers ran while the backlog was being fetched in full batches.
  expect(marks.slice(0, 8)).toEqual(Array(8).fill(false));
});
