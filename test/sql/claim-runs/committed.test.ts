// claim_runs across transactions (they commit): SKIP LOCKED, and the step lists
// readers see (rowflow.run_steps, getRun).
// sql/schema/60_gate/claim_runs.sql: a start is one 'queued' run row; rowflow.claim_runs makes it
// running and writes a row for every step at once (eager rows), hands up to
// `take` root steps to the claiming worker under a lease and queues the
// others as jobs. These tests pin the claim (order, SKIP LOCKED, leases,
// conditions), what eager rows mean for fan-in, cancel and failure, the step
// lists readers see (rowflow.run_steps, getRun), and that runs started by an
// older rowflow (lazy rows: 000006-000010) still run to the end.
import { Kysely, PostgresDialect } from "kysely";
import type pg from "pg";
import { describe, expect, it } from "vitest";

import { getRun } from "../../../src/db/runs/get-run.js";
import type { Database } from "../../../src/db/types.js";
import { useTestDatabase } from "../../helpers/db.js";
import { claimRuns } from "../gate-calls.js";
import { claimAll, define, queueRun } from "../support.js";

const db = useTestDatabase();

const T = "2030-01-01T00:00:00.000Z";

// Last: these commit.
describe("claim_runs, committed", () => {
  it("skips runs another transaction is claiming (SKIP LOCKED): two claims get different runs, without waiting", async () => {
    await define(db.pool, "skip-locked", {
      steps: [
        { name: "a", task: "t" },
        { name: "b", task: "t", dependsOn: ["a"] },
      ],
    });
    const r1 = await queueRun(db.pool, "skip-locked", { n: 1 });
    const r2 = await queueRun(db.pool, "skip-locked", { n: 2 });
    const c1 = await db.pool.connect();
    const c2 = await db.pool.connect();
    const claimed = async (client: pg.PoolClient) => {
      const { rows } = await client.query<{ id: string }>(
        "select id from rowflow.runs where status = 'running' and started_at = $1::timestamptz",
        [T],
      );
      return rows.map((r) => Number(r.id));
    };
    try {
      await c1.query("begin");
      await c2.query("begin");
      // Waiting for c1's lock would end in an error here, not a hang.
      await c2.query("set local lock_timeout = '5s'");
      expect(await claimRuns(c1, { worker: "w1", take: 1, maxRuns: 1, now: T })).toMatchObject({
        runs: 1,
        taken: [expect.objectContaining({ runId: String(r1), step: "a" })],
      });
      // c2 asks for both: r1 is locked by c1's claim, so it gets r2 only.
      expect(await claimRuns(c2, { worker: "w2", take: 2, maxRuns: 2, now: T })).toMatchObject({
        runs: 1,
        taken: [expect.objectContaining({ runId: String(r2), step: "a" })],
      });
      expect(await claimed(c1)).toEqual([r1]);
      expect(await claimed(c2)).toEqual([r2]);
      await c1.query("commit");
      await c2.query("commit");
    } finally {
      await c1.query("rollback").catch(() => {});
      await c2.query("rollback").catch(() => {});
      c1.release();
      c2.release();
    }
    const { rows } = await db.query(
      `select r.id::int, r.status, count(s.*)::int as steps,
              string_agg(s.step || ':' || s.status || ':' || coalesce(s.locked_by, '-'), ',' order by s.step) as rows
       from rowflow.runs r left join rowflow.step_runs s on s.run_id = r.id
       where r.workflow = 'skip-locked' group by r.id order by r.id`,
    );
    expect(rows).toEqual([
      { id: r1, status: "running", steps: 2, rows: "a:running:w1,b:pending:-" },
      { id: r2, status: "running", steps: 2, rows: "a:running:w2,b:pending:-" },
    ]);
    expect(await claimRuns(db.pool, { take: 0, maxRuns: 10 })).toEqual({ runs: 0, taken: [] });
  });

  it("getRun lists every step: all pending while queued, then the claimed rows", async () => {
    await define(db.pool, "getrun", {
      steps: [
        { name: "a", task: "t" },
        { name: "b", task: "t", dependsOn: ["a"], attempts: 5 },
      ],
    });
    const run = await queueRun(db.pool, "getrun", { n: 1 });
    const kysely = new Kysely<Database>({ dialect: new PostgresDialect({ pool: db.pool }) });
    const queued = await getRun(kysely, { runId: String(run) });
    expect(queued?.status).toBe("queued");
    expect(queued?.steps.map((s) => [s.step, s.kind, s.status, s.attempt, s.maxAttempts])).toEqual([
      ["a", "step", "pending", 0, 3],
      ["b", "step", "pending", 0, 5],
    ]);
    // A step without a row shows the run's creation time.
    expect(queued?.steps.map((s) => s.createdAt)).toEqual([queued?.createdAt, queued?.createdAt]);
    expect(await claimAll(db.pool, T)).toEqual({ runs: 1, taken: [] });
    const claimed = await getRun(kysely, { runId: String(run) });
    expect(claimed?.status).toBe("running");
    expect(claimed?.steps.map((s) => [s.step, s.kind, s.status, s.attempt, s.maxAttempts])).toEqual(
      [
        ["a", "step", "queued", 1, 3],
        ["b", "step", "pending", 0, 5],
      ],
    );
    expect(claimed?.steps.map((s) => s.createdAt)).toEqual([new Date(T), new Date(T)]);
  });
});
