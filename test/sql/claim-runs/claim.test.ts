// rowflow.claim_runs (sql/schema/60_gate/claim_runs.sql): a start is one 'queued'
// run row; a claim makes it running, writes a row for every step at once, hands
// up to `take` root steps to the claiming worker under a lease and queues the
// others as jobs: order, arguments, conditions.
// sql/schema/60_gate/claim_runs.sql: a start is one 'queued' run row; rowflow.claim_runs makes it
// running and writes a row for every step at once (eager rows), hands up to
// `take` root steps to the claiming worker under a lease and queues the
// others as jobs. These tests pin the claim (order, SKIP LOCKED, leases,
// conditions), what eager rows mean for fan-in, cancel and failure, the step
// lists readers see (rowflow.run_steps, getRun), and that runs started by an
// older rowflow (lazy rows: 000006-000010) still run to the end.

import { describe, expect, it } from "vitest";

import { useTestDatabase } from "../../helpers/db.js";
import { claimRuns, leaseColumns, leaseToken, traceKeys } from "../gate-calls.js";
import {
  begin,
  complete,
  define,
  eventTypes,
  expectSqlError,
  jobKeys,
  queueRun,
  runRow,
  statuses,
  stepRow,
  storedSteps,
  timeline,
} from "../support.js";

const db = useTestDatabase();

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

      const answer = await claimRuns(c, { worker: "w1", take: 3, maxRuns: 2, now: T });
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
        lease: leaseToken,
        ...traceKeys,
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
      expect(await leaseColumns(c, r3)).toEqual([
        { step: "a", ...leased },
        { step: "b", ...leased },
        pendingC,
      ]);
      // Over take: r1's b is queued the ordinary way, with a job and no lease.
      expect(await leaseColumns(c, r1)).toEqual([
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
      expect((await leaseColumns(c, r3))[0]).toEqual({
        step: "a",
        status: "succeeded",
        locked_by: null,
        has_job: false,
        started: true,
      });

      // max_runs defaults to greatest(take, 1): one run here.
      const next = await claimRuns(c, { worker: "w2", take: 1 });
      expect(next.runs).toBe(1);
      expect(next.taken.map((x) => [x.runId, x.step])).toEqual([[String(r2), "a"]]);
      expect(await leaseColumns(c, r2)).toEqual([
        { step: "a", ...leased, locked_by: "w2" },
        { step: "b", status: "queued", locked_by: null, has_job: true, started: false },
        pendingC,
      ]);
      expect(await claimRuns(c, { take: 0, maxRuns: 10 })).toEqual({ runs: 0, taken: [] });
    });
  });

  it("rejects a negative take or max_runs and a take without worker_id; max_runs 0 claims nothing", async () => {
    await db.rollback(async (c) => {
      await define(c, "args", { steps: [{ name: "a", task: "t" }] });
      const run = await queueRun(c, "args");
      await c.query("savepoint s");
      await expectSqlError(
        claimRuns(c, { worker: "w1", take: -1 }),
        "22023",
        "claim_runs: take and max_runs must not be negative (take -1, max_runs 1)",
      );
      await c.query("rollback to savepoint s");
      await expectSqlError(
        claimRuns(c, { take: 0, maxRuns: -2 }),
        "22023",
        "claim_runs: take and max_runs must not be negative (take 0, max_runs -2)",
      );
      await c.query("rollback to savepoint s");
      await expectSqlError(
        claimRuns(c, { take: 1 }),
        "22023",
        "claim_runs: take > 0 needs the worker_id that will run the steps",
      );
      await c.query("rollback to savepoint s");
      expect(await claimRuns(c, { worker: "w1", take: 1, maxRuns: 0 })).toEqual({
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
      const answer = await claimRuns(c, { worker: "w1", take: 10, now: T });
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
      expect(await leaseColumns(c, run)).toEqual([
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
      const answer = await claimRuns(c, { worker: "w1", take: 5 });
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
      expect(await claimRuns(c, { worker: "w1", take: 2, now: T })).toEqual({ runs: 1, taken: [] });
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
