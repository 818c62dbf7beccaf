// rerun_from and the bulk forms retry_runs / cancel_runs (sql/schema/85_operate/).
import { describe, expect, it } from "vitest";

import { useTestDatabase } from "../../helpers/db.js";
import {
  begin,
  define,
  expectSqlError,
  fail,
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

async function rerun(q: Queryable, run: number, step: string) {
  const { rows } = await q.query<{ r: Record<string, unknown> }>(
    "select rowflow.rerun_from($1, $2, reason => 'new carrier') as r",
    [run, step],
  );
  return rows[0]!.r;
}

/** a, b, c succeeded (b's output {b: 1}), d failed: the run failed. */
async function failedAtD(q: Queryable): Promise<number> {
  await define(q, "dia", {
    steps: diamond.steps.map((s) => (s.name === "d" ? { ...s, attempts: 1 } : s)),
  });
  const run = await startRun(q, "dia", { order: 9 });
  await runStep(q, run, "a", { a: 1 });
  await runStep(q, run, "b", { b: 1 });
  await runStep(q, run, "c", { c: 1 });
  await begin(q, run, "d", 1);
  await fail(q, run, "d", 1, { retryable: false });
  return run;
}

describe("rerun_from", () => {
  it("copies what is not downstream of the step, reruns the step and its dependents", async () => {
    await db.rollback(async (c) => {
      const source = await failedAtD(c);
      const answer = await rerun(c, source, "b");
      const run = Number(answer.run);
      expect(answer).toMatchObject({
        rerunOf: source,
        step: "b",
        copied: ["a", "c"],
        steps: ["b", "d"],
        queued: ["b"],
        status: "running",
      });
      expect(await statuses(c, run)).toEqual({
        a: "succeeded",
        b: "queued",
        c: "succeeded",
        d: "pending",
      });
      expect(await stepRow(c, run, "c")).toMatchObject({ output: { c: 1 } });
      const { rows } = await c.query(
        "select input, rerun_of::int as of, status from rowflow.runs where id = $1",
        [run],
      );
      expect(rows).toEqual([{ input: { order: 9 }, of: source, status: "running" }]);
      expect(await runRow(c, source)).toMatchObject({ status: "failed" });
      // b runs (its handler sees a's copied output), then d, and the rerun succeeds.
      const { rows: ctx } = await c.query(
        "select rowflow.begin_step(run_id => $1, step => 'b', attempt => 1) as r",
        [run],
      );
      expect(ctx[0]!.r).toMatchObject({ ok: true, deps: { a: { a: 1 } } });
      expect(
        await c.query("select rowflow.complete_step($1, 'b', 1, '{\"b\": 2}') as r", [run]),
      ).toMatchObject({ rows: [{ r: expect.objectContaining({ released: ["d"] }) }] });
      expect(await runStep(c, run, "d", null)).toMatchObject({ runStatus: "succeeded" });
    });
  });

  it("from a root reruns everything downstream; refuses an unknown step and a run not started", async () => {
    await db.rollback(async (c) => {
      const source = await failedAtD(c);
      expect(await rerun(c, source, "a")).toMatchObject({
        copied: [],
        steps: ["a", "b", "c", "d"],
        queued: ["a"],
      });
      await c.query("savepoint s");
      await expectSqlError(rerun(c, source, "zzz"), "RF041", /has no step 'zzz'/);
      await c.query("rollback to savepoint s");
      const queued = await queueRun(c, "dia");
      await expectSqlError(rerun(c, queued, "a"), "RF040", /has not started/);
      await c.query("rollback to savepoint s");
    });
  });
});

describe("retry_runs / cancel_runs", () => {
  it("act on the runs a filter matches, each once, and answer counts", async () => {
    await db.rollback(async (c) => {
      await define(c, "one", { steps: [{ name: "a", task: "t", attempts: 1 }] });
      await define(c, "other", { steps: [{ name: "a", task: "t", attempts: 1 }] });
      const failed: number[] = [];
      for (let i = 0; i < 3; i++) {
        const run = await startRun(c, "one");
        await begin(c, run, "a", 1);
        await fail(c, run, "a", 1, { retryable: false });
        failed.push(run);
      }
      const otherRun = await startRun(c, "other");
      await begin(c, otherRun, "a", 1);
      await fail(c, otherRun, "a", 1, { retryable: false });
      const { rows } = await c.query<{ r: unknown }>(
        "select rowflow.retry_runs('one', max_runs => 2) as r",
      );
      expect(rows[0]!.r).toEqual({ matched: 2, retried: 2, unchanged: 0 });
      const { rows: again } = await c.query<{ r: unknown }>(
        "select rowflow.retry_runs('one') as r",
      );
      expect(again[0]!.r).toEqual({ matched: 1, retried: 1, unchanged: 0 });
      expect(await runRow(c, otherRun)).toMatchObject({ status: "failed" });
      const { rows: cancelled } = await c.query<{ r: unknown }>(
        "select rowflow.cancel_runs('one', reason => 'bad deploy') as r",
      );
      expect(cancelled[0]!.r).toEqual({ matched: 3, cancelled: 3, unchanged: 0 });
      const { rows: audit } = await c.query<{ action: string; n: number }>(
        "select action, count(*)::int as n from rowflow.audit where action not in ('define_workflow', 'attach', 'detach') group by action order by action",
      );
      expect(audit).toEqual([
        { action: "cancel_run", n: 3 },
        { action: "retry_run", n: 3 },
      ]);
      await c.query("savepoint s");
      await expectSqlError(
        c.query("select rowflow.retry_runs('one', statuses => '{running}')"),
        "RF043",
        /statuses must be some of failed, cancelled/,
      );
      await c.query("rollback to savepoint s");
      await expectSqlError(
        c.query("select rowflow.cancel_runs('nope')"),
        "RF020",
        "unknown workflow nope",
      );
      await c.query("rollback to savepoint s");
      await expectSqlError(
        c.query("select rowflow.cancel_runs('one', max_runs => 0)"),
        "RF043",
        /max_runs must be between/,
      );
      await c.query("rollback to savepoint s");
    });
  });
});
