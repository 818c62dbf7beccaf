// rowflow.complete_steps releases dependents (sql/schema/60_gate/complete_steps.sql,
// _release.sql): sequences, diamonds, fan-out/in, conditions, runs ending by skips.
import { describe, expect, it } from "vitest";

import { useTestDatabase } from "../../helpers/db.js";
import { leaseToken, traceKeys } from "../gate-calls.js";
import {
  begin,
  clock,
  complete,
  define,
  eventTypes,
  jobKeys,
  runRow,
  runStep,
  startRun,
  statuses,
  stepRow,
  timeline,
} from "../support.js";

const db = useTestDatabase();

describe("complete_step releases dependents", () => {
  it("runs a sequence to success: nothing stored in the event log, every state change in the timeline", async () => {
    await db.rollback(async (c) => {
      await define(c, "seq", {
        steps: [
          { name: "a", task: "t" },
          { name: "b", task: "t", dependsOn: ["a"] },
          { name: "c", task: "t", dependsOn: ["b"] },
        ],
      });
      const t = clock();
      const run = await startRun(c, "seq", { n: 1 }, null, t.next());
      const b = await begin(c, run, "a", 1, t.next());
      expect(b).toEqual({
        ok: true,
        runId: String(run),
        step: "a",
        task: "t",
        workflow: "seq",
        version: 1,
        input: { n: 1 },
        deps: {},
        attempt: 1,
        maxAttempts: 3,
        timeoutMs: null,
        idempotencyKey: `rowflow:${run}:a`,
        kind: "step",
        runError: null,
        lease: leaseToken,
        ...traceKeys,
      });
      expect(await complete(c, run, "a", 1, { x: 1 }, t.next())).toEqual({
        ok: true,
        released: ["b"],
        skipped: [],
        taken: [],
        reserved: [],
        runStatus: "running",
      });
      expect(await begin(c, run, "b", 1, t.next())).toMatchObject({
        ok: true,
        step: "b",
        deps: { a: { x: 1 } },
      });
      expect(await complete(c, run, "b", 1, { y: 2 }, t.next())).toEqual({
        ok: true,
        released: ["c"],
        skipped: [],
        taken: [],
        reserved: [],
        runStatus: "running",
      });
      expect(await runStep(c, run, "c", "done", t)).toEqual({
        ok: true,
        released: [],
        skipped: [],
        taken: [],
        reserved: [],
        runStatus: "succeeded",
      });
      expect(await runRow(c, run)).toEqual({
        status: "succeeded",
        started: true,
        finished: true,
        error: null,
      });
      const { rows: times } = await c.query<{ started_at: Date; finished_at: Date }>(
        "select started_at, finished_at from rowflow.runs where id = $1",
        [run],
      );
      expect(times[0]).toEqual({ started_at: new Date(t.at(1)), finished_at: new Date(t.at(7)) });
      // The ordinary path stores no event; the rows imply them all.
      expect(await eventTypes(c, run)).toEqual([]);
      expect(await timeline(c, run)).toEqual([
        "run_started",
        "a step_queued",
        "a step_started",
        "a step_succeeded",
        "b step_queued",
        "b step_started",
        "b step_succeeded",
        "c step_queued",
        "c step_started",
        "c step_succeeded",
        "run_succeeded",
      ]);
      expect(await jobKeys(c, run)).toEqual([
        `rowflow:${run}:a:1`,
        `rowflow:${run}:b:1`,
        `rowflow:${run}:c:1`,
      ]);
    });
  });

  it("releases the join of a diamond once, after both branches", async () => {
    await db.rollback(async (c) => {
      await define(c, "diamond", {
        steps: [
          { name: "a", task: "t" },
          { name: "b", task: "t", dependsOn: ["a"] },
          { name: "c", task: "t", dependsOn: ["a"] },
          { name: "d", task: "t", dependsOn: ["b", "c"] },
        ],
      });
      const run = await startRun(c, "diamond");
      expect(await stepRow(c, run, "d")).toMatchObject({ status: "pending", deps_remaining: 2 });
      expect((await runStep(c, run, "a", 1)).released).toEqual(["b", "c"]);
      expect(await stepRow(c, run, "d")).toMatchObject({ status: "pending", deps_remaining: 2 });
      expect(await runStep(c, run, "c", 3)).toEqual({
        ok: true,
        released: [],
        skipped: [],
        taken: [],
        reserved: [],
        runStatus: "running",
      });
      expect(await stepRow(c, run, "d")).toMatchObject({ status: "pending", deps_remaining: 1 });
      expect((await runStep(c, run, "b", 2)).released).toEqual(["d"]);
      expect(await stepRow(c, run, "d")).toMatchObject({
        status: "queued",
        deps_remaining: 0,
        attempt: 1,
      });
      expect(await begin(c, run, "d")).toMatchObject({ ok: true, deps: { b: 2, c: 3 } });
      expect(await complete(c, run, "d", 1)).toMatchObject({ ok: true, runStatus: "succeeded" });
      expect(await jobKeys(c, run)).toEqual(
        ["a", "b", "c", "d"].map((s) => `rowflow:${run}:${s}:1`),
      );
    });
  });

  it("handles a 100-way fan-out and fan-in", async () => {
    await db.rollback(async (c) => {
      const middles = Array.from({ length: 100 }, (_, i) => `m${String(i).padStart(3, "0")}`);
      await define(c, "fan", {
        steps: [
          { name: "root", task: "t" },
          ...middles.map((name) => ({ name, task: "t", dependsOn: ["root"] })),
          { name: "join", task: "t", dependsOn: middles },
        ],
      });
      const run = await startRun(c, "fan");
      expect((await runStep(c, run, "root")).released).toEqual(middles);
      expect(await jobKeys(c, run)).toHaveLength(101);
      for (const [i, name] of middles.entries()) {
        const r = await runStep(c, run, name, i);
        expect(r.released).toEqual(i === 99 ? ["join"] : []);
      }
      const ctx = await begin(c, run, "join");
      expect(Object.keys(ctx.deps as object)).toHaveLength(100);
      expect((ctx.deps as Record<string, number>).m042).toBe(42);
      expect(await complete(c, run, "join", 1)).toMatchObject({ ok: true, runStatus: "succeeded" });
      expect((await timeline(c, run)).filter((e) => e === "join step_queued")).toHaveLength(1);
      expect(await eventTypes(c, run)).toEqual([]);
    });
  });

  it("skips a step whose condition is false over dependency outputs, and the skip satisfies its dependents", async () => {
    await db.rollback(async (c) => {
      await define(c, "cond", {
        steps: [
          { name: "a", task: "t" },
          { name: "big", task: "t", dependsOn: ["a"], if: "$.steps.a.amount > 100" },
          { name: "after", task: "t", dependsOn: ["big"], if: "$.input.flag" },
          { name: "end", task: "t", dependsOn: ["after"] },
        ],
      });
      const small = await startRun(c, "cond", { flag: false });
      // The answer lists steps by name; the skip went big, then after.
      expect(await runStep(c, small, "a", { amount: 5 })).toEqual({
        ok: true,
        released: ["end"],
        skipped: ["after", "big"],
        taken: [],
        reserved: [],
        runStatus: "running",
      });
      expect(await eventTypes(c, small)).toEqual(["big step_skipped", "after step_skipped"]);
      const { rows: ifs } = await c.query(
        "select step, data from rowflow.events where run_id = $1 order by id",
        [small],
      );
      expect(ifs).toEqual([
        { step: "big", data: { if: '($."steps"."a"."amount" > 100)' } },
        { step: "after", data: { if: '$."input"."flag"' } },
      ]);
      expect(await begin(c, small, "end")).toMatchObject({ ok: true, deps: { after: null } });
      expect(await complete(c, small, "end", 1)).toMatchObject({ runStatus: "succeeded" });
      expect(await statuses(c, small)).toEqual({
        a: "succeeded",
        after: "skipped",
        big: "skipped",
        end: "succeeded",
      });

      const large = await startRun(c, "cond", { flag: true });
      expect(await runStep(c, large, "a", { amount: 500 })).toMatchObject({
        released: ["big"],
        skipped: [],
      });
      expect(await runStep(c, large, "big")).toMatchObject({ released: ["after"], skipped: [] });

      const allSkipped = await startRun(c, "cond", { flag: true });
      expect(await runStep(c, allSkipped, "a", { amount: 1 })).toMatchObject({
        released: ["after"],
        skipped: ["big"],
      });
    });
  });

  it("finishes the run when the last steps are skipped", async () => {
    await db.rollback(async (c) => {
      await define(c, "tailskip", {
        steps: [
          { name: "a", task: "t" },
          { name: "b", task: "t", dependsOn: ["a"], if: "$.steps.a == true" },
        ],
      });
      const run = await startRun(c, "tailskip");
      expect(await runStep(c, run, "a", false)).toEqual({
        ok: true,
        released: [],
        skipped: ["b"],
        taken: [],
        reserved: [],
        runStatus: "succeeded",
      });
      expect(await runRow(c, run)).toEqual({
        status: "succeeded",
        started: true,
        finished: true,
        error: null,
      });
      expect(await statuses(c, run)).toEqual({ a: "succeeded", b: "skipped" });
    });
  });
});
