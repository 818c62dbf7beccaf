// 000011: a start is one 'queued' run row; rowflow.claim_runs makes it
// running and writes a row for every step at once (eager rows), hands up to
// `take` root steps to the claiming worker under a lease and queues the
// others as jobs. These tests pin the claim (order, SKIP LOCKED, leases,
// conditions), what eager rows mean for fan-in, cancel and failure, the step
// lists readers see (rowflow.run_steps, getRun), and that runs started
// before 000011 (lazy rows) still run to the end.
import { Kysely, PostgresDialect } from "kysely";
import type pg from "pg";
import { describe, expect, it } from "vitest";

import { getRun } from "../../../src/db/runs/get-run.js";
import type { Database } from "../../../src/db/types.js";
import { useTestDatabase } from "../../helpers/db.js";
import {
  begin,
  claimAll,
  complete,
  define,
  eventTypes,
  expectSqlError,
  fail,
  jobKeys,
  type Queryable,
  queueRun,
  runRow,
  runStep,
  startRun,
  statuses,
  stepRow,
  storedSteps,
  timeline,
} from "../support.js";

const db = useTestDatabase();

interface ClaimAnswer {
  runs: number;
  taken: Record<string, unknown>[];
}

async function claim(
  q: Queryable,
  args: { worker?: string | null; take?: number; maxRuns?: number | null; now?: string | null },
): Promise<ClaimAnswer> {
  const { rows } = await q.query<{ r: ClaimAnswer }>(
    `select rowflow.claim_runs(worker_id => $1, take => $2, max_runs => $3, now => $4::timestamptz) as r`,
    [args.worker ?? null, args.take ?? 0, args.maxRuns ?? null, args.now ?? null],
  );
  return rows[0]!.r;
}

/** The lease-related columns of a run's step rows, by step. */
async function leases(q: Queryable, run: number) {
  const { rows } = await q.query<{
    step: string;
    status: string;
    locked_by: string | null;
    has_job: boolean;
    started: boolean;
  }>(
    `select step, status, locked_by, job_id is not null as has_job, started_at is not null as started
     from rowflow.step_runs where run_id = $1 order by step`,
    [run],
  );
  return rows;
}

const T = "2030-01-01T00:00:00.000Z";

describe("claim_runs", () => {
  it("claims in (priority, id) order, max_runs at a time, and hands up to `take` root steps to the worker under its lease", async () => {
    await db.rollback(async (c) => {
      await define(c, "roots", {
        steps: [
          { name: "a", task: "ta" },
          { name: "b", task: "tb", attempts: 4, timeout: "30 s" },
          { name: "c", task: "tc", dependsOn: ["a", "b"] },
        ],
      });
      const r1 = await queueRun(c, "roots", { n: 1 });
      const r2 = await queueRun(c, "roots", { n: 2 });
      const { rows } = await c.query<{ id: string }>(
        "select rowflow.start_run('roots', '{\"n\": 3}', priority => -5) as id",
      );
      const r3 = Number(rows[0]!.id);

      const answer = await claim(c, { worker: "w1", take: 3, maxRuns: 2, now: T });
      const context = (run: number, step: string, n: number, priority: number) => ({
        ok: true,
        runId: String(run),
        step,
        task: step === "a" ? "ta" : "tb",
        workflow: "roots",
        version: 1,
        input: { n },
        deps: {},
        attempt: 1,
        maxAttempts: step === "a" ? 3 : 4,
        timeoutMs: step === "a" ? null : 30_000,
        idempotencyKey: `rowflow:${run}:${step}`,
        kind: "step",
        runError: null,
        priority,
      });
      // r3 first (priority -5), then r1 (lowest id); r2 stays queued.
      expect(answer).toEqual({
        runs: 2,
        taken: [context(r3, "a", 3, -5), context(r3, "b", 3, -5), context(r1, "a", 1, 0)],
      });
      expect(await runRow(c, r3)).toMatchObject({ status: "running", started: true });
      expect(await runRow(c, r1)).toMatchObject({ status: "running", started: true });
      expect(await runRow(c, r2)).toMatchObject({ status: "queued", started: false });
      const leased = { status: "running", locked_by: "w1", has_job: false, started: true };
      const pendingC = {
        step: "c",
        status: "pending",
        locked_by: null,
        has_job: false,
        started: false,
      };
      expect(await leases(c, r3)).toEqual([
        { step: "a", ...leased },
        { step: "b", ...leased },
        pendingC,
      ]);
      // Over take: r1's b is queued the ordinary way, with a job and no lease.
      expect(await leases(c, r1)).toEqual([
        { step: "a", ...leased },
        { step: "b", status: "queued", locked_by: null, has_job: true, started: false },
        pendingC,
      ]);
      expect(await jobKeys(c, r3)).toEqual([]);
      expect(await jobKeys(c, r1)).toEqual([`rowflow:${r1}:b:1`]);
      expect(await storedSteps(c, r2)).toEqual([]);
      const { rows: times } = await c.query(
        `select step, queued_at = $2::timestamptz as queued_at_claim, started_at = $2::timestamptz as started_at_claim
         from rowflow.step_runs where run_id = $1 and step in ('a', 'b') order by step`,
        [r3, T],
      );
      expect(times).toEqual([
        { step: "a", queued_at_claim: true, started_at_claim: true },
        { step: "b", queued_at_claim: true, started_at_claim: true },
      ]);
      expect(await timeline(c, r3)).toEqual([
        "run_started",
        "a step_queued",
        "b step_queued",
        "a step_started",
        "b step_started",
      ]);
      expect(await eventTypes(c, r3)).toEqual([]);

      // A leased step is not graphile's: begin_step (a fetched job) refuses
      // it, and no re-delivery is recorded.
      expect(await begin(c, r3, "a")).toEqual({
        ok: false,
        reason: "step_not_ready",
        status: "running",
      });
      expect(await eventTypes(c, r3)).toEqual([]);
      // The worker completes it like any running attempt; the lease ends.
      expect(await complete(c, r3, "a", 1, "A")).toMatchObject({
        ok: true,
        released: [],
        runStatus: "running",
      });
      expect(await stepRow(c, r3, "c")).toMatchObject({ status: "pending", deps_remaining: 1 });
      expect((await leases(c, r3))[0]).toEqual({
        step: "a",
        status: "succeeded",
        locked_by: null,
        has_job: false,
        started: true,
      });

      // max_runs defaults to greatest(take, 1): one run here.
      const next = await claim(c, { worker: "w2", take: 1 });
      expect(next.runs).toBe(1);
      expect(next.taken.map((x) => [x.runId, x.step])).toEqual([[String(r2), "a"]]);
      expect(await leases(c, r2)).toEqual([
        { step: "a", ...leased, locked_by: "w2" },
        { step: "b", status: "queued", locked_by: null, has_job: true, started: false },
        pendingC,
      ]);
      expect(await claim(c, { take: 0, maxRuns: 10 })).toEqual({ runs: 0, taken: [] });
    });
  });

  it("rejects a negative take or max_runs and a take without worker_id; max_runs 0 claims nothing", async () => {
    await db.rollback(async (c) => {
      await define(c, "args", { steps: [{ name: "a", task: "t" }] });
      const run = await queueRun(c, "args");
      await c.query("savepoint s");
      await expectSqlError(
        claim(c, { worker: "w1", take: -1 }),
        "22023",
        "claim_runs: take and max_runs must not be negative (take -1, max_runs 1)",
      );
      await c.query("rollback to savepoint s");
      await expectSqlError(
        claim(c, { take: 0, maxRuns: -2 }),
        "22023",
        "claim_runs: take and max_runs must not be negative (take 0, max_runs -2)",
      );
      await c.query("rollback to savepoint s");
      await expectSqlError(
        claim(c, { take: 1 }),
        "22023",
        "claim_runs: take > 0 needs the worker_id that will run the steps",
      );
      await c.query("rollback to savepoint s");
      expect(await claim(c, { worker: "w1", take: 1, maxRuns: 0 })).toEqual({
        runs: 0,
        taken: [],
      });
      expect(await runRow(c, run)).toMatchObject({ status: "queued" });
    });
  });

  it("takes only root steps without queue, delay or a false condition; the others get jobs or are skipped", async () => {
    await db.rollback(async (c) => {
      await define(c, "mixed", {
        steps: [
          { name: "plain", task: "t" },
          { name: "serial", task: "t", queue: "one-at-a-time" },
          { name: "later", task: "t", delay: "5 s" },
          { name: "maybe", task: "t", if: "$.input.go == true" },
          { name: "after", task: "t", dependsOn: ["maybe"] },
        ],
      });
      const run = await queueRun(c, "mixed", { go: false });
      const answer = await claim(c, { worker: "w1", take: 10, now: T });
      expect(answer.runs).toBe(1);
      expect(answer.taken.map((x) => x.step)).toEqual(["plain"]);
      expect(await statuses(c, run)).toEqual({
        after: "queued",
        later: "queued",
        maybe: "skipped",
        plain: "running",
        serial: "queued",
      });
      // A step released by a skip at the claim goes to graphile, not to the worker.
      expect(await leases(c, run)).toEqual([
        { step: "after", status: "queued", locked_by: null, has_job: true, started: false },
        { step: "later", status: "queued", locked_by: null, has_job: true, started: false },
        { step: "maybe", status: "skipped", locked_by: null, has_job: false, started: false },
        { step: "plain", status: "running", locked_by: "w1", has_job: false, started: true },
        { step: "serial", status: "queued", locked_by: null, has_job: true, started: false },
      ]);
      const { rows: jobs } = await c.query(
        `select j.payload->>'step' as step, q.queue_name, extract(epoch from j.run_at - $2::timestamptz)::int as delay_s
         from graphile_worker._private_jobs j left join graphile_worker._private_job_queues q on q.id = j.job_queue_id
         where (j.payload->>'run')::bigint = $1 order by 1`,
        [run, T],
      );
      expect(jobs).toEqual([
        { step: "after", queue_name: null, delay_s: 0 },
        { step: "later", queue_name: null, delay_s: 5 },
        { step: "serial", queue_name: "one-at-a-time", delay_s: 0 },
      ]);
      const { rows: events } = await c.query(
        "select step, type, data from rowflow.events where run_id = $1 order by id",
        [run],
      );
      expect(events).toEqual([
        { step: "maybe", type: "step_skipped", data: { if: '($."input"."go" == true)' } },
      ]);
    });
  });

  it("propagates a root step's skip at the claim through dependents' conditions", async () => {
    await db.rollback(async (c) => {
      await define(c, "skipchain", {
        steps: [
          { name: "a", task: "t", if: "$.input.go == true" },
          { name: "b", task: "t", dependsOn: ["a"], if: "$.steps.a.x == 1" },
          { name: "c", task: "t", dependsOn: ["b"] },
          { name: "d", task: "t", dependsOn: ["c"] },
          { name: "r", task: "t" },
        ],
      });
      const run = await queueRun(c, "skipchain", { go: false });
      const answer = await claim(c, { worker: "w1", take: 5 });
      expect(answer.taken.map((x) => x.step)).toEqual(["r"]);
      // a skipped (input.go) → b skipped (a has no output) → c queued.
      expect(await statuses(c, run)).toEqual({
        a: "skipped",
        b: "skipped",
        c: "queued",
        d: "pending",
        r: "running",
      });
      expect(await stepRow(c, run, "d")).toMatchObject({ deps_remaining: 1, attempt: 0 });
      expect(await stepRow(c, run, "c")).toMatchObject({ deps_remaining: 0, attempt: 1 });
      expect(await jobKeys(c, run)).toEqual([`rowflow:${run}:c:1`]);
      expect(await eventTypes(c, run)).toEqual(["a step_skipped", "b step_skipped"]);
      expect(await runRow(c, run)).toMatchObject({ status: "running", finished: false });
      // The rest of the run goes on as usual; c gets its skipped dependencies as null.
      expect(await begin(c, run, "c")).toMatchObject({ ok: true, deps: { b: null } });
    });
  });

  it("finishes a run at the claim when every step is skipped", async () => {
    await db.rollback(async (c) => {
      await define(c, "allskip", {
        steps: [
          { name: "a", task: "t", if: "$.input.go == true" },
          { name: "b", task: "t", dependsOn: ["a"], if: "$.steps.a.x == 1" },
        ],
      });
      const run = await queueRun(c, "allskip", { go: false });
      expect(await claim(c, { worker: "w1", take: 2, now: T })).toEqual({ runs: 1, taken: [] });
      expect(await statuses(c, run)).toEqual({ a: "skipped", b: "skipped" });
      expect(await runRow(c, run)).toEqual({
        status: "succeeded",
        started: true,
        finished: true,
        error: null,
      });
      expect(await jobKeys(c, run)).toEqual([]);
      expect(await eventTypes(c, run)).toEqual(["a step_skipped", "b step_skipped"]);
      expect(await timeline(c, run)).toEqual([
        "run_started",
        "a step_skipped",
        "b step_skipped",
        "run_succeeded",
      ]);
    });
  });
});

describe("eager step rows", () => {
  it("gives a fan-in step its row at the claim and releases it at its last dependency, once", async () => {
    await db.rollback(async (c) => {
      await define(c, "fan3", {
        steps: [
          { name: "x", task: "t" },
          { name: "y", task: "t" },
          { name: "z", task: "t" },
          { name: "join", task: "t", dependsOn: ["x", "y", "z"] },
        ],
      });
      const run = await startRun(c, "fan3");
      expect(await storedSteps(c, run)).toEqual(["join", "x", "y", "z"]);
      expect(await stepRow(c, run, "join")).toMatchObject({ status: "pending", deps_remaining: 3 });
      expect((await runStep(c, run, "y", 1)).released).toEqual([]);
      expect(await stepRow(c, run, "join")).toMatchObject({ status: "pending", deps_remaining: 2 });
      expect((await runStep(c, run, "x", 2)).released).toEqual([]);
      expect(await stepRow(c, run, "join")).toMatchObject({ status: "pending", deps_remaining: 1 });
      expect((await runStep(c, run, "z", 3)).released).toEqual(["join"]);
      expect(await stepRow(c, run, "join")).toMatchObject({
        status: "queued",
        deps_remaining: 0,
        attempt: 1,
      });
      const { rows } = await c.query(
        `select count(*)::int as n from graphile_worker._private_jobs j
         where (j.payload->>'run')::bigint = $1 and j.payload->>'step' = 'join' and j.key is null
           and j.id = (select job_id from rowflow.step_runs where run_id = $1 and step = 'join')`,
        [run],
      );
      expect(rows[0]).toEqual({ n: 1 });
      expect(await jobKeys(c, run)).toHaveLength(4);
      expect(await begin(c, run, "join")).toMatchObject({ ok: true, deps: { x: 2, y: 1, z: 3 } });
      expect(await storedSteps(c, run)).toEqual(["join", "x", "y", "z"]);
    });
  });

  it("cancel of a queued run gives every step a cancelled row and event; nothing is left to claim", async () => {
    await db.rollback(async (c) => {
      await define(c, "cancel-queued", {
        steps: [
          { name: "a", task: "t" },
          { name: "b", task: "t", dependsOn: ["a"] },
          { name: "c", task: "t", dependsOn: ["b"] },
        ],
      });
      const run = await queueRun(c, "cancel-queued");
      const { rows } = await c.query("select rowflow.cancel_run($1, 'stop', $2) as ok", [run, T]);
      expect(rows[0]).toEqual({ ok: true });
      // Never started: no started_at, but finished.
      expect(await runRow(c, run)).toEqual({
        status: "cancelled",
        started: false,
        finished: true,
        error: null,
      });
      const { rows: steps } = await c.query(
        `select step, status, attempt, deps_remaining, queued_at, started_at, finished_at = $2::timestamptz as finished_now, job_id
         from rowflow.step_runs where run_id = $1 order by step`,
        [run, T],
      );
      const cancelled = {
        status: "cancelled",
        attempt: 0,
        queued_at: null,
        started_at: null,
        finished_now: true,
        job_id: null,
      };
      expect(steps).toEqual([
        { step: "a", deps_remaining: 0, ...cancelled },
        { step: "b", deps_remaining: 1, ...cancelled },
        { step: "c", deps_remaining: 1, ...cancelled },
      ]);
      expect(await jobKeys(c, run)).toEqual([]);
      const { rows: events } = await c.query(
        "select step, type, attempt, data from rowflow.events where run_id = $1 order by id",
        [run],
      );
      expect(events).toEqual([
        { step: "a", type: "step_cancelled", attempt: null, data: { reason: "stop" } },
        { step: "b", type: "step_cancelled", attempt: null, data: { reason: "stop" } },
        { step: "c", type: "step_cancelled", attempt: null, data: { reason: "stop" } },
        {
          step: null,
          type: "run_cancelled",
          attempt: null,
          data: { reason: "stop", from: "queued" },
        },
      ]);
      expect(await timeline(c, run)).toEqual([
        "a step_cancelled",
        "b step_cancelled",
        "c step_cancelled",
        "run_cancelled",
      ]);
      expect(await claim(c, { take: 0, maxRuns: 10 })).toEqual({ runs: 0, taken: [] });
      expect(await runRow(c, run)).toMatchObject({ status: "cancelled", started: false });
      const again = await c.query("select rowflow.cancel_run($1) as ok", [run]);
      expect(again.rows[0]).toEqual({ ok: false });
    });
  });

  it("cancel of a claimed run ends the worker's leases; the worker's late completion is refused", async () => {
    await db.rollback(async (c) => {
      await define(c, "cancel-leased", {
        steps: [
          { name: "a", task: "t" },
          { name: "b", task: "t" },
          { name: "c", task: "t", dependsOn: ["a", "b"] },
        ],
      });
      const run = await queueRun(c, "cancel-leased");
      expect((await claim(c, { worker: "w1", take: 1 })).taken.map((x) => x.step)).toEqual(["a"]);
      const { rows } = await c.query("select rowflow.cancel_run($1) as ok", [run]);
      expect(rows[0]).toEqual({ ok: true });
      expect((await leases(c, run)).map(({ has_job: _, ...row }) => row)).toEqual([
        { step: "a", status: "cancelled", locked_by: null, started: true },
        { step: "b", status: "cancelled", locked_by: null, started: false },
        { step: "c", status: "cancelled", locked_by: null, started: false },
      ]);
      // b's unlocked job was removed.
      expect(await jobKeys(c, run)).toEqual([]);
      expect(await complete(c, run, "a", 1)).toEqual({
        ok: false,
        reason: "step_terminal",
        status: "cancelled",
        runStatus: "cancelled",
        taken: [],
        reserved: [],
      });
      const { rows: released } = await c.query(
        "select rowflow.release_leases(worker_id => 'w1', keep => '{}') as n",
      );
      expect(released[0]).toEqual({ n: 0 });
      expect(await eventTypes(c, run)).toEqual([
        "a step_cancelled",
        "b step_cancelled",
        "c step_cancelled",
        "run_cancelled",
      ]);
    });
  });

  it("a failed run cancels its pending step rows", async () => {
    await db.rollback(async (c) => {
      await define(c, "fail-pending", {
        steps: [
          { name: "a", task: "t", attempts: 1 },
          { name: "b", task: "t" },
          { name: "c", task: "t", dependsOn: ["a", "b"] },
          { name: "d", task: "t", dependsOn: ["c"] },
        ],
      });
      const run = await startRun(c, "fail-pending");
      await runStep(c, run, "b");
      expect(await stepRow(c, run, "c")).toMatchObject({ status: "pending", deps_remaining: 1 });
      await begin(c, run, "a");
      expect(await fail(c, run, "a", 1, { retryable: false })).toEqual({
        ok: true,
        outcome: "failed",
        runStatus: "failed",
      });
      expect(await statuses(c, run)).toEqual({
        a: "failed",
        b: "succeeded",
        c: "cancelled",
        d: "cancelled",
      });
      // The rows keep their counters: c was still waiting for a.
      expect(await stepRow(c, run, "c")).toMatchObject({ deps_remaining: 1, attempt: 0 });
      expect(await stepRow(c, run, "d")).toMatchObject({ deps_remaining: 1, attempt: 0 });
      expect(await storedSteps(c, run)).toEqual(["a", "b", "c", "d"]);
      expect(await runRow(c, run)).toEqual({
        status: "failed",
        started: true,
        finished: true,
        error: { step: "a", attempt: 1, error: { message: "a failed" } },
      });
      expect(await eventTypes(c, run)).toEqual([
        "a step_failed",
        "c step_cancelled",
        "d step_cancelled",
        "run_failed",
      ]);
    });
  });

  it("runs a run started before 000011 (lazy rows) to the end, creating its rows as steps become ready", async () => {
    await db.rollback(async (c) => {
      await define(c, "legacy", {
        steps: [
          { name: "a", task: "t" },
          { name: "b", task: "t", dependsOn: ["a"] },
          { name: "c", task: "t", dependsOn: ["a"] },
          { name: "d", task: "t", dependsOn: ["b", "c"] },
        ],
      });
      // What 000006-000010 left: a running run with a row for its root step only.
      const { rows } = await c.query<{ id: string }>(
        `insert into rowflow.runs (workflow, version, status, input, priority, created_at, updated_at, started_at)
         values ('legacy', 1, 'running', '{}', 0, now(), now(), now()) returning id`,
      );
      const run = Number(rows[0]!.id);
      await c.query(
        `insert into rowflow.step_runs (run_id, step, kind, status, deps_remaining, attempt, max_attempts, created_at, queued_at)
         values ($1, 'a', 'step', 'queued', 0, 1, 3, now(), now())`,
        [run],
      );
      expect(await statuses(c, run)).toEqual({
        a: "queued",
        b: "pending",
        c: "pending",
        d: "pending",
      });
      expect((await runStep(c, run, "a", "A")).released).toEqual(["b", "c"]);
      expect(await storedSteps(c, run)).toEqual(["a", "b", "c"]);
      expect(await runStep(c, run, "c", "C")).toMatchObject({ released: [], runStatus: "running" });
      expect(await storedSteps(c, run)).toEqual(["a", "b", "c", "d"]);
      expect(await stepRow(c, run, "d")).toMatchObject({ status: "pending", deps_remaining: 1 });
      // Every existing row is terminal now except b: the run goes on.
      expect(await runStep(c, run, "b", "B")).toMatchObject({
        released: ["d"],
        runStatus: "running",
      });
      expect(await begin(c, run, "d")).toMatchObject({ ok: true, deps: { b: "B", c: "C" } });
      expect(await complete(c, run, "d", 1)).toMatchObject({ ok: true, runStatus: "succeeded" });
      expect(await runRow(c, run)).toMatchObject({ status: "succeeded", finished: true });
      expect(await jobKeys(c, run)).toEqual([
        `rowflow:${run}:b:1`,
        `rowflow:${run}:c:1`,
        `rowflow:${run}:d:1`,
      ]);
    });
  });
});

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
      expect(await claim(c1, { worker: "w1", take: 1, maxRuns: 1, now: T })).toMatchObject({
        runs: 1,
        taken: [expect.objectContaining({ runId: String(r1), step: "a" })],
      });
      // c2 asks for both: r1 is locked by c1's claim, so it gets r2 only.
      expect(await claim(c2, { worker: "w2", take: 2, maxRuns: 2, now: T })).toMatchObject({
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
    expect(await claim(db.pool, { take: 0, maxRuns: 10 })).toEqual({ runs: 0, taken: [] });
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
