// The gate's fence (sql/schema/60_gate/_refusals.sql): late, duplicate and stale
// begin/complete calls, and calls after a cancel, change nothing.
import { describe, expect, it } from "vitest";

import { useTestDatabase } from "../../helpers/db.js";
import {
  begin,
  complete,
  define,
  eventTypes,
  expectSqlError,
  fail,
  type GateResult,
  jobKeys,
  runRow,
  startRun,
  statuses,
  stepRow,
} from "../support.js";

const db = useTestDatabase();

describe("fencing: late, duplicate and stale calls change nothing", () => {
  it("refuses duplicates, stale attempts, unknown steps and runs", async () => {
    await db.rollback(async (c) => {
      await define(c, "fence", {
        steps: [
          { name: "a", task: "t" },
          { name: "b", task: "t", dependsOn: ["a"] },
        ],
      });
      const run = await startRun(c, "fence");
      // complete_step's refusals carry the (empty) taken and reserved lists too.
      expect(await complete(c, run, "a", 1)).toEqual({
        ok: false,
        reason: "step_not_running",
        status: "queued",
        taken: [],
        reserved: [],
      });
      expect(await begin(c, run, "b")).toEqual({
        ok: false,
        reason: "attempt_mismatch",
        currentAttempt: 0,
      });
      expect(await begin(c, run, "a", 2)).toEqual({
        ok: false,
        reason: "attempt_mismatch",
        currentAttempt: 1,
      });
      expect(await begin(c, run, "zz")).toEqual({ ok: false, reason: "unknown_step" });
      expect(await begin(c, 987654321, "a")).toEqual({ ok: false, reason: "unknown_run" });
      expect(await eventTypes(c, run)).toEqual([]);
      expect((await begin(c, run, "a")).ok).toBe(true);
      expect(await eventTypes(c, run)).toEqual([]);
      // A re-delivery of the same attempt (worker crash) is accepted, and
      // stored: the row cannot tell it.
      expect(await begin(c, run, "a")).toMatchObject({ ok: true, attempt: 1 });
      const { rows: redelivery } = await c.query(
        "select step, type, attempt, data from rowflow.events where run_id = $1",
        [run],
      );
      expect(redelivery).toEqual([
        { step: "a", type: "step_started", attempt: 1, data: { redelivery: true } },
      ]);
      expect(await complete(c, run, "a", 2)).toEqual({
        ok: false,
        reason: "attempt_mismatch",
        currentAttempt: 1,
        taken: [],
        reserved: [],
      });
      expect(await complete(c, run, "a", 1, "first")).toMatchObject({ ok: true, released: ["b"] });
      const eventsBefore = await eventTypes(c, run);
      expect(await complete(c, run, "a", 1, "second")).toEqual({
        ok: false,
        reason: "step_terminal",
        status: "succeeded",
        runStatus: "running",
        taken: [],
        reserved: [],
      });
      expect(await fail(c, run, "a", 1)).toEqual({
        ok: false,
        reason: "step_terminal",
        status: "succeeded",
        runStatus: "running",
      });
      expect(await begin(c, run, "a")).toMatchObject({ ok: false, reason: "step_terminal" });
      expect(await stepRow(c, run, "a")).toMatchObject({ status: "succeeded", output: "first" });
      expect(await stepRow(c, run, "b")).toMatchObject({ status: "queued", deps_remaining: 0 });
      expect(await eventTypes(c, run)).toEqual(eventsBefore);
      expect(eventsBefore).toEqual(["a step_started"]);
      expect(await jobKeys(c, run)).toEqual([`rowflow:${run}:a:1`, `rowflow:${run}:b:1`]);
    });
  });

  it("begin_steps answers a batch in call order: begun, re-delivered and refused calls", async () => {
    await db.rollback(async (c) => {
      await define(c, "batch", {
        steps: [
          { name: "a", task: "t" },
          { name: "b", task: "t" },
          { name: "c", task: "t" },
        ],
      });
      const run = await startRun(c, "batch");
      expect((await begin(c, run, "a")).ok).toBe(true);
      const { rows } = await c.query<{ r: GateResult }>(
        `select r from rowflow.begin_steps(run_ids => array[$1, $1, $1, $1]::bigint[],
           steps => array['a', 'zz', 'b', 'c'], attempts => array[1, 1, 1, 2], worker_id => 'w9') as r`,
        [run],
      );
      expect(rows.map((r) => r.r)).toEqual([
        expect.objectContaining({ ok: true, runId: String(run), step: "a", attempt: 1 }),
        { ok: false, reason: "unknown_step" },
        expect.objectContaining({ ok: true, runId: String(run), step: "b", attempt: 1 }),
        { ok: false, reason: "attempt_mismatch", currentAttempt: 1 },
      ]);
      expect(await statuses(c, run)).toEqual({ a: "running", b: "running", c: "queued" });
      // Only the re-delivery is stored, with the worker that got it.
      const { rows: events } = await c.query(
        "select step, type, attempt, data from rowflow.events where run_id = $1",
        [run],
      );
      expect(events).toEqual([
        {
          step: "a",
          type: "step_started",
          attempt: 1,
          data: { workerId: "w9", redelivery: true },
        },
      ]);
    });
  });

  it("refuses completion after cancel; cancel removes unlocked jobs and leaves locked ones", async () => {
    await db.rollback(async (c) => {
      await define(c, "cancel", {
        steps: [
          { name: "a", task: "t" },
          { name: "b", task: "t" },
          { name: "c", task: "t" },
          { name: "d", task: "t", dependsOn: ["a", "b", "c"] },
        ],
      });
      const run = await startRun(c, "cancel");
      expect((await begin(c, run, "a")).ok).toBe(true);
      // A worker holds b's job (locked) but has not called begin_step yet.
      await c.query(
        "update graphile_worker._private_jobs set locked_at = now(), locked_by = 'w1' where id = (select job_id from rowflow.step_runs where run_id = $1 and step = 'b')",
        [run],
      );
      const { rows } = await c.query(
        "select rowflow.cancel_run(run_id => $1, reason => 'operator') as ok",
        [run],
      );
      expect(rows[0]).toEqual({ ok: true });
      expect(await runRow(c, run)).toEqual({
        status: "cancelled",
        started: true,
        finished: true,
        error: null,
      });
      expect(await statuses(c, run)).toEqual({
        a: "cancelled",
        b: "cancelled",
        c: "cancelled",
        d: "cancelled",
      });
      // a's job: its worker is running it (in real life locked); c's job: removed.
      // b's job is locked: graphile keeps it, with no retry left (remove_job's rule, by job id).
      expect(await jobKeys(c, run)).toEqual([`rowflow:${run}:a:1`, `rowflow:${run}:b:1`]);
      const { rows: locked } = await c.query(
        `select count(*)::int as n from graphile_worker._private_jobs
         where locked_by = 'w1' and attempts = max_attempts and (payload->>'run')::bigint = $1`,
        [run],
      );
      expect(locked[0]).toEqual({ n: 1 });
      expect(await complete(c, run, "a", 1)).toEqual({
        ok: false,
        reason: "step_terminal",
        status: "cancelled",
        runStatus: "cancelled",
        taken: [],
        reserved: [],
      });
      expect(await fail(c, run, "a", 1)).toMatchObject({ ok: false, reason: "step_terminal" });
      expect(await begin(c, run, "b")).toMatchObject({ ok: false, reason: "step_terminal" });
      const again = await c.query("select rowflow.cancel_run($1) as ok", [run]);
      expect(again.rows[0]).toEqual({ ok: false });
      expect(await eventTypes(c, run)).toEqual([
        "a step_cancelled",
        "b step_cancelled",
        "c step_cancelled",
        "d step_cancelled",
        "run_cancelled",
      ]);
      const { rows: cancelled } = await c.query(
        "select step, attempt, data from rowflow.events where run_id = $1 order by id",
        [run],
      );
      expect(cancelled).toEqual([
        { step: "a", attempt: 1, data: { reason: "operator" } },
        { step: "b", attempt: 1, data: { reason: "operator" } },
        { step: "c", attempt: 1, data: { reason: "operator" } },
        { step: "d", attempt: null, data: { reason: "operator" } },
        { step: null, attempt: null, data: { reason: "operator", from: "running" } },
      ]);
    });
    await expectSqlError(
      db.query("select rowflow.cancel_run(424242)"),
      "RF023",
      "unknown run 424242",
    );
  });
});
