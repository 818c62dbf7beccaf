// What writing every step's row at claim time means for fan-in, cancel and
// failure, and that runs claimed by an older rowflow (lazy rows: 000006-000010)
// still run to the end.
// sql/schema/60_gate/claim_runs.sql: a start is one 'queued' run row; rowflow.claim_runs makes it
// running and writes a row for every step at once (eager rows), hands up to
// `take` root steps to the claiming worker under a lease and queues the
// others as jobs. These tests pin the claim (order, SKIP LOCKED, leases,
// conditions), what eager rows mean for fan-in, cancel and failure, the step
// lists readers see (rowflow.run_steps, getRun), and that runs started by an
// older rowflow (lazy rows: 000006-000010) still run to the end.

import { describe, expect, it } from "vitest";

import { useTestDatabase } from "../../helpers/db.js";
import { insertRun } from "../factories.js";
import { claimRuns, leaseColumns } from "../gate-calls.js";
import {
  begin,
  complete,
  define,
  eventTypes,
  fail,
  jobKeys,
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

const T = "2030-01-01T00:00:00.000Z";

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
        "cancel_run", // the operator's action (rowflow.audit), before what it caused
        "a step_cancelled",
        "b step_cancelled",
        "c step_cancelled",
        "run_cancelled",
      ]);
      expect(await claimRuns(c, { take: 0, maxRuns: 10 })).toEqual({ runs: 0, taken: [] });
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
      expect((await claimRuns(c, { worker: "w1", take: 1 })).taken.map((x) => x.step)).toEqual([
        "a",
      ]);
      const { rows } = await c.query("select rowflow.cancel_run($1) as ok", [run]);
      expect(rows[0]).toEqual({ ok: true });
      expect((await leaseColumns(c, run)).map(({ has_job: _, ...row }) => row)).toEqual([
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
      const run = await insertRun(c, {
        workflow: "legacy",
        lazy: true,
        steps: { a: { status: "queued", job: false } },
      });
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
