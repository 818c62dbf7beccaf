// Per-workflow retention (sql/schema/85_operate/retention.sql): set by an
// operator, applied by exactly one caller per period, only to finished
// runs past their workflow's retention; and applied by a running worker
// on its heartbeat.
import { describe, expect, it } from "vitest";

import { createWorker } from "../../../src/worker/create-worker.js";
import { useTestDatabase } from "../../helpers/db.js";
import { waitFor } from "../../helpers/wait-for.js";
import { define, expectSqlError, type Queryable, runStep, startRun } from "../support.js";

const db = useTestDatabase();

async function finishedRun(q: Queryable, workflow: string, ageDays: number): Promise<number> {
  const run = await startRun(q, workflow);
  await runStep(q, run, "a", null);
  await q.query(
    "update rowflow.runs set finished_at = finished_at - $2 * interval '1 day' where id = $1",
    [run, ageDays],
  );
  return run;
}

async function runIds(q: Queryable): Promise<number[]> {
  const { rows } = await q.query<{ id: string }>("select id from rowflow.runs order by id");
  return rows.map((r) => Number(r.id));
}

describe("set_retention / apply_retention", () => {
  it("purges only finished runs past their own workflow's retention, once per period", async () => {
    await db.rollback(async (c) => {
      const one = { steps: [{ name: "a", task: "t" }] };
      await define(c, "short", one);
      await define(c, "forever", one);
      expect(
        (await c.query("select rowflow.set_retention('short', interval '7 days') as r")).rows[0].r,
      ).toEqual({ workflow: "short", retention: "7 days", changed: true });
      const old = await finishedRun(c, "short", 10);
      const recent = await finishedRun(c, "short", 1);
      const oldForever = await finishedRun(c, "forever", 100);
      const unfinished = await startRun(c, "short");
      await c.query(
        "update rowflow.runs set created_at = created_at - interval '30 days' where id = $1",
        [unfinished],
      );
      const apply = async (now: string | null = null) =>
        (
          await c.query(
            "select rowflow.apply_retention(worker_id => 'w1', now => $1::timestamptz) as r",
            [now],
          )
        ).rows[0].r;
      expect(await apply()).toEqual({ claimed: true, deleted: 1, workflows: { short: 1 } });
      expect(await runIds(c)).toEqual([recent, oldForever, unfinished].sort((x, y) => x - y));
      // The same period: nobody claims it again.
      expect(await apply()).toEqual({ claimed: false });
      // Two minutes later the next period is claimed (nothing left to purge).
      expect(await apply(new Date(Date.now() + 120_000).toISOString())).toEqual({
        claimed: true,
        deleted: 0,
        workflows: {},
      });
      const { rows } = await c.query(
        "select last_by, last_result from rowflow.maintenance where task = 'retention'",
      );
      expect(rows).toEqual([
        { last_by: "w1", last_result: { claimed: true, deleted: 0, workflows: {} } },
      ]);
      expect(old).toBeLessThan(recent);
    });
  });

  it("a second caller while the first holds the period answers at once, unclaimed", async () => {
    await define(db.pool, "short", { steps: [{ name: "a", task: "t" }] });
    await db.query("select rowflow.set_retention('short', interval '1 day')");
    const first = await db.pool.connect();
    const second = await db.pool.connect();
    try {
      await first.query("begin");
      const a = await first.query("select rowflow.apply_retention(worker_id => 'w1') as r");
      expect(a.rows[0].r).toMatchObject({ claimed: true });
      // No wait on the locked row (SKIP LOCKED): the statement returns while `first` is open.
      const b = await second.query("select rowflow.apply_retention(worker_id => 'w2') as r");
      expect(b.rows[0].r).toEqual({ claimed: false });
      await first.query("commit");
      const c = await second.query("select rowflow.apply_retention(worker_id => 'w2') as r");
      expect(c.rows[0].r).toEqual({ claimed: false });
    } finally {
      await first.query("rollback").catch(() => {});
      first.release();
      second.release();
    }
  });

  it("refuses a non-positive retention and an unknown workflow; null keeps forever", async () => {
    await db.rollback(async (c) => {
      await define(c, "w", { steps: [{ name: "a", task: "t" }] });
      await c.query("savepoint s");
      await expectSqlError(
        c.query("select rowflow.set_retention('w', interval '0')"),
        "RF043",
        /retention must be a positive interval or null/,
      );
      await c.query("rollback to savepoint s");
      await expectSqlError(
        c.query("select rowflow.set_retention('nope', interval '1 day')"),
        "RF020",
        "unknown workflow nope",
      );
      await c.query("rollback to savepoint s");
      expect((await c.query("select rowflow.set_retention('w', null) as r")).rows[0].r).toEqual({
        workflow: "w",
        retention: null,
        changed: false,
      });
    });
  });
});

describe("a running worker", () => {
  it("applies retention on its heartbeat", async () => {
    await define(db.pool, "kept", { steps: [{ name: "a", task: "t" }] });
    await db.query("select rowflow.set_retention('kept', interval '1 day')");
    // An earlier test of this file claimed the current period.
    await db.query("update rowflow.maintenance set last_at = '-infinity' where task = 'retention'");
    const old = await finishedRun(db.pool, "kept", 3);
    // The simulated steps leave their graphile jobs. The worker would fetch
    // one, and its refused gate call holds the run's lock just as the
    // heartbeat claims the period; the purge SKIPs LOCKED runs, so the run
    // would wait a whole period (seen in CI: claimed, deleted 0).
    await db.query(
      "delete from graphile_worker._private_jobs where (payload ->> 'run')::bigint = $1",
      [old],
    );
    const lines: string[] = [];
    const worker = createWorker({
      connectionString: db.url,
      concurrency: 1,
      heartbeatInterval: 50,
      syncWorkflows: false,
      logger: {
        debug() {},
        info: (line: string) => lines.push(line),
        warn: (line: string) => lines.push(line),
        error: (line: string) => lines.push(line),
      },
      tasks: { t: () => ({}) },
    });
    await worker.start();
    try {
      // On a timeout the message shows the period's row and the run as last seen.
      let seen = "";
      await waitFor(
        async () => {
          const { rows } = await db.query(
            `select (select row_to_json(m) from rowflow.maintenance as m where m.task = 'retention') as period,
                    (select row_to_json(r) from (select id, status, finished_at, now() - finished_at as age
                                                 from rowflow.runs where id = $1) as r) as run`,
            [old],
          );
          seen = JSON.stringify(rows[0]);
          return rows[0]?.run === null;
        },
        {
          timeoutMs: 30_000,
          message: () =>
            `run ${old} purged by the worker's retention; last seen ${seen}; worker said: ${lines.join(" | ")}`,
        },
      );
      const { rows } = await db.query<{ n: number }>(
        "select count(*)::int as n from rowflow.audit where action = 'apply_retention'",
      );
      expect(rows[0]!.n).toBe(1);
    } finally {
      await worker.stop();
    }
  });
});
