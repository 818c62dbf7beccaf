// cancel_run(…, compensate => true) (sql/schema/60_gate/cancel_run.sql):
// the succeeded steps are undone in reverse completion order, without the
// on-failure handler, and the run ends cancelled once the chain is done.
import { describe, expect, it } from "vitest";

import { useTestDatabase } from "../../helpers/db.js";
import {
  begin,
  clock,
  complete,
  define,
  eventTypes,
  type Queryable,
  queueRun,
  runRow,
  runStep,
  startRun,
  statuses,
} from "../support.js";

const db = useTestDatabase();

const saga = {
  onFailure: "notify-ops",
  steps: [
    { name: "a", task: "t", compensate: "undo-a" },
    { name: "b", task: "t", dependsOn: ["a"], compensate: "undo-b" },
    { name: "plain", task: "t", dependsOn: ["a"] },
    { name: "c", task: "t", dependsOn: ["b", "plain"], compensate: "undo-c" },
  ],
};

async function cancel(q: Queryable, run: number, compensate: boolean, now: string) {
  const { rows } = await q.query<{ r: boolean }>(
    "select rowflow.cancel_run(run_id => $1, reason => 'customer left', now => $2, compensate => $3) as r",
    [run, now, compensate],
  );
  return rows[0]!.r;
}

describe("cancel_run with compensate", () => {
  it("undoes the succeeded steps in reverse order, then the run is cancelled", async () => {
    await db.rollback(async (c) => {
      await define(c, "saga", saga);
      const t = clock();
      const run = await startRun(c, "saga", { order: 1 }, null, t.next());
      await runStep(c, run, "a", "A", t);
      await runStep(c, run, "b", "B", t);
      await begin(c, run, "plain", 1, t.next()); // running when cancelled
      expect(await cancel(c, run, true, t.next())).toBe(true);
      expect(await runRow(c, run)).toEqual({
        status: "compensating",
        started: true,
        finished: false,
        error: { cancelled: true, reason: "customer left" },
      });
      const { rows: chain } = await c.query(
        "select step, status from rowflow.step_runs where run_id = $1 and kind <> 'step' order by seq",
        [run],
      );
      // No on-failure link: nothing failed.
      expect(chain).toEqual([
        { step: "compensate:b", status: "queued" },
        { step: "compensate:a", status: "pending" },
      ]);
      expect(await statuses(c, run)).toMatchObject({ plain: "cancelled", c: "cancelled" });
      // Called again while compensating: nothing changes.
      expect(await cancel(c, run, true, t.next())).toBe(false);

      expect(await begin(c, run, "compensate:b", 1, t.next())).toMatchObject({
        ok: true,
        task: "undo-b",
      });
      await complete(c, run, "compensate:b", 1, null, t.next());
      expect(await begin(c, run, "compensate:a", 1, t.next())).toMatchObject({
        ok: true,
        task: "undo-a",
      });
      await complete(c, run, "compensate:a", 1, null, t.next());
      expect(await runRow(c, run)).toMatchObject({ status: "cancelled", finished: true });
      const types = await eventTypes(c, run);
      expect(types.filter((x) => x.startsWith("run_"))).toEqual([
        "run_compensating",
        "run_cancelled",
      ]);
      const { rows: audit } = await c.query(
        "select action, reason, data from rowflow.audit where run_id = $1",
        [run],
      );
      expect(audit).toEqual([
        {
          action: "cancel_run",
          reason: "customer left",
          data: { from: "running", compensate: true, compensations: 2 },
        },
      ]);
    });
  });

  it("cancels at once when nothing succeeded yet, or the run is still queued", async () => {
    await db.rollback(async (c) => {
      await define(c, "saga2", saga);
      const t = clock();
      const queued = await queueRun(c, "saga2", { order: 2 });
      expect(await cancel(c, queued, true, t.next())).toBe(true);
      expect(await runRow(c, queued)).toMatchObject({ status: "cancelled", error: null });
      const running = await startRun(c, "saga2", { order: 3 }, null, t.next());
      await begin(c, running, "a", 1, t.next());
      expect(await cancel(c, running, true, t.next())).toBe(true);
      expect(await runRow(c, running)).toMatchObject({ status: "cancelled", finished: true });
      expect(await statuses(c, running)).toMatchObject({ a: "cancelled" });
    });
  });

  it("without compensate, a running run is cancelled at once and nothing is undone", async () => {
    await db.rollback(async (c) => {
      await define(c, "saga3", saga);
      const t = clock();
      const run = await startRun(c, "saga3", { order: 4 }, null, t.next());
      await runStep(c, run, "a", "A", t);
      expect(await cancel(c, run, false, t.next())).toBe(true);
      expect(await runRow(c, run)).toMatchObject({ status: "cancelled", error: null });
      const { rows } = await c.query(
        "select count(*)::int as n from rowflow.step_runs where run_id = $1 and kind <> 'step'",
        [run],
      );
      expect(rows[0]).toEqual({ n: 0 });
    });
  });
});
