// Operators' retry_run and skip_step (sql/schema/85_operate/): what each
// accepts and refuses, and that the released steps go through the
// ordinary gate (a fan-in released once, outputs kept).
import { describe, expect, it } from "vitest";

import { useTestDatabase } from "../../helpers/db.js";
import {
  claimAll,
  clock,
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
} from "../support.js";

const db = useTestDatabase();

const diamond = {
  steps: [
    { name: "a", task: "t" },
    { name: "b", task: "t", dependsOn: ["a"], attempts: 1 },
    { name: "c", task: "t", dependsOn: ["a"] },
    { name: "d", task: "t", dependsOn: ["b", "c"] },
  ],
};

async function retry(q: Queryable, run: number, mode = "failed", reason: string | null = null) {
  const { rows } = await q.query<{ r: Record<string, unknown> }>(
    "select rowflow.retry_run(run_id => $1, mode => $2, reason => $3) as r",
    [run, mode, reason],
  );
  return rows[0]!.r;
}

async function skip(q: Queryable, run: number, step: string, output: unknown = null) {
  const { rows } = await q.query<{ r: Record<string, unknown> }>(
    "select rowflow.skip_step(run_id => $1, step => $2, output => $3::jsonb) as r",
    [run, step, output === null ? null : JSON.stringify(output)],
  );
  return rows[0]!.r;
}

/** A diamond run where a and c succeeded and b failed for good: the run failed, d cancelled. */
async function failedDiamond(q: Queryable) {
  await define(q, "dia", diamond);
  const t = clock();
  const run = await startRun(q, "dia", { n: 1 });
  await runStep(q, run, "a", { a: 1 }, t);
  await runStep(q, run, "c", { c: 3 }, t);
  const b = await stepRow(q, run, "b");
  const { rows } = await q.query<{ r: { ok: boolean } }>(
    "select rowflow.begin_step(run_id => $1, step => 'b', attempt => $2) as r",
    [run, b.attempt],
  );
  expect(rows[0]!.r.ok).toBe(true);
  expect(await fail(q, run, "b", b.attempt, { retryable: false })).toMatchObject({
    outcome: "failed",
    runStatus: "failed",
  });
  expect(await statuses(q, run)).toEqual({
    a: "succeeded",
    b: "failed",
    c: "succeeded",
    d: "cancelled",
  });
  return run;
}

describe("retry_run", () => {
  it("mode failed: b and d run again, c's output is kept, d is released once", async () => {
    await db.rollback(async (c) => {
      const run = await failedDiamond(c);
      const answer = await retry(c, run, "failed", "fixed the API key");
      expect(answer).toMatchObject({
        run,
        retried: true,
        mode: "failed",
        from: "failed",
        status: "running",
        steps: ["b", "d"],
        queued: ["b"],
      });
      expect(await runRow(c, run)).toMatchObject({
        status: "running",
        finished: false,
        error: null,
      });
      expect(await stepRow(c, run, "b")).toMatchObject({ status: "queued", attempt: 1 });
      expect(await stepRow(c, run, "c")).toMatchObject({ status: "succeeded", output: { c: 3 } });
      expect(await stepRow(c, run, "d")).toMatchObject({ status: "pending" });
      // Jobs of finished attempts stay until a worker completes them; b has a new one, d none.
      expect(await jobKeys(c, run)).toContain(`rowflow:${run}:b:1`);
      expect((await jobKeys(c, run)).filter((k) => k.includes(":d:"))).toEqual([]);
      // b succeeds now: d is released (its other dependency, c, was kept).
      expect(await runStep(c, run, "b", { b: 2 })).toMatchObject({ ok: true, released: ["d"] });
      const d = await runStep(c, run, "d", null);
      expect(d).toMatchObject({ ok: true, runStatus: "succeeded" });
      const { rows } = await c.query(
        "select rowflow.begin_step(run_id => $1, step => 'd', attempt => 1) as r",
        [run],
      );
      expect(rows[0]!.r).toMatchObject({ ok: false });
      expect(await eventTypes(c, run)).toContain("run_retried");
      const { rows: audit } = await c.query(
        "select action, run_id::int as run, reason, session_user_name = session_user as me from rowflow.audit where action not in ('define_workflow', 'attach', 'detach')",
      );
      expect(audit).toEqual([{ action: "retry_run", run, reason: "fixed the API key", me: true }]);
    });
  });

  it("mode failed_and_downstream also reruns a succeeded step downstream of the failure", async () => {
    await db.rollback(async (c) => {
      await define(c, "chain", {
        steps: [
          { name: "x", task: "t" },
          { name: "y", task: "t", dependsOn: ["x"], attempts: 1 },
          { name: "z", task: "t", dependsOn: ["y"] },
          { name: "w", task: "t" },
        ],
      });
      const run = await startRun(c, "chain");
      await runStep(c, run, "x", { x: 1 });
      await runStep(c, run, "w", { w: 1 });
      const y = await stepRow(c, run, "y");
      await c.query("select rowflow.begin_step(run_id => $1, step => 'y', attempt => $2)", [
        run,
        y.attempt,
      ]);
      await fail(c, run, "y", y.attempt, { retryable: false });
      // A cancelled run whose failed step is retried with everything downstream.
      expect(await retry(c, run, "failed_and_downstream")).toMatchObject({
        steps: ["y", "z"],
        queued: ["y"],
      });
      expect(await statuses(c, run)).toEqual({
        w: "succeeded",
        x: "succeeded",
        y: "queued",
        z: "pending",
      });
    });
  });

  it("refuses a succeeded run, an unknown run and an unknown mode; a running run is a no-op", async () => {
    await db.rollback(async (c) => {
      await define(c, "one", { steps: [{ name: "a", task: "t" }] });
      const run = await startRun(c, "one");
      expect(await retry(c, run)).toEqual({ run, retried: false, status: "running" });
      await runStep(c, run, "a", null);
      expect(await runRow(c, run)).toMatchObject({ status: "succeeded" });
      await c.query("savepoint s");
      await expectSqlError(retry(c, run), "RF040", /succeeded: nothing to retry/);
      await c.query("rollback to savepoint s");
      await expectSqlError(retry(c, 999_999), "RF023", "unknown run 999999");
      await c.query("rollback to savepoint s");
      await expectSqlError(retry(c, run, "everything"), "RF043", /mode must be/);
      await c.query("rollback to savepoint s");
    });
  });

  it("a run cancelled before its claim is queued again; a second retry changes nothing", async () => {
    await db.rollback(async (c) => {
      await define(c, "one", { steps: [{ name: "a", task: "t" }] });
      const run = await queueRun(c, "one");
      await c.query("select rowflow.cancel_run($1)", [run]);
      expect(await retry(c, run)).toMatchObject({
        retried: true,
        status: "queued",
        from: "cancelled",
      });
      expect(await runRow(c, run)).toMatchObject({
        status: "queued",
        started: false,
        finished: false,
      });
      expect(await retry(c, run)).toEqual({ run, retried: false, status: "queued" });
      // Its claim writes its step rows afresh, next to another queued run's
      // (the cancel's step rows once made every claim fail on step_runs_pkey).
      const other = await queueRun(c, "one");
      expect(await claimAll(c)).toMatchObject({ runs: 2 });
      for (const r of [run, other]) {
        expect(await statuses(c, r)).toEqual({ a: "queued" });
        expect(await jobKeys(c, r)).toHaveLength(1);
      }
      await runStep(c, run, "a", { ok: true });
      expect(await runRow(c, run)).toMatchObject({ status: "succeeded" });
      expect(await eventTypes(c, run)).toEqual([
        "a step_cancelled",
        "run_cancelled",
        "run_retried",
      ]);
    });
  });

  it("records the compensation chain that ran and warns that its effects were undone", async () => {
    await db.rollback(async (c) => {
      await define(c, "saga", {
        steps: [
          { name: "a", task: "t", compensate: "undo-a" },
          { name: "b", task: "t", dependsOn: ["a"], attempts: 1 },
        ],
      });
      const run = await startRun(c, "saga");
      await runStep(c, run, "a", { a: 1 });
      await c.query("select rowflow.begin_step(run_id => $1, step => 'b', attempt => 1)", [run]);
      expect(await fail(c, run, "b", 1, { retryable: false })).toMatchObject({
        runStatus: "compensating",
      });
      await c.query("savepoint s");
      await expectSqlError(retry(c, run), "RF040", /is compensating/);
      await c.query("rollback to savepoint s");
      await runStep(c, run, "compensate:a", null);
      expect(await runRow(c, run)).toMatchObject({ status: "failed" });
      const answer = await retry(c, run);
      expect(answer).toMatchObject({
        steps: ["b"],
        queued: ["b"],
        chain: { "compensate:a": "succeeded" },
        warning: expect.stringMatching(/^compensations ran for a: /),
      });
      const { rows } = await c.query(
        "select count(*)::int as n from rowflow.step_runs where run_id = $1 and kind <> 'step'",
        [run],
      );
      expect(rows[0]!.n).toBe(0);
      // A second failure builds its chain again (no leftover link in the way).
      await c.query("select rowflow.begin_step(run_id => $1, step => 'b', attempt => 1)", [run]);
      expect(await fail(c, run, "b", 1, { retryable: false })).toMatchObject({
        runStatus: "compensating",
      });
    });
  });
});

describe("skip_step", () => {
  it("a queued step settled with an output releases the fan-in exactly once", async () => {
    await db.rollback(async (c) => {
      await define(c, "dia", diamond);
      const run = await startRun(c, "dia");
      await runStep(c, run, "a", null);
      expect(await jobKeys(c, run)).toEqual(expect.arrayContaining([`rowflow:${run}:b:1`]));
      expect(await skip(c, run, "b", { b: "by hand" })).toMatchObject({
        skipped: true,
        status: "succeeded",
        from: "queued",
        released: [],
        runStatus: "running",
      });
      expect(await jobKeys(c, run)).not.toContain(`rowflow:${run}:b:1`);
      expect(await jobKeys(c, run)).toContain(`rowflow:${run}:c:1`);
      // The job a worker may already hold is refused at begin.
      const { rows } = await c.query(
        "select rowflow.begin_step(run_id => $1, step => 'b', attempt => 1) as r",
        [run],
      );
      expect(rows[0]!.r).toMatchObject({ ok: false });
      expect(await runStep(c, run, "c", null)).toMatchObject({ released: ["d"] });
      expect(await stepRow(c, run, "d")).toMatchObject({ status: "queued", attempt: 1 });
      const { rows: ctx } = await c.query(
        "select rowflow.begin_step(run_id => $1, step => 'd', attempt => 1) as r",
        [run],
      );
      expect(ctx[0]!.r).toMatchObject({ ok: true, deps: { b: { b: "by hand" }, c: null } });
      // A second skip changes nothing.
      expect(await skip(c, run, "b", { b: "again" })).toMatchObject({
        skipped: false,
        status: "succeeded",
      });
    });
  });

  it("skipping the last open step finishes the run; a pending step can be skipped too", async () => {
    await db.rollback(async (c) => {
      await define(c, "dia", diamond);
      const run = await startRun(c, "dia");
      expect(await skip(c, run, "d")).toMatchObject({
        skipped: true,
        status: "skipped",
        from: "pending",
      });
      await runStep(c, run, "a", null);
      await runStep(c, run, "b", null);
      expect(await skip(c, run, "c")).toMatchObject({
        status: "skipped",
        released: [],
        runStatus: "succeeded",
      });
      expect(await runRow(c, run)).toMatchObject({ status: "succeeded", finished: true });
    });
  });

  it("refuses a running step, a failed run, an unknown step and a non-object output", async () => {
    await db.rollback(async (c) => {
      const run = await failedDiamond(c);
      await c.query("savepoint s");
      await expectSqlError(skip(c, run, "b"), "RF042", /run \d+ is failed/);
      await c.query("rollback to savepoint s");
      await expectSqlError(skip(c, run, "nope"), "RF041", /has no step 'nope'/);
      await c.query("rollback to savepoint s");
      await expectSqlError(
        skip(c, run, "b", [1, 2]),
        "RF043",
        /must be a JSON object or null, got array/,
      );
      await c.query("rollback to savepoint s");
      // retry first, then skip the failed step: d is released.
      await retry(c, run);
      await c.query("select rowflow.begin_step(run_id => $1, step => 'b', attempt => 1)", [run]);
      await c.query("savepoint t");
      await expectSqlError(skip(c, run, "b"), "RF042", /step b of run \d+ is running/);
      await c.query("rollback to savepoint t");
    });
  });

  it("retry, then skip the failed step: the run completes without running it", async () => {
    await db.rollback(async (c) => {
      const run = await failedDiamond(c);
      await retry(c, run);
      expect(await skip(c, run, "b", { b: "manual" })).toMatchObject({ released: ["d"] });
      expect(await runStep(c, run, "d", null)).toMatchObject({ runStatus: "succeeded" });
    });
  });
});
