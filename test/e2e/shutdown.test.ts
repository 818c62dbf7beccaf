import { sql } from "kysely";
import { afterEach, expect, it } from "vitest";

import { createClient } from "../../src/client/create-client.js";
import type { HandlerContext } from "../../src/definition/handler-context.js";
import { useTestDatabase } from "../helpers/db.js";
import { waitFor } from "../helpers/wait-for.js";
import { startTestWorker } from "../helpers/worker.js";

const db = useTestDatabase();
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()?.();
});

const tasks = {
  // Finishes well within the grace period.
  "s.quick": async (ctx: HandlerContext) => {
    await sql`insert into ledger values (${ctx.run.id}, ${ctx.attempt})`.execute(ctx.tx);
    await new Promise((resolve) => setTimeout(resolve, 400));
    return { attempt: ctx.attempt };
  },
  // Outlives the grace period on its first attempt and ignores the signal.
  "s.stubborn": async (ctx: HandlerContext) => {
    await sql`insert into ledger values (${ctx.run.id}, ${ctx.attempt})`.execute(ctx.tx);
    if (ctx.attempt === 1) await new Promise(() => {});
    return { attempt: ctx.attempt };
  },
};
const workflows = [
  { name: "quick", spec: { steps: [{ name: "only", task: "s.quick" }] } },
  { name: "stubborn", spec: { steps: [{ name: "only", task: "s.stubborn", attempts: 3 }] } },
];

it("stops gracefully under load: running handlers finish, an overdue one is aborted and retried elsewhere, no lock is left", async () => {
  await db.query("create table ledger (run_id bigint, attempt int)");
  const client = createClient({ connectionString: db.url, pollInterval: 200 });
  cleanup.push(() => client.close());
  const first = await startTestWorker(db.url, {
    tasks,
    workflows,
    concurrency: 4,
    shutdownGracePeriod: 700,
  });
  const stubbornId = await client.startRun("stubborn");
  const quickIds = await client.startRuns(
    "quick",
    Array.from({ length: 30 }, (_, i) => ({ i })),
  );
  // Stop while the stubborn handler and quick ones run and more jobs wait in the local queue.
  await waitFor(
    async () => {
      const { rows } = await db.query<{ n: number; stubborn: boolean }>(
        "select count(*)::int as n, bool_or(run_id = $1) as stubborn from rowflow.step_runs where status = 'running'",
        [stubbornId],
      );
      return rows[0]!.n >= 4 && rows[0]!.stubborn;
    },
    { message: "handlers never started" },
  );

  const stopStarted = Date.now();
  await first.stop();
  const stopTook = Date.now() - stopStarted;
  expect(stopTook).toBeLessThan(700 + 2_000);

  const locked = await db.query<{ n: number }>(
    "select count(*)::int as n from graphile_worker.jobs where locked_by is not null",
  );
  expect(locked.rows[0]!.n).toBe(0);
  expect((await db.query("select id from rowflow.workers")).rowCount).toBe(0);
  const running = await db.query<{ n: number }>(
    "select count(*)::int as n from rowflow.step_runs where status = 'running'",
  );
  expect(running.rows[0]!.n).toBe(0); // every attempt was finished or recorded as failed

  const second = await startTestWorker(db.url, { tasks, workflows, concurrency: 4 });
  cleanup.push(() => second.stop());
  const runs = await Promise.all(
    [...quickIds, stubbornId].map((id) => client.waitForRun(id, { timeout: 30_000 })),
  );
  expect(runs.map((r) => r.status)).toEqual(runs.map(() => "succeeded"));
  const stubborn = runs.at(-1)!;
  expect(stubborn.id).toBe(stubbornId);
  expect(stubborn.steps[0]).toMatchObject({ attempt: 2, output: { attempt: 2 } });
  const shutdownFailures = await db.query<{ kind: string }>(
    "select data -> 'error' ->> 'kind' as kind from rowflow.events where run_id = $1 and type = 'step_retrying'",
    [stubbornId],
  );
  expect(shutdownFailures.rows).toEqual([{ kind: "shutdown" }]);
  const ledger = await db.query<{ run_id: string; n: number }>(
    "select run_id, count(*)::int as n from ledger group by run_id",
  );
  expect(ledger.rows).toHaveLength(31);
  expect(ledger.rows.filter((r) => r.n !== 1)).toEqual([]);
});

it("stops gracefully right after a batch arrives: jobs waiting in the local queue are returned unlocked", async () => {
  await db.query("create table if not exists ledger (run_id bigint, attempt int)");
  const client = createClient({ connectionString: db.url, pollInterval: 200 });
  cleanup.push(() => client.close());
  const worker = await startTestWorker(db.url, {
    tasks,
    workflows,
    concurrency: 4,
    localQueueSize: 12,
    shutdownGracePeriod: 2_000,
  });
  const ids = await client.startRuns(
    "quick",
    Array.from({ length: 40 }, (_, i) => ({ i, batch: 2 })),
  );
  await waitFor(
    async () => {
      const { rows } = await db.query<{ n: number }>(
        "select count(*)::int as n from rowflow.step_runs where status = 'running'",
      );
      return rows[0]!.n >= 3;
    },
    { message: "handlers never started" },
  );
  await worker.stop();
  const { rows } = await db.query<{ locked: number; running: number }>(
    `select (select count(*)::int from graphile_worker.jobs where locked_by is not null) as locked,
            (select count(*)::int from rowflow.step_runs where status = 'running') as running`,
  );
  expect(rows[0]).toEqual({ locked: 0, running: 0 });
  const second = await startTestWorker(db.url, { tasks, workflows, concurrency: 8 });
  cleanup.push(() => second.stop());
  const runs = await Promise.all(ids.map((id) => client.waitForRun(id, { timeout: 30_000 })));
  expect(runs.map((r) => r.status)).toEqual(ids.map(() => "succeeded"));
});
