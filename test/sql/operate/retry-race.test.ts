// Operations racing a worker (issue #15's "bad input"): retry_run while the
// last attempt is failing, and skip_step while the step runs, change state
// exactly once, and never leave a step both succeeded and queued. The
// concurrency is real (two sessions); the order is forced by the run lock,
// observed in pg_stat_activity, not by sleeps.
import type pg from "pg";
import { describe, expect, it } from "vitest";

import { useTestDatabase } from "../../helpers/db.js";
import { waitFor } from "../../helpers/wait-for.js";
import { begin, define, fail, jobKeys, runStep, startRun, statuses } from "../support.js";

const db = useTestDatabase();

const diamond = {
  steps: [
    { name: "a", task: "t" },
    { name: "b", task: "t", dependsOn: ["a"], attempts: 1 },
    { name: "c", task: "t", dependsOn: ["a"] },
    { name: "d", task: "t", dependsOn: ["b", "c"] },
  ],
};

/** Resolves once `pid`'s statement waits on a lock. */
async function waitsOnLock(pid: number) {
  await waitFor(
    async () => {
      const { rows } = await db.query<{ w: string | null }>(
        "select wait_event_type as w from pg_stat_activity where pid = $1",
        [pid],
      );
      return rows[0]?.w === "Lock";
    },
    { timeoutMs: 10_000, message: `session ${pid} waiting on the run lock` },
  );
}

async function twoSessions<T>(
  fn: (a: pg.PoolClient, b: pg.PoolClient, pidB: number) => Promise<T>,
) {
  const a = await db.pool.connect();
  const b = await db.pool.connect();
  try {
    const { rows } = await b.query<{ pid: number }>("select pg_backend_pid() as pid");
    return await fn(a, b, rows[0]!.pid);
  } finally {
    await a.query("rollback").catch(() => {});
    a.release();
    b.release();
  }
}

describe("operations racing a worker", () => {
  it("retry_run waiting on the last attempt's failure retries the failed run once", async () => {
    await define(db.pool, "race1", diamond);
    const run = await startRun(db.pool, "race1", {});
    await runStep(db.pool, run, "a", { a: 1 });
    await runStep(db.pool, run, "c", { c: 1 });
    await begin(db.pool, run, "b", 1);
    await twoSessions(async (a, b, pidB) => {
      await a.query("begin");
      expect(await fail(a, run, "b", 1, { retryable: false })).toMatchObject({
        runStatus: "failed",
      });
      const retried = b.query<{ r: Record<string, unknown> }>(
        "select rowflow.retry_run(run_id => $1, mode => 'failed') as r",
        [run],
      );
      await waitsOnLock(pidB);
      await a.query("commit");
      expect((await retried).rows[0]!.r).toMatchObject({
        retried: true,
        status: "running",
        queued: ["b"],
      });
    });
    expect(await statuses(db.pool, run)).toEqual({
      a: "succeeded",
      b: "queued",
      c: "succeeded",
      d: "pending",
    });
    expect((await jobKeys(db.pool, run)).filter((k) => k.includes(":b:"))).toHaveLength(1);
    // A second retry finds nothing to do.
    const again = await db.query<{ r: Record<string, unknown> }>(
      "select rowflow.retry_run(run_id => $1, mode => 'failed') as r",
      [run],
    );
    expect(again.rows[0]!.r).toMatchObject({ retried: false });
  });

  it("skip_step waiting on a completing attempt settles nothing twice", async () => {
    await define(db.pool, "race2", diamond);
    const run = await startRun(db.pool, "race2", {});
    await runStep(db.pool, run, "a", { a: 1 });
    await begin(db.pool, run, "c", 1);
    await twoSessions(async (a, b, pidB) => {
      await a.query("begin");
      await a.query(
        "select rowflow.complete_step(run_id => $1, step => 'c', attempt => 1, output => '{\"c\": 1}'::jsonb)",
        [run],
      );
      const skipped = b
        .query(
          "select rowflow.skip_step(run_id => $1, step => 'c', output => '{\"c\": 2}'::jsonb) as r",
          [run],
        )
        .then((r) => r.rows[0].r as Record<string, unknown>);
      await waitsOnLock(pidB);
      await a.query("commit");
      expect(await skipped).toMatchObject({ skipped: false, status: "succeeded" });
    });
    const { rows } = await db.query(
      "select status, output from rowflow.step_runs where run_id = $1 and step = 'c'",
      [run],
    );
    expect(rows).toEqual([{ status: "succeeded", output: { c: 1 } }]);
    // c settled once: its completion released d, the skip changed nothing (one d job).
    expect(await statuses(db.pool, run)).toMatchObject({
      b: "queued",
      c: "succeeded",
      d: "pending",
    });
    expect((await jobKeys(db.pool, run)).filter((k) => k.includes(":c:2"))).toEqual([]);
  });
});
