// A failed run compensates (sql/schema/60_gate/fail_step.sql, _advance_chain_step.sql):
// reverse completion order, on-failure last, past a failed link.
import { describe, expect, it } from "vitest";

import { useTestDatabase } from "../../helpers/db.js";
import { insertRun } from "../factories.js";
import {
  begin,
  clock,
  complete,
  define,
  eventTypes,
  fail,
  jobKeys,
  runRow,
  runStep,
  startRun,
  stepRow,
  timeline,
} from "../support.js";

const db = useTestDatabase();

describe("failure compensates in reverse completion order, on-failure last", () => {
  const saga = {
    onFailure: "notify-ops",
    steps: [
      { name: "a", task: "t", compensate: "undo-a" },
      { name: "p", task: "t", compensate: "undo-p", attempts: 1 },
      { name: "b", task: "t", dependsOn: ["a"], compensate: "undo-b" },
      { name: "plain", task: "t" },
      { name: "f", task: "t", dependsOn: ["b", "p"], attempts: 1 },
      { name: "never", task: "t", dependsOn: ["f"], compensate: "undo-never" },
    ],
  };

  it("builds and runs the chain, continuing past a failed compensation", async () => {
    await db.rollback(async (c) => {
      await define(c, "saga", saga);
      // The chain follows finished_at, so each call gets its own time.
      const t = clock();
      const run = await startRun(c, "saga", { order: 7 }, null, t.next());
      await runStep(c, run, "a", "A", t);
      await runStep(c, run, "p", "P", t);
      await runStep(c, run, "plain", null, t);
      await runStep(c, run, "b", "B", t);
      await begin(c, run, "f", 1, t.next());
      expect(await fail(c, run, "f", 1, { now: t.next() })).toEqual({
        ok: true,
        outcome: "failed",
        runStatus: "compensating",
      });
      const { rows: chain } = await c.query(
        "select step, kind, status, seq from rowflow.step_runs where run_id = $1 and kind <> 'step' order by seq",
        [run],
      );
      expect(chain).toEqual([
        { step: "compensate:b", kind: "compensation", status: "queued", seq: 1 },
        { step: "compensate:p", kind: "compensation", status: "pending", seq: 2 },
        { step: "compensate:a", kind: "compensation", status: "pending", seq: 3 },
        { step: "on-failure", kind: "on_failure", status: "pending", seq: 4 },
      ]);
      expect(await stepRow(c, run, "never")).toMatchObject({ status: "cancelled" });
      expect(
        (await jobKeys(c, run)).filter(
          (k) => k.includes(":compensate:") || k.includes(":on-failure:"),
        ),
      ).toEqual([`rowflow:${run}:compensate:b:1`]);
      expect(await runRow(c, run)).toEqual({
        status: "compensating",
        started: true,
        finished: false,
        error: { step: "f", attempt: 1, error: { message: "f failed" } },
      });

      expect(await begin(c, run, "compensate:b", 1, t.next())).toMatchObject({
        ok: true,
        task: "undo-b",
        kind: "compensation",
        deps: { b: "B" },
        input: { order: 7 },
        runError: { step: "f" },
      });
      expect(await complete(c, run, "compensate:b", 1, null, t.next())).toEqual({
        ok: true,
        released: ["compensate:p"],
        skipped: [],
        taken: [],
        reserved: [],
        runStatus: "compensating",
      });
      // p's policy (attempts 1) applies to its compensation: it fails for good, the chain goes on.
      expect(await begin(c, run, "compensate:p", 1, t.next())).toMatchObject({
        ok: true,
        task: "undo-p",
        maxAttempts: 1,
      });
      expect(await fail(c, run, "compensate:p", 1, { now: t.next() })).toEqual({
        ok: true,
        outcome: "failed",
        runStatus: "compensating",
      });
      expect(await stepRow(c, run, "compensate:a")).toMatchObject({ status: "queued", attempt: 1 });
      expect(await jobKeys(c, run)).toContain(`rowflow:${run}:compensate:a:1`);
      expect(await runStep(c, run, "compensate:a", null, t)).toMatchObject({
        released: ["on-failure"],
        runStatus: "compensating",
      });
      expect(await begin(c, run, "on-failure", 1, t.next())).toMatchObject({
        ok: true,
        task: "notify-ops",
        kind: "on_failure",
        deps: { a: "A", b: "B", p: "P", plain: null },
      });
      expect(await complete(c, run, "on-failure", 1, null, t.next())).toMatchObject({
        ok: true,
        runStatus: "failed",
      });
      expect(await runRow(c, run)).toEqual({
        status: "failed",
        started: true,
        finished: true,
        error: {
          step: "f",
          attempt: 1,
          error: { message: "f failed" },
          compensation: {
            "compensate:b": "succeeded",
            "compensate:p": "failed",
            "compensate:a": "succeeded",
            "on-failure": "succeeded",
          },
        },
      });
      // Stored: the failures, the cancellation, the run's compensation and end.
      expect(await eventTypes(c, run)).toEqual([
        "f step_failed",
        "never step_cancelled",
        "run_compensating",
        "compensate:p step_failed",
        "run_failed",
      ]);
      const events = await timeline(c, run);
      expect(events.filter((e) => e.startsWith("run_"))).toEqual([
        "run_started",
        "run_compensating",
        "run_failed",
      ]);
      expect(
        events.filter((e) => /^(compensate:|on-failure)/.test(e) && e.endsWith("step_queued")),
      ).toEqual([
        "compensate:b step_queued",
        "compensate:p step_queued",
        "compensate:a step_queued",
        "on-failure step_queued",
      ]);
    });
  });

  it("orders compensations that finished at the same time by step name, descending", async () => {
    await db.rollback(async (c) => {
      await define(c, "saga", saga);
      // a, p and b finished at the same time; f is running.
      const run = await insertRun(c, {
        workflow: "saga",
        steps: { a: "succeeded", p: "succeeded", plain: "succeeded", b: "succeeded", f: "running" },
      });
      expect(await fail(c, run, "f", 1)).toMatchObject({ runStatus: "compensating" });
      const { rows: chain } = await c.query(
        "select step, status, seq from rowflow.step_runs where run_id = $1 and kind <> 'step' order by seq",
        [run],
      );
      expect(chain).toEqual([
        { step: "compensate:p", status: "queued", seq: 1 },
        { step: "compensate:b", status: "pending", seq: 2 },
        { step: "compensate:a", status: "pending", seq: 3 },
        { step: "on-failure", status: "pending", seq: 4 },
      ]);
    });
  });

  it("fails directly when nothing needs compensating", async () => {
    await db.rollback(async (c) => {
      await define(c, "nocomp", { steps: [{ name: "a", task: "t", attempts: 1 }] });
      const t = clock();
      const run = await startRun(c, "nocomp", {}, null, t.next());
      await begin(c, run, "a", 1, t.next());
      expect(await fail(c, run, "a", 1, { now: t.next() })).toEqual({
        ok: true,
        outcome: "failed",
        runStatus: "failed",
      });
      expect(await eventTypes(c, run)).toEqual(["a step_failed", "run_failed"]);
      expect(await timeline(c, run)).toEqual([
        "run_started",
        "a step_queued",
        "a step_started",
        "a step_failed",
        "run_failed",
      ]);
      expect(await runRow(c, run)).toEqual({
        status: "failed",
        started: true,
        finished: true,
        error: { step: "a", attempt: 1, error: { message: "a failed" } },
      });
    });
  });
});
