import { describe, expect, it } from "vitest";

import { useTestDatabase } from "../../helpers/db.js";
import {
  define,
  eventTypes,
  expectSqlError,
  jobKeys,
  runRow,
  startRun,
  statuses,
  storedSteps,
} from "../support.js";

const db = useTestDatabase();

const diamond = {
  steps: [
    { name: "a", task: "t" },
    { name: "b", task: "t", dependsOn: ["a"] },
    { name: "c", task: "t", dependsOn: ["a"] },
    { name: "d", task: "t", dependsOn: ["b", "c"] },
  ],
};

describe("start_run", () => {
  it("creates the run, a step run per root step, one event and one keyless job per root step", async () => {
    await db.rollback(async (c) => {
      await define(c, "diamond", diamond);
      const run = await startRun(c, "diamond", { order: 1 });
      expect(await runRow(c, run)).toEqual({ status: "running", steps_left: 4, error: null });
      expect(await statuses(c, run)).toEqual({
        a: "queued",
        b: "pending",
        c: "pending",
        d: "pending",
      });
      const { rows: deps } = await c.query(
        "select step, deps_remaining, attempt from rowflow.run_steps where run_id = $1 order by step",
        [run],
      );
      expect(deps).toEqual([
        { step: "a", deps_remaining: 0, attempt: 1 },
        { step: "b", deps_remaining: 1, attempt: 0 },
        { step: "c", deps_remaining: 1, attempt: 0 },
        { step: "d", deps_remaining: 2, attempt: 0 },
      ]);
      // 000006: only the root step has a row; the job id is on it; no job key.
      expect(await storedSteps(c, run)).toEqual(["a"]);
      const { rows: jobs } = await c.query(
        `select j.payload, j.max_attempts, j.priority, t.identifier, j.key,
                j.id = (select job_id from rowflow.step_runs where run_id = $1 and step = 'a') as on_step
         from graphile_worker._private_jobs j join graphile_worker._private_tasks t on t.id = j.task_id
         where (j.payload->>'run')::bigint = $1`,
        [run],
      );
      expect(jobs).toEqual([
        {
          payload: { run, step: "a", attempt: 1 },
          max_attempts: 25,
          priority: 0,
          identifier: "rowflow:step",
          key: null,
          on_step: true,
        },
      ]);
      // 000006: a root step's step_queued is implied by run_started.
      expect(await eventTypes(c, run)).toEqual(["run_started"]);
    });
  });

  it("applies queue, queue key, delay and priority to root jobs", async () => {
    await db.rollback(async (c) => {
      await define(c, "q", {
        steps: [
          {
            name: "a",
            task: "t",
            queue: { name: "cust", key: "$.input.customer" },
            priority: 5,
            delay: "10 s",
          },
          { name: "b", task: "t", queue: "global" },
        ],
      });
      const { rows } = await c.query<{ id: string }>(
        "select rowflow.start_run('q', '{\"customer\": \"c42\"}', priority => -2, now => '2030-01-01T00:00:00Z') as id",
      );
      const run = Number(rows[0]!.id);
      const { rows: jobs } = await c.query(
        `select 'rowflow:' || (j.payload->>'run') || ':' || (j.payload->>'step') || ':1' as key, q.queue_name, j.priority,
                j.run_at = '2030-01-01T00:00:10Z'::timestamptz as delayed,
                j.run_at = '2030-01-01T00:00:00Z'::timestamptz as immediate
         from graphile_worker._private_jobs j left join graphile_worker._private_job_queues q on q.id = j.job_queue_id
         where (j.payload->>'run')::bigint = $1
         order by 1`,
        [run],
      );
      expect(jobs).toEqual([
        {
          key: `rowflow:${run}:a:1`,
          queue_name: "cust:c42",
          priority: 3,
          delayed: true,
          immediate: false,
        },
        {
          key: `rowflow:${run}:b:1`,
          queue_name: "global",
          priority: -2,
          delayed: false,
          immediate: true,
        },
      ]);
    });
  });

  it("returns the existing run for a repeated idempotency key and creates nothing", async () => {
    await db.rollback(async (c) => {
      await define(c, "diamond", diamond);
      const first = await startRun(c, "diamond", { n: 1 }, "order-1");
      const counts = async () =>
        (
          await c.query(
            `select (select count(*) from rowflow.runs)::int as runs, (select count(*) from rowflow.step_runs)::int as steps,
                    (select count(*) from rowflow.events)::int as events, (select count(*) from graphile_worker._private_jobs)::int as jobs`,
          )
        ).rows[0];
      const before = await counts();
      expect(before).toEqual({ runs: 1, steps: 1, events: 1, jobs: 1 }); // 000006: lazy rows
      expect(await startRun(c, "diamond", { n: 2 }, "order-1")).toBe(first);
      expect(await counts()).toEqual(before);
      const other = await startRun(c, "diamond", { n: 3 }, "order-2");
      expect(other).not.toBe(first);
    });
  });

  it("is idempotent across concurrent transactions (the second waits, then returns the first's run)", async () => {
    await define(db.pool, "idem", diamond);
    const c1 = await db.pool.connect();
    const c2 = await db.pool.connect();
    try {
      await c1.query("begin");
      const id1 = await startRun(c1, "idem", {}, "k-concurrent");
      await c2.query("begin");
      const second = startRun(c2, "idem", {}, "k-concurrent");
      await c1.query("commit");
      const id2 = await second;
      await c2.query("commit");
      expect(id2).toBe(id1);
      const { rows } = await db.query(
        "select count(*)::int as n from rowflow.runs where workflow = 'idem'",
      );
      expect(rows[0]).toEqual({ n: 1 });
    } finally {
      c1.release();
      c2.release();
    }
  });

  it("rejects an unknown workflow, a paused one, a non-object input and an input over 1 MiB", async () => {
    await expectSqlError(
      startRun(db.pool, "nope"),
      "RF020",
      'unknown workflow "nope"; define it first with rowflow.define_workflow',
    );
    await define(db.pool, "paused", diamond);
    await db.query("update rowflow.workflows set paused = true where name = 'paused'");
    await expectSqlError(
      startRun(db.pool, "paused"),
      "RF021",
      'workflow "paused" is paused; resume it before starting runs',
    );
    await define(db.pool, "big", diamond);
    await expectSqlError(
      startRun(db.pool, "big", [1, 2]),
      "RF022",
      /^run input #1 is array, not a JSON object/,
    );
    const big = { blob: "x".repeat(1024 * 1024) };
    await expectSqlError(
      startRun(db.pool, "big", big),
      "RF022",
      `run input #1 is ${1024 * 1024 + 12} bytes of JSON; the limit is 1 MiB (1048576 bytes): store large data in a table and pass its key`,
    );
    // Just under the limit is accepted: {"blob": "…"} is 12 bytes of framing.
    const ok = await startRun(db.pool, "big", { blob: "x".repeat(1024 * 1024 - 12) });
    expect(ok).toBeGreaterThan(0);
    const { rows } = await db.query(
      "select count(*)::int as n from rowflow.runs where workflow in ('paused', 'big')",
    );
    expect(rows[0]).toEqual({ n: 1 });
  });

  it("rejects a hostile workflow name as unknown, without interpreting it", async () => {
    await expectSqlError(
      startRun(db.pool, "x'; drop table rowflow.runs; --"),
      "RF020",
      /^unknown workflow "x'; drop table/,
    );
    const { rows } = await db.query("select to_regclass('rowflow.runs') is not null as present");
    expect(rows[0]).toEqual({ present: true });
  });
});

describe("start_runs", () => {
  it("returns ids in input order, maps repeated keys to one run, and queues jobs without add_jobs", async () => {
    await db.rollback(async (c) => {
      // Count this transaction's add_jobs calls.
      await c.query("set local track_functions = 'all'");
      await define(c, "batch", diamond);
      const existing = await startRun(c, "batch", { i: 0 }, "k0");
      const inputs = Array.from({ length: 6 }, (_, i) => JSON.stringify({ i }));
      const keys = ["k0", null, "k1", "k1", null, "k2"];
      const { rows } = await c.query<{ id: string }>(
        "select id from rowflow.start_runs(workflow => 'batch', inputs => $1::jsonb[], idempotency_keys => $2::text[]) as id",
        [inputs, keys],
      );
      const ids = rows.map((r) => Number(r.id));
      expect(ids).toHaveLength(6);
      expect(ids[0]).toBe(existing);
      expect(ids[3]).toBe(ids[2]);
      expect(new Set(ids).size).toBe(5);
      const { rows: inputsBack } = await c.query<{ id: string; i: number }>(
        "select id, (input->>'i')::int as i from rowflow.runs where id = any($1::bigint[]) order by id",
        [ids],
      );
      const byId = new Map(inputsBack.map((r) => [Number(r.id), r.i]));
      expect(ids.map((id) => byId.get(id))).toEqual([0, 1, 2, 2, 4, 5]);
      // 000006: the root jobs go in with the start statement itself: no
      // graphile_worker.add_jobs, rowflow._enqueue or _add_step_jobs call.
      const { rows: after } = await c.query<{ calls: number }>(
        `select (coalesce(pg_stat_get_xact_function_calls('graphile_worker.add_jobs(graphile_worker.job_spec[], boolean)'::regprocedure), 0)
               + coalesce(pg_stat_get_xact_function_calls(to_regprocedure('rowflow._enqueue(graphile_worker.job_spec[])')), 0)
               + coalesce(pg_stat_get_xact_function_calls(to_regprocedure('rowflow._add_step_jobs(rowflow.step_job[])')), 0))::int as calls`,
      );
      expect(after[0]!.calls).toBe(0);
      const { rows: jobs } = await c.query(
        "select count(*)::int as n from graphile_worker._private_jobs where (payload->>'run')::bigint = any($1::bigint[])",
        [ids],
      );
      expect(jobs[0]).toEqual({ n: 5 });
    });
  });

  it("skips root steps whose condition is false and propagates the skip", async () => {
    await db.rollback(async (c) => {
      await define(c, "cond", {
        steps: [
          { name: "big", task: "t", if: "$.input.total > 100" },
          { name: "after-big", task: "t", dependsOn: ["big"] },
          { name: "always", task: "t" },
          { name: "join", task: "t", dependsOn: ["after-big", "always"] },
        ],
      });
      const small = await startRun(c, "cond", { total: 5 });
      const large = await startRun(c, "cond", { total: 500 });
      // after-big's own condition is empty: a skipped dependency satisfies it.
      expect(await statuses(c, small)).toEqual({
        "after-big": "queued",
        always: "queued",
        big: "skipped",
        join: "pending",
      });
      expect(await statuses(c, large)).toEqual({
        "after-big": "pending",
        always: "queued",
        big: "queued",
        join: "pending",
      });
      expect(await runRow(c, small)).toMatchObject({ status: "running", steps_left: 3 });
      expect(await jobKeys(c, small)).toEqual([
        `rowflow:${small}:after-big:1`,
        `rowflow:${small}:always:1`,
      ]);
      expect(await eventTypes(c, small)).toEqual([
        "run_started", // implies "always step_queued" (000006)
        "big step_skipped",
        "after-big step_queued",
      ]);
      expect(await storedSteps(c, small)).toEqual(["after-big", "always", "big"]);
      expect(await storedSteps(c, large)).toEqual(["always", "big"]);
    });
  });

  it("finishes a run at start when every step is skipped", async () => {
    await db.rollback(async (c) => {
      await define(c, "allskip", {
        steps: [
          { name: "a", task: "t", if: "$.input.go == true" },
          { name: "b", task: "t", dependsOn: ["a"], if: "$.steps.a.x == 1" },
        ],
      });
      const run = await startRun(c, "allskip", { go: false });
      expect(await statuses(c, run)).toEqual({ a: "skipped", b: "skipped" });
      expect(await runRow(c, run)).toEqual({ status: "succeeded", steps_left: 0, error: null });
      expect(await jobKeys(c, run)).toEqual([]);
    });
  });

  it("pins the version a run started with", async () => {
    await db.rollback(async (c) => {
      await define(c, "pin", { steps: [{ name: "a", task: "t" }] });
      const r1 = await startRun(c, "pin");
      await define(c, "pin", {
        steps: [
          { name: "a", task: "t" },
          { name: "b", task: "t" },
        ],
      });
      const r2 = await startRun(c, "pin");
      const { rows } = await c.query(
        "select id::int, version from rowflow.runs where workflow = 'pin' order by id",
      );
      expect(rows).toEqual([
        { id: r1, version: 1 },
        { id: r2, version: 2 },
      ]);
      expect(Object.keys(await statuses(c, r1))).toEqual(["a"]);
      expect(Object.keys(await statuses(c, r2))).toEqual(["a", "b"]);
    });
  });
});
