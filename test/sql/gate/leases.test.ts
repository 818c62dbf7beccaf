// 000011: steps handed to a worker directly run under its lease
// (step_runs.locked_by) instead of a graphile job. These tests pin how
// complete_steps hands out released dependents (take), queues them locally
// (reserve) and begins them later (next_*), claims queued runs for leftover
// slots (claim), yields to live work, and how leases end: release_leases
// (a running step is a lost attempt, a reserved one gets a job) and
// release_dead_workers.
import { describe, expect, it } from "vitest";

import { useTestDatabase } from "../../helpers/db.js";
import {
  begin,
  define,
  eventTypes,
  expectSqlError,
  type GateResult,
  jobKeys,
  type Queryable,
  queueRun,
  runRow,
  statuses,
} from "../support.js";

const db = useTestDatabase();

const OLD = "2020-01-01T00:00:00.000Z";
const T1 = "2030-01-01T00:00:01.000Z";
const T2 = "2030-01-01T00:00:02.000Z";

interface Call {
  run: number;
  step: string;
  attempt?: number;
  output?: unknown;
  take?: number;
  next?: { run: number; step: string; attempt?: number };
}

/** rowflow.complete_steps with one entry per call; answers in call order. */
async function completeSteps(
  q: Queryable,
  calls: Call[],
  opts: { worker?: string | null; now?: string | null; claim?: boolean; reserve?: number } = {},
): Promise<GateResult[]> {
  const { rows } = await q.query<{ r: GateResult }>(
    `select r from rowflow.complete_steps(
       run_ids => $1::bigint[], steps => $2::text[], attempts => $3::int[], outputs => $4::jsonb[],
       takes => $5::int[], worker_id => $6, now => $7::timestamptz, claim => $8, reserve => $9,
       next_run_ids => $10::bigint[], next_steps => $11::text[], next_attempts => $12::int[]) as r`,
    [
      calls.map((c) => c.run),
      calls.map((c) => c.step),
      calls.map((c) => c.attempt ?? 1),
      calls.map((c) => JSON.stringify(c.output ?? null)),
      calls.map((c) => c.take ?? 0),
      opts.worker ?? null,
      opts.now ?? null,
      opts.claim ?? false,
      opts.reserve ?? 0,
      calls.map((c) => c.next?.run ?? null),
      calls.map((c) => c.next?.step ?? null),
      calls.map((c) => (c.next ? (c.next.attempt ?? 1) : null)),
    ],
  );
  return rows.map((r) => r.r);
}

async function claim(
  q: Queryable,
  worker: string | null,
  take: number,
  maxRuns: number | null = null,
  now: string | null = null,
): Promise<{ runs: number; taken: GateResult[] }> {
  const { rows } = await q.query<{ r: { runs: number; taken: GateResult[] } }>(
    "select rowflow.claim_runs(worker_id => $1, take => $2, max_runs => $3, now => $4::timestamptz) as r",
    [worker, take, maxRuns, now],
  );
  return rows[0]!.r;
}

async function startPriority(q: Queryable, workflow: string, priority: number): Promise<number> {
  const { rows } = await q.query<{ id: string }>(
    "select rowflow.start_run(workflow => $1, priority => $2) as id",
    [workflow, priority],
  );
  return Number(rows[0]!.id);
}

/** (status, locked_by, has a job, attempt) of each step row of a run, by step. */
async function rows(q: Queryable, run: number): Promise<Record<string, string>> {
  const { rows: r } = await q.query<{ step: string; s: string }>(
    `select step, status || ' ' || coalesce(locked_by, '-') || ' ' || (case when job_id is null then 'no-job' else 'job' end)
              || ' #' || attempt as s
     from rowflow.step_runs where run_id = $1 order by step`,
    [run],
  );
  return Object.fromEntries(r.map((x) => [x.step, x.s]));
}

async function releaseLeases(
  q: Queryable,
  worker: string,
  keep: string[],
  olderThan: string | null = null,
): Promise<number> {
  const { rows: r } = await q.query<{ n: number }>(
    "select rowflow.release_leases(worker_id => $1, keep => $2::text[], older_than => coalesce($3::interval, '0')) as n",
    [worker, keep, olderThan],
  );
  return r[0]!.n;
}

/** The handler context complete_steps / claim_runs answer for a step handed to the worker. */
function context(
  run: number,
  step: string,
  workflow: string,
  deps: Record<string, unknown>,
  priority = 0,
) {
  return {
    ok: true,
    runId: String(run),
    step,
    task: "t",
    workflow,
    version: 1,
    input: {},
    deps,
    attempt: 1,
    maxAttempts: 3,
    timeoutMs: null,
    idempotencyKey: `rowflow:${run}:${step}`,
    kind: "step",
    runError: null,
    priority,
  };
}

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
      expect((await claim(c, "w1", 1)).taken).toEqual([context(run, "r", "fan", {})]);
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
      expect(await rows(c, run)).toEqual({
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
      await claim(c, "w1", 1, 1, T1);
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
      expect(await rows(c, run)).toEqual({
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
      await claim(c, "w1", 1);
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
      expect(await rows(c, run)).toMatchObject({
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
      expect(await rows(c, run)).toMatchObject({
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
      await claim(c, "w1", 1);
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
      expect(await rows(c, run)).toMatchObject({
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
      expect(await rows(c, run)).toMatchObject({ q2: "running w1 no-job #1" });
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
      expect((await claim(c, "w1", 1)).taken).toHaveLength(1);
      // A live run (priority -1) waits: run1's b goes to graphile.
      const live = await startPriority(c, "chain", -1);
      const [a] = await completeSteps(c, [{ run: run1, step: "a", take: 1 }], {
        worker: "w1",
        reserve: 1,
      });
      expect(a).toMatchObject({ ok: true, released: ["b"], taken: [], reserved: [] });
      expect(await rows(c, run1)).toMatchObject({ b: "queued - job #1" });
      // The live run is claimed first; a backfill run (priority 1000) waiting does not hold it up.
      const claimed = await claim(c, "w1", 1);
      expect(claimed.taken).toEqual([context(live, "a", "chain", {}, -1)]);
      const backfill = await startPriority(c, "chain", 1000);
      const [b] = await completeSteps(c, [{ run: live, step: "a", take: 1 }], { worker: "w1" });
      expect(b).toMatchObject({
        released: ["b"],
        taken: [context(live, "b", "chain", { a: null }, -1)],
      });
      // The backfill run is not claimed while run1's available job (priority 0) is due ...
      expect(await claim(c, "w1", 1)).toEqual({ runs: 0, taken: [] });
      // ... but once a worker holds that job, it is.
      const lockJob = (by: string | null) =>
        c.query(
          `update graphile_worker._private_jobs set locked_by = $2::text,
                  locked_at = case when $2::text is null then null else now() end
            where (payload ->> 'run')::bigint = $1`,
          [run1, by],
        );
      await lockJob("w2");
      expect((await claim(c, "w1", 1)).taken).toEqual([context(backfill, "a", "chain", {}, 1000)]);
      // The backfill run's b waits behind run1's job when it is available again.
      await lockJob(null);
      const [d] = await completeSteps(c, [{ run: backfill, step: "a", take: 1 }], {
        worker: "w1",
        reserve: 1,
      });
      expect(d).toMatchObject({ ok: true, released: ["b"], taken: [], reserved: [] });
      expect(await rows(c, backfill)).toMatchObject({ b: "queued - job #1" });
    });
  });

  it("claim: a slot left over after a run finishes claims a queued run and starts its root step", async () => {
    await db.rollback(async (c) => {
      await define(c, "single", { steps: [{ name: "s", task: "t" }] });
      const run1 = await queueRun(c, "single");
      await claim(c, "w1", 1);
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
      expect(await rows(c, run2)).toEqual({ s: "running w1 no-job #1" });
      expect(await runRow(c, run2)).toMatchObject({ status: "running", started: true });
      expect(await runRow(c, run3)).toMatchObject({ status: "queued", started: false });
    });
  });

  it("answers a batch in call order, refusals included; every array must have one value per call", async () => {
    await db.rollback(async (c) => {
      await define(c, "single", { steps: [{ name: "s", task: "t" }] });
      const run1 = await queueRun(c, "single");
      const run2 = await queueRun(c, "single");
      expect((await claim(c, "w1", 2)).runs).toBe(2);
      // run3's step is queued with a job, not begun.
      const run3 = await queueRun(c, "single");
      expect(await claim(c, null, 0)).toEqual({ runs: 1, taken: [] });
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
      expect(await rows(c, run3)).toEqual({ s: "queued - job #1" });
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

describe("leases end", () => {
  it("release_leases: a running step not kept is a lost attempt and retried, a reserved one gets a job; kept and younger ones stay", async () => {
    await db.rollback(async (c) => {
      await define(c, "lease", {
        steps: [
          { name: "a", task: "t", attempts: 2 },
          { name: "b", task: "t" },
          { name: "k", task: "t" },
          { name: "e", task: "t", dependsOn: ["k"] },
          { name: "f", task: "t", dependsOn: ["k"] },
        ],
      });
      const run = await queueRun(c, "lease");
      expect((await claim(c, "w1", 3, 1, OLD)).taken.map((t) => t.step)).toEqual(["a", "b", "k"]);
      const [done] = await completeSteps(c, [{ run, step: "k" }], {
        worker: "w1",
        now: OLD,
        reserve: 2,
      });
      expect(done).toMatchObject({ ok: true, released: ["e", "f"], taken: [] });
      expect((done!.reserved as { step: string }[]).map((r) => r.step)).toEqual(["e", "f"]);
      expect(await rows(c, run)).toEqual({
        a: "running w1 no-job #1",
        b: "running w1 no-job #1",
        e: "queued w1 no-job #1",
        f: "queued w1 no-job #1",
        k: "succeeded - no-job #1",
      });

      expect(await releaseLeases(c, "w2", [])).toBe(0);
      expect(await releaseLeases(c, "w1", [`${run}:a`, `${run}:f`], "1 hour")).toBe(2);
      expect(await rows(c, run)).toEqual({
        a: "running w1 no-job #1",
        b: "queued - job #2",
        e: "queued - job #1",
        f: "queued w1 no-job #1",
        k: "succeeded - no-job #1",
      });
      const { rows: events } = await c.query(
        "select step, type, attempt, data from rowflow.events where run_id = $1 order by id",
        [run],
      );
      const lost = {
        kind: "worker_lost",
        code: "RF_WORKER_LOST",
        workerId: "w1",
        message: "the worker running attempt 1 stopped before recording an outcome",
      };
      expect(events).toEqual([
        {
          step: "b",
          type: "step_retrying",
          attempt: 1,
          data: {
            error: lost,
            retryAt: expect.any(String),
            nextAttempt: 2,
            startedAt: "2020-01-01T00:00:00+00:00",
          },
        },
      ]);
      const { rows: bRow } = await c.query(
        "select error, started_at from rowflow.step_runs where run_id = $1 and step = 'b'",
        [run],
      );
      expect(bRow).toEqual([{ error: lost, started_at: null }]);

      // Taken less than 100 years ago: too young to end.
      expect(await releaseLeases(c, "w1", [], "100 years")).toBe(0);
      expect(await releaseLeases(c, "w1", [])).toBe(2);
      expect(await rows(c, run)).toEqual({
        a: "queued - job #2",
        b: "queued - job #2",
        e: "queued - job #1",
        f: "queued - job #1",
        k: "succeeded - no-job #1",
      });
      expect(await jobKeys(c, run)).toEqual([
        `rowflow:${run}:a:2`,
        `rowflow:${run}:b:2`,
        `rowflow:${run}:e:1`,
        `rowflow:${run}:f:1`,
      ]);
      expect(await eventTypes(c, run)).toEqual(["b step_retrying", "a step_retrying"]);
      expect(await runRow(c, run)).toMatchObject({ status: "running" });
      // The retried attempts and the reserved steps are graphile's now.
      expect(await begin(c, run, "e")).toMatchObject({ ok: true, step: "e", attempt: 1 });
      expect(await begin(c, run, "a", 2)).toMatchObject({ ok: true, step: "a", attempt: 2 });
    });
  });

  it("release_leases: a lost attempt with no attempt left fails the run", async () => {
    await db.rollback(async (c) => {
      await define(c, "lease-once", {
        steps: [
          { name: "only", task: "t", attempts: 1 },
          { name: "other", task: "t" },
        ],
      });
      const run = await queueRun(c, "lease-once");
      await claim(c, "w1", 2, 1, OLD);
      expect(await releaseLeases(c, "w1", [`${run}:other`])).toBe(1);
      expect(await statuses(c, run)).toEqual({ only: "failed", other: "cancelled" });
      expect(await rows(c, run)).toEqual({
        only: "failed - no-job #1",
        other: "cancelled - no-job #1",
      });
      expect(await runRow(c, run)).toEqual({
        status: "failed",
        started: true,
        finished: true,
        error: {
          step: "only",
          attempt: 1,
          error: {
            kind: "worker_lost",
            code: "RF_WORKER_LOST",
            workerId: "w1",
            message: "the worker running attempt 1 stopped before recording an outcome",
          },
        },
      });
      expect(await eventTypes(c, run)).toEqual([
        "only step_failed",
        "other step_cancelled",
        "run_failed",
      ]);
    });
  });

  it("release_dead_workers ends the leases of dead and unregistered holders, not of live workers", async () => {
    await db.rollback(async (c) => {
      await define(c, "single", { steps: [{ name: "s", task: "t" }] });
      await c.query(
        "select rowflow.register_worker(id => 'dead-1', hostname => 'h', pid => 1, concurrency => 1, now => $1::timestamptz)",
        [OLD],
      );
      await c.query(
        "select rowflow.register_worker(id => 'live-1', hostname => 'h', pid => 2, concurrency => 1)",
      );
      const dead = await queueRun(c, "single");
      await claim(c, "dead-1", 1, 1, OLD);
      const ghost = await queueRun(c, "single");
      await claim(c, "ghost-1", 1, 1, OLD);
      const live = await queueRun(c, "single");
      await claim(c, "live-1", 1, 1, OLD);
      const { rows: released } = await c.query(
        "select rowflow.release_dead_workers(timeout => '30 seconds') as ids",
      );
      expect(released).toEqual([{ ids: ["dead-1", "ghost-1"] }]);
      expect(await rows(c, dead)).toEqual({ s: "queued - job #2" });
      expect(await rows(c, ghost)).toEqual({ s: "queued - job #2" });
      expect(await rows(c, live)).toEqual({ s: "running live-1 no-job #1" });
      const { rows: workers } = await c.query("select id from rowflow.workers order by id");
      expect(workers).toEqual([{ id: "live-1" }]);
      const { rows: lostBy } = await c.query(
        `select run_id::int, data->'error'->>'workerId' as worker from rowflow.events
         where type = 'step_retrying' and data->'error'->>'kind' = 'worker_lost' order by run_id`,
      );
      expect(lostBy).toEqual([
        { run_id: dead, worker: "dead-1" },
        { run_id: ghost, worker: "ghost-1" },
      ]);
    });
  });
});
