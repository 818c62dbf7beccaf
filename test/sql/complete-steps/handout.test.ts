// complete_steps hands released dependents to the completing worker
// (sql/schema/60_gate/complete_steps.sql): take, reserve and next_*, claim for
// leftover slots, the yield to live work, batches in call order.
// Leases (sql/schema/60_gate/complete_steps.sql, 70_workers/): steps handed to a worker directly run under its lease
// (step_runs.locked_by) instead of a graphile job. These tests pin how
// complete_steps hands out released dependents (take), queues them locally
// (reserve) and begins them later (next_*), claims queued runs for leftover
// slots (claim), yields to live work, and how leases end: release_leases
// (a running step is a lost attempt, a reserved one gets a job) and
// release_dead_workers.
import { describe, expect, it } from "vitest";

import { useTestDatabase } from "../../helpers/db.js";
import { claimRuns, completeSteps, context, startPriority, stepLeases } from "../gate-calls.js";
import {
  begin,
  define,
  eventTypes,
  expectSqlError,
  type GateResult,
  jobKeys,
  queueRun,
  runRow,
} from "../support.js";

const db = useTestDatabase();

const T1 = "2030-01-01T00:00:01.000Z";
const T2 = "2030-01-01T00:00:02.000Z";

const fan = {
  steps: [
    { name: "r", task: "t" },
    { name: "x", task: "t", dependsOn: ["r"] },
    { name: "y", task: "t", dependsOn: ["r"] },
    { name: "z", task: "t", dependsOn: ["r"] },
    { name: "j", task: "t", dependsOn: ["x", "y", "z"] },
  ],
};

describe("complete_steps hands released dependents to the worker", () => {
  it("take: up to `take` dependents run at once under the worker's lease, without a job; the others get jobs", async () => {
    await db.rollback(async (c) => {
      await define(c, "fan", fan);
      const run = await queueRun(c, "fan");
      expect((await claimRuns(c, { worker: "w1", take: 1 })).taken).toEqual([
        context(run, "r", "fan", {}),
      ]);
      const [a] = await completeSteps(c, [{ run, step: "r", output: "R", take: 2 }], {
        worker: "w1",
        now: T1,
      });
      expect(a).toEqual({
        ok: true,
        released: ["x", "y", "z"],
        skipped: [],
        taken: [context(run, "x", "fan", { r: "R" }), context(run, "y", "fan", { r: "R" })],
        reserved: [],
        runStatus: "running",
      });
      expect(await stepLeases(c, run)).toEqual({
        j: "pending - no-job #0",
        r: "succeeded - no-job #1",
        x: "running w1 no-job #1",
        y: "running w1 no-job #1",
        z: "queued - job #1",
      });
      expect(await jobKeys(c, run)).toEqual([`rowflow:${run}:z:1`]);
      const { rows: times } = await c.query(
        `select step, queued_at = $2::timestamptz as queued, started_at = $2::timestamptz as started
         from rowflow.step_runs where run_id = $1 and step in ('x', 'z') order by step`,
        [run, T1],
      );
      expect(times).toEqual([
        { step: "x", queued: true, started: true },
        { step: "z", queued: true, started: null },
      ]);
    });
  });

  it("take on the general path: a dependent whose condition holds and one released by a skip are taken; queued and delayed ones get jobs", async () => {
    await db.rollback(async (c) => {
      await define(c, "general", {
        steps: [
          { name: "r", task: "t" },
          { name: "c1", task: "t", dependsOn: ["r"], if: "$.steps.r.ok == true" },
          { name: "c2", task: "t", dependsOn: ["r"], queue: "q" },
          { name: "c3", task: "t", dependsOn: ["r"], delay: "5 s" },
          { name: "c4", task: "t", dependsOn: ["r"], if: "$.steps.r.ok == false" },
          { name: "c5", task: "t", dependsOn: ["c4"] },
        ],
      });
      const run = await queueRun(c, "general");
      await claimRuns(c, { worker: "w1", take: 1, maxRuns: 1, now: T1 });
      const [a] = await completeSteps(c, [{ run, step: "r", output: { ok: true }, take: 3 }], {
        worker: "w1",
        now: T2,
      });
      expect(a).toEqual({
        ok: true,
        released: ["c1", "c2", "c3", "c5"],
        skipped: ["c4"],
        taken: [
          context(run, "c1", "general", { r: { ok: true } }),
          context(run, "c5", "general", { c4: null }),
        ],
        reserved: [],
        runStatus: "running",
      });
      expect(await stepLeases(c, run)).toEqual({
        c1: "running w1 no-job #1",
        c2: "queued - job #1",
        c3: "queued - job #1",
        c4: "skipped - no-job #0",
        c5: "running w1 no-job #1",
        r: "succeeded - no-job #1",
      });
      const { rows: jobs } = await c.query(
        `select j.payload->>'step' as step, q.queue_name, extract(epoch from j.run_at - $2::timestamptz)::int as delay_s
         from graphile_worker._private_jobs j left join graphile_worker._private_job_queues q on q.id = j.job_queue_id
         where (j.payload->>'run')::bigint = $1 order by 1`,
        [run, T2],
      );
      expect(jobs).toEqual([
        { step: "c2", queue_name: "q", delay_s: 0 },
        { step: "c3", queue_name: null, delay_s: 5 },
      ]);
      expect(await eventTypes(c, run)).toEqual(["c4 step_skipped"]);
    });
  });

  it("reserve: dependents queued under the lease are begun by a later completion's next_* (and by nothing else)", async () => {
    await db.rollback(async (c) => {
      await define(c, "fan", fan);
      const run = await queueRun(c, "fan");
      await claimRuns(c, { worker: "w1", take: 1 });
      const [a] = await completeSteps(c, [{ run, step: "r", output: "R", take: 1 }], {
        worker: "w1",
        now: T1,
        reserve: 1,
      });
      expect(a).toEqual({
        ok: true,
        released: ["x", "y", "z"],
        skipped: [],
        taken: [context(run, "x", "fan", { r: "R" })],
        reserved: [{ runId: String(run), step: "y", attempt: 1, priority: 0 }],
        runStatus: "running",
      });
      expect(await stepLeases(c, run)).toMatchObject({
        x: "running w1 no-job #1",
        y: "queued w1 no-job #1",
        z: "queued - job #1",
      });
      // A reserved step is the worker's: a graphile delivery cannot begin it.
      expect(await begin(c, run, "y")).toEqual({
        ok: false,
        reason: "step_not_ready",
        status: "queued",
      });
      // x's slot took no dependent (j still waits), so it runs y next.
      const [b] = await completeSteps(
        c,
        [{ run, step: "x", output: "X", take: 1, next: { run, step: "y" } }],
        { worker: "w1", now: T2 },
      );
      const { priority: _, ...begunY } = context(run, "y", "fan", { r: "R" });
      expect(b).toEqual({
        ok: true,
        released: [],
        skipped: [],
        taken: [begunY],
        reserved: [],
        runStatus: "running",
      });
      expect(await stepLeases(c, run)).toMatchObject({
        x: "succeeded - no-job #1",
        y: "running w1 no-job #1",
        j: "pending - no-job #0",
      });
      const { rows: yStarted } = await c.query(
        "select started_at = $2::timestamptz as at_t2 from rowflow.step_runs where run_id = $1 and step = 'y'",
        [run, T2],
      );
      expect(yStarted).toEqual([{ at_t2: true }]);
      // z goes through graphile; the last of j's dependencies hands j over.
      expect(await begin(c, run, "z")).toMatchObject({ ok: true });
      expect((await completeSteps(c, [{ run, step: "z", output: "Z" }]))[0]).toMatchObject({
        ok: true,
        released: [],
        taken: [],
      });
      const [d] = await completeSteps(c, [{ run, step: "y", output: "Y", take: 1 }], {
        worker: "w1",
      });
      expect(d).toMatchObject({
        ok: true,
        released: ["j"],
        taken: [context(run, "j", "fan", { x: "X", y: "Y", z: "Z" })],
      });
      expect((await completeSteps(c, [{ run, step: "j" }], { worker: "w1" }))[0]).toMatchObject({
        ok: true,
        runStatus: "succeeded",
      });
      // Only z ever had a job.
      expect(await jobKeys(c, run)).toEqual([`rowflow:${run}:z:1`]);
      expect(await eventTypes(c, run)).toEqual([]);
    });
  });

  it("a slot that took a released dependent keeps its next step reserved; begin_steps(reserved) begins it for the lease holder only", async () => {
    await db.rollback(async (c) => {
      await define(c, "fork", {
        steps: [
          { name: "p", task: "t" },
          { name: "q1", task: "t", dependsOn: ["p"] },
          { name: "q2", task: "t", dependsOn: ["p"] },
          { name: "q1x", task: "t", dependsOn: ["q1"] },
        ],
      });
      const run = await queueRun(c, "fork");
      await claimRuns(c, { worker: "w1", take: 1 });
      const [a] = await completeSteps(c, [{ run, step: "p", take: 1 }], {
        worker: "w1",
        reserve: 1,
      });
      expect(a).toMatchObject({
        taken: [{ step: "q1" }],
        reserved: [{ runId: String(run), step: "q2", attempt: 1, priority: 0 }],
      });
      const [b] = await completeSteps(
        c,
        [{ run, step: "q1", output: 1, take: 1, next: { run, step: "q2" } }],
        { worker: "w1" },
      );
      expect(b).toEqual({
        ok: true,
        released: ["q1x"],
        skipped: [],
        taken: [context(run, "q1x", "fork", { q1: 1 })],
        reserved: [],
        runStatus: "running",
      });
      expect(await stepLeases(c, run)).toMatchObject({
        q1x: "running w1 no-job #1",
        q2: "queued w1 no-job #1",
      });
      const beginReserved = async (worker: string) => {
        const { rows: r } = await c.query<{ r: GateResult }>(
          `select r from rowflow.begin_steps(run_ids => array[$1::bigint], steps => array['q2'], attempts => array[1],
                                             worker_id => $2, reserved => true) as r`,
          [run, worker],
        );
        return r.map((x) => x.r);
      };
      expect(await beginReserved("w2")).toEqual([
        { ok: false, reason: "step_not_ready", status: "queued" },
      ]);
      const { priority: _, ...q2 } = context(run, "q2", "fork", { p: null });
      expect(await beginReserved("w1")).toEqual([q2]);
      expect(await stepLeases(c, run)).toMatchObject({ q2: "running w1 no-job #1" });
      expect(await jobKeys(c, run)).toEqual([]);
    });
  });

  it("yields to live work: nothing is taken, reserved or claimed while a queued run or an available job has a lower priority value", async () => {
    await db.rollback(async (c) => {
      await define(c, "chain", {
        steps: [
          { name: "a", task: "t" },
          { name: "b", task: "t", dependsOn: ["a"] },
        ],
      });
      const run1 = await queueRun(c, "chain");
      expect((await claimRuns(c, { worker: "w1", take: 1 })).taken).toHaveLength(1);
      // A live run (priority -1) waits: run1's b goes to graphile.
      const live = await startPriority(c, "chain", -1);
      const [a] = await completeSteps(c, [{ run: run1, step: "a", take: 1 }], {
        worker: "w1",
        reserve: 1,
      });
      expect(a).toMatchObject({ ok: true, released: ["b"], taken: [], reserved: [] });
      expect(await stepLeases(c, run1)).toMatchObject({ b: "queued - job #1" });
      // The live run is claimed first; a backfill run (priority 1000) waiting does not hold it up.
      const claimed = await claimRuns(c, { worker: "w1", take: 1 });
      expect(claimed.taken).toEqual([context(live, "a", "chain", {}, -1)]);
      const backfill = await startPriority(c, "chain", 1000);
      const [b] = await completeSteps(c, [{ run: live, step: "a", take: 1 }], { worker: "w1" });
      expect(b).toMatchObject({
        released: ["b"],
        taken: [context(live, "b", "chain", { a: null }, -1)],
      });
      // The backfill run is not claimed while run1's available job (priority 0) is due ...
      expect(await claimRuns(c, { worker: "w1", take: 1 })).toEqual({ runs: 0, taken: [] });
      // ... but once a worker holds that job, it is.
      const lockJob = (by: string | null) =>
        c.query(
          `update graphile_worker._private_jobs set locked_by = $2::text,
                  locked_at = case when $2::text is null then null else now() end
            where (payload ->> 'run')::bigint = $1`,
          [run1, by],
        );
      await lockJob("w2");
      expect((await claimRuns(c, { worker: "w1", take: 1 })).taken).toEqual([
        context(backfill, "a", "chain", {}, 1000),
      ]);
      // The backfill run's b waits behind run1's job when it is available again.
      await lockJob(null);
      const [d] = await completeSteps(c, [{ run: backfill, step: "a", take: 1 }], {
        worker: "w1",
        reserve: 1,
      });
      expect(d).toMatchObject({ ok: true, released: ["b"], taken: [], reserved: [] });
      expect(await stepLeases(c, backfill)).toMatchObject({ b: "queued - job #1" });
    });
  });

  it("claim: a slot left over after a run finishes claims a queued run and starts its root step", async () => {
    await db.rollback(async (c) => {
      await define(c, "single", { steps: [{ name: "s", task: "t" }] });
      const run1 = await queueRun(c, "single");
      await claimRuns(c, { worker: "w1", take: 1 });
      const run2 = await queueRun(c, "single");
      const run3 = await queueRun(c, "single");
      const { rows: r } = await c.query<{ r: GateResult }>(
        "select rowflow.complete_step(run_id => $1, step => 's', attempt => 1, take => 1, worker_id => 'w1', claim => true) as r",
        [run1],
      );
      expect(r[0]!.r).toEqual({
        ok: true,
        released: [],
        skipped: [],
        taken: [context(run2, "s", "single", {})],
        reserved: [],
        runStatus: "succeeded",
        claimedRuns: 1,
      });
      expect(await stepLeases(c, run2)).toEqual({ s: "running w1 no-job #1" });
      expect(await runRow(c, run2)).toMatchObject({ status: "running", started: true });
      expect(await runRow(c, run3)).toMatchObject({ status: "queued", started: false });
    });
  });

  it("answers a batch in call order, refusals included; every array must have one value per call", async () => {
    await db.rollback(async (c) => {
      await define(c, "single", { steps: [{ name: "s", task: "t" }] });
      const run1 = await queueRun(c, "single");
      const run2 = await queueRun(c, "single");
      expect((await claimRuns(c, { worker: "w1", take: 2 })).runs).toBe(2);
      // run3's step is queued with a job, not begun.
      const run3 = await queueRun(c, "single");
      expect(await claimRuns(c, { worker: null, take: 0 })).toEqual({ runs: 1, taken: [] });
      const answers = await completeSteps(
        c,
        [
          { run: run2, step: "s", output: 2 },
          { run: 987654321, step: "s" },
          { run: run3, step: "s" },
          { run: run1, step: "s", output: 1 },
        ],
        { worker: "w1" },
      );
      const empty = { released: [], skipped: [], taken: [], reserved: [] };
      expect(answers).toEqual([
        { ok: true, ...empty, runStatus: "succeeded" },
        { ok: false, reason: "unknown_run", taken: [], reserved: [] },
        { ok: false, reason: "step_not_running", status: "queued", taken: [], reserved: [] },
        { ok: true, ...empty, runStatus: "succeeded" },
      ]);
      expect(await stepLeases(c, run3)).toEqual({ s: "queued - job #1" });
      const { rows: out } = await c.query(
        "select run_id::int, output from rowflow.step_runs where run_id = any($1::bigint[]) order by run_id",
        [[run1, run2]],
      );
      expect(out).toEqual([
        { run_id: run1, output: 1 },
        { run_id: run2, output: 2 },
      ]);
      await c.query("savepoint s");
      await expectSqlError(
        c.query(
          "select rowflow.complete_steps(array[$1::bigint], array['s', 't'], array[1], array['null'::jsonb])",
          [run1],
        ),
        "22023",
        "complete_steps: every array argument must have one value per call",
      );
      await c.query("rollback to savepoint s");
      await expectSqlError(
        c.query("select rowflow.begin_steps(array[$1::bigint], array['s'], array[1, 2])", [run1]),
        "22023",
        "begin_steps: run_ids, steps and attempts must have the same length",
      );
    });
  });
});
