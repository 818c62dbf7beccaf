// sql/schema/40_start/: starting a run inserts the run row only ('queued'); a worker's
// rowflow.claim_runs turns it into a running run with its step rows and
// jobs. These tests pin the queued state itself and what claim_runs(take =>
// 0) makes of it (test/sql/claim-runs/ covers claiming in depth).
import { describe, expect, it } from "vitest";

import { useTestDatabase } from "../../helpers/db.js";
import {
  begin,
  claimAll,
  define,
  eventTypes,
  expectSqlError,
  jobKeys,
  queueRun,
  runRow,
  startRun,
  statuses,
  storedSteps,
  timeline,
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
  it("inserts only the run row: queued, not started, no step rows, jobs or events", async () => {
    await db.rollback(async (c) => {
      await define(c, "diamond", diamond);
      const run = await queueRun(c, "diamond", { order: 1 });
      expect(await runRow(c, run)).toEqual({
        status: "queued",
        started: false,
        finished: false,
        error: null,
      });
      expect(await storedSteps(c, run)).toEqual([]);
      expect(await jobKeys(c, run)).toEqual([]);
      expect(await eventTypes(c, run)).toEqual([]);
      expect(await timeline(c, run)).toEqual([]);
      const { rows: all } = await c.query(
        `select (select count(*) from rowflow.step_runs)::int as steps,
                (select count(*) from graphile_worker._private_jobs)::int as jobs,
                (select count(*) from rowflow.events)::int as events`,
      );
      expect(all[0]).toEqual({ steps: 0, jobs: 0, events: 0 });
      // rowflow.run_steps shows every step of a queued run as pending.
      const { rows: view } = await c.query(
        `select step, status, deps_remaining, attempt, max_attempts, job_id, queued_at, locked_by
         from rowflow.run_steps where run_id = $1 order by step`,
        [run],
      );
      const pending = { status: "pending", attempt: 0, max_attempts: 3 };
      const none = { job_id: null, queued_at: null, locked_by: null };
      expect(view).toEqual([
        { step: "a", ...pending, deps_remaining: 0, ...none },
        { step: "b", ...pending, deps_remaining: 1, ...none },
        { step: "c", ...pending, deps_remaining: 1, ...none },
        { step: "d", ...pending, deps_remaining: 2, ...none },
      ]);
      // The gates refuse the steps of a queued run: nothing is queued yet.
      expect(await begin(c, run, "a")).toEqual({
        ok: false,
        reason: "attempt_mismatch",
        currentAttempt: 0,
      });
      expect(await begin(c, run, "a", 0)).toEqual({
        ok: false,
        reason: "run_not_active",
        runStatus: "queued",
      });
      expect(await runRow(c, run)).toMatchObject({ status: "queued", started: false });
    });
  });

  it("claim_runs(take => 0) makes it running with a row for every step and one keyless job per root step", async () => {
    await db.rollback(async (c) => {
      await define(c, "diamond", diamond);
      const run = await queueRun(c, "diamond", { order: 1 });
      const at = "2030-01-01T00:00:05.000Z";
      expect(await claimAll(c, at)).toEqual({ runs: 1, taken: [] });
      expect(await runRow(c, run)).toEqual({
        status: "running",
        started: true,
        finished: false,
        error: null,
      });
      const { rows: started } = await c.query<{ started_at: Date }>(
        "select started_at from rowflow.runs where id = $1",
        [run],
      );
      expect(started[0]!.started_at.toISOString()).toBe(at);
      expect(await statuses(c, run)).toEqual({
        a: "queued",
        b: "pending",
        c: "pending",
        d: "pending",
      });
      // Eager rows: every step has one now; pending ones count their dependencies.
      const { rows: steps } = await c.query(
        `select step, status, deps_remaining, attempt, queued_at = $2::timestamptz as queued_now,
                queued_at is null as not_queued, started_at, finished_at, locked_by, job_id is not null as has_job
         from rowflow.step_runs where run_id = $1 order by step`,
        [run, at],
      );
      const pending = {
        status: "pending",
        attempt: 0,
        queued_now: null,
        not_queued: true,
        started_at: null,
        finished_at: null,
        locked_by: null,
        has_job: false,
      };
      expect(steps).toEqual([
        {
          step: "a",
          status: "queued",
          deps_remaining: 0,
          attempt: 1,
          queued_now: true,
          not_queued: false,
          started_at: null,
          finished_at: null,
          locked_by: null,
          has_job: true,
        },
        { step: "b", deps_remaining: 1, ...pending },
        { step: "c", deps_remaining: 1, ...pending },
        { step: "d", deps_remaining: 2, ...pending },
      ]);
      const { rows: jobs } = await c.query(
        `select j.payload, j.max_attempts, j.priority, t.identifier, j.key, j.job_queue_id,
                j.run_at = $2::timestamptz as run_at_claim,
                j.id = (select job_id from rowflow.step_runs where run_id = $1 and step = 'a') as on_step
         from graphile_worker._private_jobs j join graphile_worker._private_tasks t on t.id = j.task_id
         where (j.payload->>'run')::bigint = $1`,
        [run, at],
      );
      expect(jobs).toEqual([
        {
          payload: { run, step: "a", attempt: 1 },
          max_attempts: 25,
          priority: 0,
          identifier: "rowflow:step",
          key: null,
          job_queue_id: null,
          run_at_claim: true,
          on_step: true,
        },
      ]);
      // Nothing of the ordinary path is stored; the timeline has it from the rows.
      expect(await eventTypes(c, run)).toEqual([]);
      expect(await timeline(c, run)).toEqual(["run_started", "a step_queued"]);
      // A second claim finds nothing queued.
      expect(await claimAll(c, at)).toEqual({ runs: 0, taken: [] });
    });
  });

  it("applies queue, queue key, delay and priority to root jobs when the run is claimed", async () => {
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
        "select rowflow.start_run('q', '{\"customer\": \"c42\"}', priority => -2, now => '2029-12-31T00:00:00Z') as id",
      );
      const run = Number(rows[0]!.id);
      const { rows: queued } = await c.query(
        "select status, priority, created_at = '2029-12-31T00:00:00Z'::timestamptz as created_then from rowflow.runs where id = $1",
        [run],
      );
      expect(queued).toEqual([{ status: "queued", priority: -2, created_then: true }]);
      expect(await jobKeys(c, run)).toEqual([]);
      // Jobs are made at the claim, relative to the claim's time.
      expect(await claimAll(c, "2030-01-01T00:00:00Z")).toEqual({ runs: 1, taken: [] });
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
      expect(await statuses(c, run)).toEqual({ a: "queued", b: "queued" });
    });
  });

  it("returns the existing run for a repeated idempotency key and creates nothing, queued or claimed", async () => {
    await db.rollback(async (c) => {
      await define(c, "diamond", diamond);
      const first = await queueRun(c, "diamond", { n: 1 }, "order-1");
      const counts = async () =>
        (
          await c.query(
            `select (select count(*) from rowflow.runs)::int as runs, (select count(*) from rowflow.step_runs)::int as steps,
                    (select count(*) from rowflow.events)::int as events, (select count(*) from graphile_worker._private_jobs)::int as jobs`,
          )
        ).rows[0];
      expect(await counts()).toEqual({ runs: 1, steps: 0, events: 0, jobs: 0 });
      expect(await queueRun(c, "diamond", { n: 2 }, "order-1")).toBe(first);
      expect(await counts()).toEqual({ runs: 1, steps: 0, events: 0, jobs: 0 });
      expect(await claimAll(c)).toEqual({ runs: 1, taken: [] });
      expect(await counts()).toEqual({ runs: 1, steps: 4, events: 0, jobs: 1 });
      expect(await queueRun(c, "diamond", { n: 3 }, "order-1")).toBe(first);
      expect(await counts()).toEqual({ runs: 1, steps: 4, events: 0, jobs: 1 });
      expect(await runRow(c, first)).toMatchObject({ status: "running" });
      const { rows: input } = await c.query("select input from rowflow.runs where id = $1", [
        first,
      ]);
      expect(input[0]).toEqual({ input: { n: 1 } });
      const other = await queueRun(c, "diamond", { n: 3 }, "order-2");
      expect(other).not.toBe(first);
      expect(await runRow(c, other)).toMatchObject({ status: "queued" });
    });
  });
});

describe("start_runs", () => {
  it("returns ids in input order and maps repeated keys to one run; the claim queues jobs without add_jobs", async () => {
    await db.rollback(async (c) => {
      // Count this transaction's add_jobs calls.
      await c.query("set local track_functions = 'all'");
      await define(c, "batch", diamond);
      const existing = await queueRun(c, "batch", { i: 0 }, "k0");
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
      const { rows: inputsBack } = await c.query<{ id: string; i: number; status: string }>(
        "select id, (input->>'i')::int as i, status from rowflow.runs where id = any($1::bigint[]) order by id",
        [ids],
      );
      const byId = new Map(inputsBack.map((r) => [Number(r.id), r.i]));
      expect(ids.map((id) => byId.get(id))).toEqual([0, 1, 2, 2, 4, 5]);
      expect(inputsBack.map((r) => r.status)).toEqual(Array(5).fill("queued"));
      const jobsOf = async () =>
        (
          await c.query<{ n: number }>(
            "select count(*)::int as n from graphile_worker._private_jobs where (payload->>'run')::bigint = any($1::bigint[])",
            [ids],
          )
        ).rows[0]!.n;
      expect(await jobsOf()).toBe(0);
      // The claim writes the root jobs itself: no graphile_worker.add_jobs,
      // rowflow._enqueue or _add_step_jobs call.
      await claimAll(c);
      const { rows: after } = await c.query<{ calls: number }>(
        `select (coalesce(pg_stat_get_xact_function_calls('graphile_worker.add_jobs(graphile_worker.job_spec[], boolean)'::regprocedure), 0)
               + coalesce(pg_stat_get_xact_function_calls(to_regprocedure('rowflow._enqueue(graphile_worker.job_spec[])')), 0)
               + coalesce(pg_stat_get_xact_function_calls(to_regprocedure('rowflow._add_step_jobs(rowflow.step_job[])')), 0))::int as calls`,
      );
      expect(after[0]!.calls).toBe(0);
      expect(await jobsOf()).toBe(5);
      const { rows: running } = await c.query(
        "select count(*)::int as n from rowflow.runs where id = any($1::bigint[]) and status = 'running'",
        [ids],
      );
      expect(running[0]).toEqual({ n: 5 });
    });
  });

  it("evaluates root conditions at the claim, not at the start", async () => {
    await db.rollback(async (c) => {
      await define(c, "cond", {
        steps: [
          { name: "big", task: "t", if: "$.input.total > 100" },
          { name: "after-big", task: "t", dependsOn: ["big"] },
          { name: "always", task: "t" },
          { name: "join", task: "t", dependsOn: ["after-big", "always"] },
        ],
      });
      const small = await queueRun(c, "cond", { total: 5 });
      const large = await queueRun(c, "cond", { total: 500 });
      const allPending = {
        "after-big": "pending",
        always: "pending",
        big: "pending",
        join: "pending",
      };
      expect(await statuses(c, small)).toEqual(allPending);
      expect(await statuses(c, large)).toEqual(allPending);
      expect(await eventTypes(c, small)).toEqual([]);

      expect(await claimAll(c)).toEqual({ runs: 2, taken: [] });
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
      expect(await runRow(c, small)).toMatchObject({ status: "running", started: true });
      expect(await jobKeys(c, small)).toEqual([
        `rowflow:${small}:after-big:1`,
        `rowflow:${small}:always:1`,
      ]);
      expect(await jobKeys(c, large)).toEqual([
        `rowflow:${large}:always:1`,
        `rowflow:${large}:big:1`,
      ]);
      expect(await eventTypes(c, small)).toEqual(["big step_skipped"]);
      expect(await eventTypes(c, large)).toEqual([]);
      expect(await storedSteps(c, small)).toEqual(["after-big", "always", "big", "join"]);
      expect(await storedSteps(c, large)).toEqual(["after-big", "always", "big", "join"]);
    });
  });

  it("pins the version a run started with, through the claim", async () => {
    await db.rollback(async (c) => {
      await define(c, "pin", { steps: [{ name: "a", task: "t" }] });
      const r1 = await queueRun(c, "pin");
      await define(c, "pin", {
        steps: [
          { name: "a", task: "t" },
          { name: "b", task: "t" },
        ],
      });
      const r2 = await queueRun(c, "pin");
      const { rows } = await c.query(
        "select id::int, version from rowflow.runs where workflow = 'pin' order by id",
      );
      expect(rows).toEqual([
        { id: r1, version: 1 },
        { id: r2, version: 2 },
      ]);
      expect(await statuses(c, r1)).toEqual({ a: "pending" });
      expect(await statuses(c, r2)).toEqual({ a: "pending", b: "pending" });
      await claimAll(c);
      expect(await statuses(c, r1)).toEqual({ a: "queued" });
      expect(await statuses(c, r2)).toEqual({ a: "queued", b: "queued" });
      expect(await storedSteps(c, r1)).toEqual(["a"]);
      expect(await jobKeys(c, r2)).toEqual([`rowflow:${r2}:a:1`, `rowflow:${r2}:b:1`]);
      // startRun (start + claim) gives the same state in one call.
      const r3 = await startRun(c, "pin");
      expect(await statuses(c, r3)).toEqual({ a: "queued", b: "queued" });
    });
  });
});

// Last: these commit, and the queued runs they leave would be claimed by the
// claimAll of a later test.
describe("start_run, committed", () => {
  it("is idempotent across concurrent transactions (the second waits, then returns the first's run)", async () => {
    await define(db.pool, "idem", diamond);
    const c1 = await db.pool.connect();
    const c2 = await db.pool.connect();
    try {
      await c1.query("begin");
      const id1 = await queueRun(c1, "idem", {}, "k-concurrent");
      await c2.query("begin");
      const second = queueRun(c2, "idem", {}, "k-concurrent");
      await c1.query("commit");
      const id2 = await second;
      await c2.query("commit");
      expect(id2).toBe(id1);
      const { rows } = await db.query(
        "select count(*)::int as n, min(status) as status from rowflow.runs where workflow = 'idem'",
      );
      expect(rows[0]).toEqual({ n: 1, status: "queued" });
    } finally {
      c1.release();
      c2.release();
    }
  });

  it("rejects an unknown workflow, a non-object input and an input over 1 MiB", async () => {
    await expectSqlError(
      queueRun(db.pool, "nope"),
      "RF020",
      'unknown workflow "nope"; define it first with rowflow.define_workflow',
    );
    await define(db.pool, "big", diamond);
    await expectSqlError(
      queueRun(db.pool, "big", [1, 2]),
      "RF022",
      /^run input #1 is array, not a JSON object/,
    );
    const big = { blob: "x".repeat(1024 * 1024) };
    await expectSqlError(
      queueRun(db.pool, "big", big),
      "RF022",
      `run input #1 is ${1024 * 1024 + 12} bytes of JSON; the limit is 1 MiB (1048576 bytes): store large data in a table and pass its key`,
    );
    // Just under the limit is accepted: {"blob": "…"} is 12 bytes of framing.
    const ok = await queueRun(db.pool, "big", { blob: "x".repeat(1024 * 1024 - 12) });
    expect(ok).toBeGreaterThan(0);
    const { rows } = await db.query(
      "select count(*)::int as n from rowflow.runs where workflow = 'big'",
    );
    expect(rows[0]).toEqual({ n: 1 });
  });

  it("starts a paused workflow's runs all the same: they wait, queued, and are claimed once it is resumed", async () => {
    await db.rollback(async (c) => {
      await define(c, "paused", diamond);
      await c.query("update rowflow.workflows set paused = true where name = 'paused'");
      const run = await queueRun(c, "paused");
      expect(await runRow(c, run)).toMatchObject({ status: "queued", started: false });
      await claimAll(c);
      expect(await runRow(c, run)).toMatchObject({ status: "queued" });
      await c.query("update rowflow.workflows set paused = false where name = 'paused'");
      await claimAll(c);
      expect(await runRow(c, run)).toMatchObject({ status: "running", started: true });
    });
  });

  it("rejects a null input with RF022, not a bare not-null violation", async () => {
    await define(db.pool, "nullable", diamond);
    await expectSqlError(
      db.query("select rowflow.start_run('nullable', null)"),
      "RF022",
      'run input #1 is null, not a JSON object; wrap values in an object like {"value": …}',
    );
    await expectSqlError(
      db.query("select * from rowflow.start_runs('nullable', array['{}', null]::jsonb[])"),
      "RF022",
      /^run input #2 is null, not a JSON object/,
    );
  });

  it("rejects a hostile workflow name as unknown, without interpreting it", async () => {
    await expectSqlError(
      queueRun(db.pool, "x'; drop table rowflow.runs; --"),
      "RF020",
      /^unknown workflow "x'; drop table/,
    );
    const { rows } = await db.query("select to_regclass('rowflow.runs') is not null as present");
    expect(rows[0]).toEqual({ present: true });
  });
});
