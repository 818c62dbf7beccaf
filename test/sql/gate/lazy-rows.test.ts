// 000006: a step run's row is created when the step becomes ready. These
// tests pin what that must not change: fan-in counters, skip propagation
// through steps that have no row yet, cancel/fail of such steps, and the
// step lists readers see (rowflow.run_steps, getRun).
import { Kysely, PostgresDialect } from "kysely";
import { describe, expect, it } from "vitest";

import { getRun } from "../../../src/db/get-run.js";
import type { Database } from "../../../src/db/types.js";
import { useTestDatabase } from "../../helpers/db.js";
import {
  begin,
  define,
  eventTypes,
  fail,
  jobKeys,
  runRow,
  runStep,
  startRun,
  statuses,
  stepRow,
  storedSteps,
} from "../support.js";

const db = useTestDatabase();

describe("lazy step rows", () => {
  it("inserts a fan-in step's row at its first dependency and releases it at the last, once", async () => {
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
      expect(await storedSteps(c, run)).toEqual(["x", "y", "z"]);
      expect(await stepRow(c, run, "join")).toMatchObject({ status: "pending", deps_remaining: 3 });
      expect((await runStep(c, run, "y", 1)).released).toEqual([]);
      expect(await storedSteps(c, run)).toEqual(["join", "x", "y", "z"]);
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
        `select count(*)::int as n from rowflow.step_runs s join graphile_worker._private_jobs j on j.id = s.job_id
         where s.run_id = $1 and s.step = 'join' and j.payload->>'step' = 'join' and j.key is null`,
        [run],
      );
      expect(rows[0]).toEqual({ n: 1 });
      expect(await begin(c, run, "join")).toMatchObject({ ok: true, deps: { x: 2, y: 1, z: 3 } });
    });
  });

  it("propagates skips through steps that have no row yet, and finishes the run", async () => {
    await db.rollback(async (c) => {
      await define(c, "skipchain", {
        steps: [
          { name: "a", task: "t" },
          { name: "b", task: "t", dependsOn: ["a"], if: "$.steps.a.go == true" },
          { name: "c", task: "t", dependsOn: ["b"], if: "$.steps.b.x == 1" },
          { name: "d", task: "t", dependsOn: ["c"] },
          { name: "e", task: "t", dependsOn: ["d"], if: "$.input.never == true" },
        ],
      });
      const run = await startRun(c, "skipchain");
      expect(await storedSteps(c, run)).toEqual(["a"]);
      // b skipped (a.go is not true) → c skipped (b is null) → d queued.
      expect(await runStep(c, run, "a", { go: false })).toEqual({
        ok: true,
        released: ["d"],
        skipped: ["b", "c"],
        runStatus: "running",
      });
      expect(await storedSteps(c, run)).toEqual(["a", "b", "c", "d"]);
      expect(await statuses(c, run)).toEqual({
        a: "succeeded",
        b: "skipped",
        c: "skipped",
        d: "queued",
        e: "pending",
      });
      expect(await runRow(c, run)).toMatchObject({ status: "running", steps_left: 2 }); // d, e
      // The last step is skipped when d completes: the run succeeds.
      expect(await runStep(c, run, "d")).toEqual({
        ok: true,
        released: [],
        skipped: ["e"],
        runStatus: "succeeded",
      });
      expect(await runRow(c, run)).toEqual({ status: "succeeded", steps_left: 0, error: null });
      expect(await eventTypes(c, run)).toEqual([
        "run_started",
        "a step_started",
        "a step_succeeded",
        "b step_skipped",
        "c step_skipped",
        "d step_queued",
        "d step_started",
        "d step_succeeded",
        "e step_skipped",
        "run_succeeded",
      ]);
      expect(await jobKeys(c, run)).toEqual([`rowflow:${run}:a:1`, `rowflow:${run}:d:1`]);
    });
  });

  it("cancel gives steps without a row a cancelled row and event", async () => {
    await db.rollback(async (c) => {
      await define(c, "cancel-lazy", {
        steps: [
          { name: "a", task: "t" },
          { name: "b", task: "t", dependsOn: ["a"] },
          { name: "c", task: "t", dependsOn: ["b"] },
        ],
      });
      const run = await startRun(c, "cancel-lazy");
      expect(await begin(c, run, "b")).toMatchObject({
        ok: false,
        reason: "attempt_mismatch",
        currentAttempt: 0,
      });
      expect(await begin(c, run, "b", 0)).toMatchObject({
        ok: false,
        reason: "step_not_ready",
        status: "pending",
      });
      expect(await storedSteps(c, run)).toEqual(["a"]);
      const { rows } = await c.query("select rowflow.cancel_run($1, 'stop') as ok", [run]);
      expect(rows[0]).toEqual({ ok: true });
      expect(await storedSteps(c, run)).toEqual(["a", "b", "c"]);
      expect(await statuses(c, run)).toEqual({ a: "cancelled", b: "cancelled", c: "cancelled" });
      expect(await runRow(c, run)).toMatchObject({ status: "cancelled", steps_left: 0 });
      expect(await jobKeys(c, run)).toEqual([]); // a's unlocked job was deleted by id
      expect(await eventTypes(c, run)).toEqual([
        "run_started",
        "a step_cancelled",
        "b step_cancelled",
        "c step_cancelled",
        "run_cancelled",
      ]);
    });
  });

  it("a failed run cancels the steps that have no row yet", async () => {
    await db.rollback(async (c) => {
      await define(c, "fail-lazy", {
        steps: [
          { name: "a", task: "t", attempts: 1 },
          { name: "b", task: "t" },
          { name: "c", task: "t", dependsOn: ["a", "b"] },
          { name: "d", task: "t", dependsOn: ["c"] },
        ],
      });
      const run = await startRun(c, "fail-lazy");
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
      expect(await storedSteps(c, run)).toEqual(["a", "b", "c", "d"]);
      expect(await runRow(c, run)).toMatchObject({ status: "failed", steps_left: 0 });
      expect((await eventTypes(c, run)).slice(-3)).toEqual([
        "c step_cancelled",
        "d step_cancelled",
        "run_failed",
      ]);
    });
  });

  it("getRun lists every step, those without a row as pending", async () => {
    await define(db.pool, "getrun", {
      steps: [
        { name: "a", task: "t" },
        { name: "b", task: "t", dependsOn: ["a"], attempts: 5 },
      ],
    });
    const run = await startRun(db.pool, "getrun", { n: 1 });
    const kysely = new Kysely<Database>({ dialect: new PostgresDialect({ pool: db.pool }) });
    const info = await getRun(kysely, { runId: String(run) });
    expect(info?.steps.map((s) => [s.step, s.kind, s.status, s.attempt, s.maxAttempts])).toEqual([
      ["a", "step", "queued", 1, 3],
      ["b", "step", "pending", 0, 5],
    ]);
    expect(info?.steps[1]?.createdAt).toEqual(info?.createdAt);
  });
});
