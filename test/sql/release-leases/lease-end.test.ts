// How leases end (sql/schema/70_workers/): release_leases (a running step is a
// lost attempt, a reserved one gets a job) and release_dead_workers.
// Leases (sql/schema/60_gate/complete_steps.sql, 70_workers/): steps handed to a worker directly run under its lease
// (step_runs.locked_by) instead of a graphile job. These tests pin how
// complete_steps hands out released dependents (take), queues them locally
// (reserve) and begins them later (next_*), claims queued runs for leftover
// slots (claim), yields to live work, and how leases end: release_leases
// (a running step is a lost attempt, a reserved one gets a job) and
// release_dead_workers.
import { describe, expect, it } from "vitest";

import { useTestDatabase } from "../../helpers/db.js";
import { insertRun } from "../factories.js";
import { claimRuns, completeSteps, releaseLeases, stepLeases } from "../gate-calls.js";
import { begin, define, eventTypes, jobKeys, queueRun, runRow, statuses } from "../support.js";

const db = useTestDatabase();

const OLD = "2020-01-01T00:00:00.000Z";

describe("leases end", () => {
  it("release_leases: a running step not kept is a lost attempt and retried, a reserved one gets a job; kept and younger ones stay", async () => {
    await db.rollback(async (c) => {
      await define(c, "lease", {
        steps: [
          { name: "a", task: "t", attempts: 2 },
          { name: "b", task: "t" },
          { name: "k", task: "t" },
          { name: "e", task: "t", dependsOn: ["k"] },
          { name: "f", task: "t", dependsOn: ["k"] },
        ],
      });
      const run = await queueRun(c, "lease");
      expect(
        (await claimRuns(c, { worker: "w1", take: 3, maxRuns: 1, now: OLD })).taken.map(
          (t) => t.step,
        ),
      ).toEqual(["a", "b", "k"]);
      const [done] = await completeSteps(c, [{ run, step: "k" }], {
        worker: "w1",
        now: OLD,
        reserve: 2,
      });
      expect(done).toMatchObject({ ok: true, released: ["e", "f"], taken: [] });
      expect((done!.reserved as { step: string }[]).map((r) => r.step)).toEqual(["e", "f"]);
      expect(await stepLeases(c, run)).toEqual({
        a: "running w1 no-job #1",
        b: "running w1 no-job #1",
        e: "queued w1 no-job #1",
        f: "queued w1 no-job #1",
        k: "succeeded - no-job #1",
      });

      expect(await releaseLeases(c, "w2", [])).toBe(0);
      expect(await releaseLeases(c, "w1", [`${run}:a`, `${run}:f`], "1 hour")).toBe(2);
      expect(await stepLeases(c, run)).toEqual({
        a: "running w1 no-job #1",
        b: "queued - job #2",
        e: "queued - job #1",
        f: "queued w1 no-job #1",
        k: "succeeded - no-job #1",
      });
      const { rows: events } = await c.query(
        "select step, type, attempt, data from rowflow.events where run_id = $1 order by id",
        [run],
      );
      const lost = {
        kind: "worker_lost",
        code: "RF_WORKER_LOST",
        workerId: "w1",
        message: "the worker running attempt 1 stopped before recording an outcome",
        lostAttempts: 1,
        // a and b were claimed together (one start time): neither is the suspect.
        suspect: false,
      };
      expect(events).toEqual([
        {
          step: "b",
          type: "step_retrying",
          attempt: 1,
          data: {
            error: lost,
            retryAt: expect.any(String),
            nextAttempt: 2,
            startedAt: "2020-01-01T00:00:00+00:00",
          },
        },
      ]);
      const { rows: bRow } = await c.query(
        "select error, started_at from rowflow.step_runs where run_id = $1 and step = 'b'",
        [run],
      );
      expect(bRow).toEqual([{ error: lost, started_at: null }]);

      // Taken less than 100 years ago: too young to end.
      expect(await releaseLeases(c, "w1", [], "100 years")).toBe(0);
      expect(await releaseLeases(c, "w1", [])).toBe(2);
      expect(await stepLeases(c, run)).toEqual({
        a: "queued - job #2",
        b: "queued - job #2",
        e: "queued - job #1",
        f: "queued - job #1",
        k: "succeeded - no-job #1",
      });
      expect(await jobKeys(c, run)).toEqual([
        `rowflow:${run}:a:2`,
        `rowflow:${run}:b:2`,
        `rowflow:${run}:e:1`,
        `rowflow:${run}:f:1`,
      ]);
      expect(await eventTypes(c, run)).toEqual(["b step_retrying", "a step_retrying"]);
      expect(await runRow(c, run)).toMatchObject({ status: "running" });
      // The retried attempts and the reserved steps are graphile's now.
      expect(await begin(c, run, "e")).toMatchObject({ ok: true, step: "e", attempt: 1 });
      expect(await begin(c, run, "a", 2)).toMatchObject({ ok: true, step: "a", attempt: 2 });
    });
  });

  it("a lost attempt uses up no attempt; the third one quarantines the step as poison", async () => {
    await db.rollback(async (c) => {
      await define(c, "lease-once", {
        steps: [
          { name: "only", task: "t", attempts: 1 },
          { name: "other", task: "t" },
        ],
      });
      const run = await insertRun(c, {
        workflow: "lease-once",
        at: OLD,
        steps: {
          only: { status: "running", lockedBy: "w1" },
          other: { status: "running", lockedBy: "w1" },
        },
      });
      // "only" started last on w1: the suspect when w1's leases end.
      await c.query(
        "update rowflow.step_runs set started_at = started_at + interval '1 second' where run_id = $1 and step = 'only'",
        [run],
      );
      const counters = async () =>
        (
          await c.query<{ status: string; attempt: number; max: number; lost: number }>(
            `select status, attempt, max_attempts as max, lost_attempts as lost
             from rowflow.step_runs where run_id = $1 and step = 'only'`,
            [run],
          )
        ).rows[0];
      // Lost 1 (a lease ended): retried at once although attempts is 1; the
      // attempt number (the lease's fence) moves on, the budget with it.
      expect(await releaseLeases(c, "w1", [`${run}:other`])).toBe(1);
      expect(await counters()).toEqual({ status: "queued", attempt: 2, max: 2, lost: 1 });
      expect(await stepLeases(c, run)).toMatchObject({ only: "queued - job #2" });
      // Lost 2 (a re-delivered job), then 3: quarantined, not retried.
      const lostAgain = async (attempt: number) => {
        expect(await begin(c, run, "only", attempt)).toMatchObject({ ok: true, attempt });
        const { rows } = await c.query<{ r: { ok: boolean; outcome: string } }>(
          "select rowflow.fail_lost_attempt(run_id => $1, step => 'only', attempt => $2, worker_id => 'w2') as r",
          [run, attempt],
        );
        return rows[0]!.r;
      };
      expect(await lostAgain(2)).toMatchObject({ ok: true, outcome: "retrying", nextAttempt: 3 });
      expect(await counters()).toEqual({ status: "queued", attempt: 3, max: 3, lost: 2 });
      expect(await lostAgain(3)).toMatchObject({
        ok: true,
        outcome: "failed",
        runStatus: "failed",
      });
      expect(await counters()).toEqual({ status: "failed", attempt: 3, max: 3, lost: 2 });
      expect(await statuses(c, run)).toEqual({ only: "failed", other: "cancelled" });
      const { rows } = await c.query<{ error: Record<string, unknown> }>(
        "select error -> 'error' as error from rowflow.runs where id = $1",
        [run],
      );
      expect(rows[0]!.error).toEqual({
        kind: "worker_lost",
        code: "RF_POISON",
        poison: true,
        lostAttempts: 3,
        workerId: "w2",
        suspect: true,
        message:
          "step only killed its worker 3 times (it was the attempt its worker started last when the worker died): quarantined, not retried; last: the worker running attempt 3 stopped before recording an outcome",
      });
      expect(await eventTypes(c, run)).toEqual([
        "only step_retrying",
        "only step_retrying",
        "only step_failed",
        "other step_cancelled",
        "run_failed",
      ]);
    });
  });

  it("only the attempt a worker started last is a poison suspect: a step that just shared the dying worker goes on", async () => {
    await db.rollback(async (c) => {
      await define(c, "shared", {
        steps: [
          { name: "healthy", task: "t" },
          { name: "poison", task: "t" },
        ],
      });
      const run = await insertRun(c, {
        workflow: "shared",
        at: OLD,
        steps: {
          healthy: { status: "running", lockedBy: "w1" },
          poison: { status: "running", lockedBy: "w1" },
        },
      });
      await c.query(
        "update rowflow.step_runs set started_at = started_at + interval '1 second' where run_id = $1 and step = 'poison'",
        [run],
      );
      expect(await releaseLeases(c, "w1", [])).toBe(2);
      const { rows } = await c.query<{ step: string; suspect: boolean }>(
        `select step, (data -> 'error' ->> 'suspect')::boolean as suspect from rowflow.events
         where run_id = $1 and type = 'step_retrying' order by step`,
        [run],
      );
      expect(rows).toEqual([
        { step: "healthy", suspect: false },
        { step: "poison", suspect: true },
      ]);
      // Two more losses of each: the suspect is quarantined, the other retried.
      const lose = async (step: string, suspect: boolean) => {
        const { attempt } = (
          await c.query<{ attempt: number }>(
            "select attempt from rowflow.step_runs where run_id = $1 and step = $2",
            [run, step],
          )
        ).rows[0]!;
        expect(await begin(c, run, step, attempt)).toMatchObject({ ok: true });
        const { rows: r } = await c.query<{ r: { outcome: string } }>(
          `select rowflow._fail_attempt($1, $2, $3, jsonb_build_object('kind', 'worker_lost', 'workerId', 'w9',
             'suspect', $4::boolean, 'message', 'lost'), true, null, null) as r`,
          [run, step, attempt, suspect],
        );
        return r[0]!.r.outcome;
      };
      expect(await lose("healthy", false)).toBe("retrying");
      expect(await lose("healthy", false)).toBe("retrying");
      expect(await lose("poison", true)).toBe("retrying");
      expect(await lose("poison", true)).toBe("failed");
      expect(await statuses(c, run)).toMatchObject({ poison: "failed" });
    });
  });

  it("a handler failure after a lost attempt still has the step's attempts", async () => {
    await db.rollback(async (c) => {
      await define(c, "lost-then-fail", { steps: [{ name: "s", task: "t", attempts: 2 }] });
      const run = await insertRun(c, {
        workflow: "lost-then-fail",
        at: OLD,
        steps: { s: { status: "running", lockedBy: "w1" } },
      });
      expect(await releaseLeases(c, "w1", [])).toBe(1);
      expect(await begin(c, run, "s", 2)).toMatchObject({ ok: true, attempt: 2, maxAttempts: 3 });
      const fail = async (attempt: number) =>
        (
          await c.query<{ r: { outcome: string } }>(
            `select rowflow.fail_step(run_id => $1, step => 's', attempt => $2,
                                      error => '{"kind": "handler", "message": "boom"}') as r`,
            [run, attempt],
          )
        ).rows[0]!.r.outcome;
      // Two handler failures allowed (attempts 2), as if nothing was lost.
      expect(await fail(2)).toBe("retrying");
      expect(await begin(c, run, "s", 3)).toMatchObject({ ok: true, attempt: 3 });
      expect(await fail(3)).toBe("failed");
    });
  });

  it("release_dead_workers ends the leases of dead and unregistered holders, not of live workers", async () => {
    await db.rollback(async (c) => {
      await define(c, "single", { steps: [{ name: "s", task: "t" }] });
      await c.query(
        "select rowflow.register_worker(id => 'dead-1', hostname => 'h', pid => 1, concurrency => 1, now => $1::timestamptz)",
        [OLD],
      );
      await c.query(
        "select rowflow.register_worker(id => 'live-1', hostname => 'h', pid => 2, concurrency => 1)",
      );
      const leased = (worker: string) =>
        insertRun(c, {
          workflow: "single",
          at: OLD,
          steps: { s: { status: "running", lockedBy: worker } },
        });
      const dead = await leased("dead-1");
      const ghost = await leased("ghost-1");
      const live = await leased("live-1");
      const { rows: released } = await c.query(
        "select rowflow.release_dead_workers(timeout => '30 seconds') as ids",
      );
      expect(released).toEqual([{ ids: ["dead-1", "ghost-1"] }]);
      expect(await stepLeases(c, dead)).toEqual({ s: "queued - job #2" });
      expect(await stepLeases(c, ghost)).toEqual({ s: "queued - job #2" });
      expect(await stepLeases(c, live)).toEqual({ s: "running live-1 no-job #1" });
      const { rows: workers } = await c.query("select id from rowflow.workers order by id");
      expect(workers).toEqual([{ id: "live-1" }]);
      const { rows: lostBy } = await c.query(
        `select run_id::int, data->'error'->>'workerId' as worker from rowflow.events
         where type = 'step_retrying' and data->'error'->>'kind' = 'worker_lost' order by run_id`,
      );
      expect(lostBy).toEqual([
        { run_id: dead, worker: "dead-1" },
        { run_id: ghost, worker: "ghost-1" },
      ]);
    });
  });
});
