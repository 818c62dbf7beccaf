// sql/schema/90_views/run_timeline.sql: rowflow.events stores only what the rows cannot tell (skips,
// retries, failures, cancellations, compensation, re-deliveries);
// rowflow.run_timeline merges them with the events the rows imply (run
// started and succeeded, step queued, started and succeeded). Each gate call
// here gets its own injected time, so the order is the order of the calls.
import { describe, expect, it } from "vitest";

import { useTestDatabase } from "../../helpers/db.js";
import { useLoginRoles } from "../../helpers/roles.js";
import {
  begin,
  claimAll,
  clock,
  complete,
  define,
  eventTypes,
  fail,
  type Queryable,
  queueRun,
  runRow,
} from "../support.js";

const db = useTestDatabase();
const loginRole = useLoginRoles(db);

/** An expected timeline row (without data), at tick `i` of clock `t`. */
function timelineRow(t: ReturnType<typeof clock>) {
  return (
    i: number,
    step: string | null,
    type: string,
    attempt: number | null,
    stored = false,
  ) => ({
    at: t.at(i),
    step,
    type,
    attempt,
    stored,
  });
}

/** The run's timeline rows in the view's documented order: at, ord, step (then the stored id). */
async function timelineRows(q: Queryable, run: number) {
  const { rows } = await q.query<{
    at: Date;
    step: string | null;
    type: string;
    attempt: number | null;
    stored: boolean;
    data: unknown;
  }>(
    `select at, step, type, attempt, id is not null as stored, data
     from rowflow.run_timeline where run_id = $1 order by at, ord, step, id`,
    [run],
  );
  return rows.map((r) => ({ ...r, at: r.at.toISOString() }));
}

describe("rowflow.run_timeline", () => {
  it("orders a run with a retry, a skip and success: stored and implied events by time, then by kind", async () => {
    await db.rollback(async (c) => {
      await define(c, "tl", {
        steps: [
          { name: "a", task: "t", attempts: 3, backoff: { type: "fixed", base: "5 s", jitter: 0 } },
          { name: "b", task: "t", dependsOn: ["a"], if: "$.steps.a.go == true" },
          { name: "c", task: "t", dependsOn: ["a"] },
          { name: "d", task: "t", dependsOn: ["b", "c"] },
        ],
      });
      const t = clock();
      const run = await queueRun(c, "tl");
      expect(await timelineRows(c, run)).toEqual([]);
      await claimAll(c, t.next()); // 1
      expect(await begin(c, run, "a", 1, t.next())).toMatchObject({ ok: true }); // 2
      expect(await fail(c, run, "a", 1, { now: t.next() })).toMatchObject({
        outcome: "retrying",
      }); // 3
      expect(await begin(c, run, "a", 2, t.next())).toMatchObject({ ok: true }); // 4
      expect(await complete(c, run, "a", 2, { go: false }, t.next())).toMatchObject({
        released: ["c"],
        skipped: ["b"],
      }); // 5
      await begin(c, run, "c", 1, t.next()); // 6
      expect(await complete(c, run, "c", 1, null, t.next())).toMatchObject({ released: ["d"] }); // 7
      await begin(c, run, "d", 1, t.next()); // 8
      expect(await complete(c, run, "d", 1, null, t.next())).toMatchObject({
        runStatus: "succeeded",
      }); // 9
      expect(await runRow(c, run)).toMatchObject({ status: "succeeded" });

      const row = timelineRow(t);
      expect((await timelineRows(c, run)).map(({ data: _, ...r }) => r)).toEqual([
        row(1, null, "run_started", null),
        row(1, "a", "step_queued", 1),
        row(2, "a", "step_started", 1),
        row(3, "a", "step_retrying", 1, true),
        row(3, "a", "step_queued", 2),
        row(4, "a", "step_started", 2),
        row(5, "a", "step_succeeded", 2),
        row(5, "b", "step_skipped", null, true),
        row(5, "c", "step_queued", 1),
        row(6, "c", "step_started", 1),
        row(7, "c", "step_succeeded", 1),
        row(7, "d", "step_queued", 1),
        row(8, "d", "step_started", 1),
        row(9, "d", "step_succeeded", 1),
        row(9, null, "run_succeeded", null),
      ]);
      // Only the retry and the skip are stored, with what the rows cannot tell.
      expect(await eventTypes(c, run)).toEqual(["a step_retrying", "b step_skipped"]);
      const stored = (await timelineRows(c, run)).filter((r) => r.stored).map((r) => r.data);
      expect(stored).toEqual([
        {
          error: { message: "a failed" },
          retryAt: t.at(8).replace(".000Z", "+00:00"),
          nextAttempt: 2,
          startedAt: t.at(2).replace(".000Z", "+00:00"),
        },
        { if: '($."steps"."a"."go" == true)' },
      ]);
    });
  });

  it("shows a failed run: the failed attempts' starts, a re-delivery, a cancelled running step, the failure", async () => {
    await db.rollback(async (c) => {
      await define(c, "tl-fail", {
        steps: [
          { name: "a", task: "t", attempts: 2 },
          { name: "b", task: "t" },
        ],
      });
      const t = clock();
      const run = await queueRun(c, "tl-fail");
      await claimAll(c, t.next()); // 1
      await begin(c, run, "a", 1, t.next()); // 2
      await begin(c, run, "b", 1, t.at(2));
      await fail(c, run, "a", 1, { now: t.next() }); // 3
      await begin(c, run, "a", 2, t.next()); // 4
      // graphile delivers attempt 2 again (its worker was presumed lost).
      expect(await begin(c, run, "a", 2, t.next())).toMatchObject({ ok: true, attempt: 2 }); // 5
      expect(await fail(c, run, "a", 2, { now: t.next() })).toEqual({
        ok: true,
        outcome: "failed",
        runStatus: "failed",
      }); // 6

      const row = timelineRow(t);
      const rows = await timelineRows(c, run);
      expect(rows.map(({ data: _, ...r }) => r)).toEqual([
        row(1, null, "run_started", null),
        row(1, "a", "step_queued", 1),
        row(1, "b", "step_queued", 1),
        row(2, "a", "step_started", 1),
        row(2, "b", "step_started", 1),
        row(3, "a", "step_retrying", 1, true),
        row(3, "a", "step_queued", 2),
        row(4, "a", "step_started", 2),
        row(5, "a", "step_started", 2, true),
        row(6, "a", "step_failed", 2, true),
        row(6, "b", "step_cancelled", 1, true),
        row(6, null, "run_failed", null, true),
      ]);
      expect(rows.find((r) => r.stored && r.type === "step_started")?.data).toEqual({
        redelivery: true,
      });
      expect(await eventTypes(c, run)).toEqual([
        "a step_retrying",
        "a step_started",
        "a step_failed",
        "b step_cancelled",
        "run_failed",
      ]);
    });
  });

  it("is readable by a viewer (docs/sql-api.md): nothing in it needs more than SELECT", async () => {
    await define(db.pool, "viewed", { steps: [{ name: "a", task: "t" }] });
    const run = await queueRun(db.pool, "viewed", { n: 1 });
    await claimAll(db.pool);
    const viewer = await loginRole("viewer", { memberOf: ["rowflow_viewer"] });
    const { rows } = await viewer.query<{ type: string }>(
      "select type from rowflow.run_timeline where run_id = $1 order by at, ord, step, id",
      [run],
    );
    expect(rows.map((r) => r.type)).toEqual(["run_started", "step_queued"]);
  });

  it("shows the operators' actions on the run (rowflow.audit): who, why, and before what they caused", async () => {
    await define(db.pool, "audited-tl", {
      steps: [
        { name: "a", task: "t" },
        { name: "b", task: "t", dependsOn: ["a"] },
      ],
    });
    const run = await queueRun(db.pool, "audited-tl");
    await claimAll(db.pool);
    const operator = await loginRole("operator", { memberOf: ["rowflow_operator"] });
    const viewer = await loginRole("viewer2", { memberOf: ["rowflow_viewer"] });
    await operator.query("set application_name = 'ops-console'");
    await operator.query(
      "select rowflow.skip_step(run_id => $1, step => 'a', output => '{\"n\": 1}', reason => 'done by hand')",
      [run],
    );
    await operator.query("select rowflow.cancel_run(run_id => $1, reason => 'customer left')", [
      run,
    ]);
    const { rows } = await viewer.query<{
      type: string;
      step: string | null;
      data: Record<string, unknown> | null;
      audit: boolean;
    }>(
      `select type, step, data, audit_id is not null as audit
       from rowflow.run_timeline where run_id = $1 order by at, ord, step, id`,
      [run],
    );
    const audits = rows.filter((r) => r.audit);
    expect(audits).toEqual([
      {
        type: "skip_step",
        step: "a",
        audit: true,
        data: expect.objectContaining({
          reason: "done by hand",
          sessionUser: operator.name,
          applicationName: "ops-console",
        }),
      },
      {
        type: "cancel_run",
        step: null,
        audit: true,
        data: expect.objectContaining({
          reason: "customer left",
          sessionUser: operator.name,
          from: "running",
        }),
      },
    ]);
    // Each action comes before the events it caused in its transaction.
    const types = rows.map((r) => (r.step ? `${r.step} ${r.type}` : r.type));
    expect(types.indexOf("skip_step")).toBeLessThan(types.indexOf("a step_skipped"));
    expect(types.indexOf("cancel_run")).toBeLessThan(types.indexOf("run_cancelled"));
  });
});
