import { describe, expect, it } from "vitest";

import { useTestDatabase } from "../../helpers/db.js";
import {
  begin,
  clock,
  complete,
  define,
  eventTypes,
  expectSqlError,
  fail,
  type GateResult,
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
      // 000011: the ordinary path stores no event; the rows imply them all.
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
      // b's job is locked: graphile keeps it, with no retry left (remove_job's rule, by job id since 000006).
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

describe("fail_step retries with backoff", () => {
  const now = "2030-01-01T00:00:00.000Z";
  const plus = (ms: number) => new Date(Date.parse(now) + ms).toISOString();
  const retryAtMs = (r: { retryAt?: string }) => Date.parse(r.retryAt!) - Date.parse(now);

  it("uses a fixed delay, then fails for good when attempts are exhausted", async () => {
    await db.rollback(async (c) => {
      await define(c, "fixed", {
        steps: [
          { name: "a", task: "t", attempts: 3, backoff: { type: "fixed", base: "5 s", jitter: 0 } },
        ],
      });
      const run = await startRun(c, "fixed");
      const began = (attempt: number) => new Date(Date.parse(now) - 1000 * (10 - attempt));
      for (const attempt of [1, 2]) {
        expect((await begin(c, run, "a", attempt, began(attempt).toISOString())).ok).toBe(true);
        const r = await fail(c, run, "a", attempt, { now });
        expect(r).toEqual({
          ok: true,
          outcome: "retrying",
          retryAt: plus(5000).replace("Z", "+00:00").replace(".000", ""),
          nextAttempt: attempt + 1,
          runStatus: "running",
        });
        expect(await stepRow(c, run, "a")).toMatchObject({
          status: "queued",
          attempt: attempt + 1,
        });
      }
      const { rows: jobs } = await c.query(
        `select 'rowflow:' || (payload->>'run') || ':a:' || (payload->>'attempt') as key, run_at = $2::timestamptz as at_backoff
         from graphile_worker._private_jobs where (payload->>'run')::bigint = $1 order by key`,
        [run, plus(5000)],
      );
      expect(jobs).toEqual([
        { key: `rowflow:${run}:a:1`, at_backoff: false },
        { key: `rowflow:${run}:a:2`, at_backoff: true },
        { key: `rowflow:${run}:a:3`, at_backoff: true },
      ]);
      expect((await begin(c, run, "a", 3, began(3).toISOString())).ok).toBe(true);
      expect(await fail(c, run, "a", 3, { now })).toEqual({
        ok: true,
        outcome: "failed",
        runStatus: "failed",
      });
      expect(await runRow(c, run)).toEqual({
        status: "failed",
        started: true,
        finished: true,
        error: { step: "a", attempt: 3, error: { message: "a failed" } },
      });
      // Retries and the failure are stored, each with when its attempt started.
      const { rows: events } = await c.query<{
        step: string | null;
        type: string;
        attempt: number | null;
        started: string | null;
        next: number | null;
      }>(
        `select step, type, attempt, data->>'startedAt' as started, (data->>'nextAttempt')::int as next
         from rowflow.events where run_id = $1 order by id`,
        [run],
      );
      expect(
        events.map((e) => ({ ...e, started: e.started && new Date(e.started).toISOString() })),
      ).toEqual([
        { step: "a", type: "step_retrying", attempt: 1, started: began(1).toISOString(), next: 2 },
        { step: "a", type: "step_retrying", attempt: 2, started: began(2).toISOString(), next: 3 },
        { step: "a", type: "step_failed", attempt: 3, started: began(3).toISOString(), next: null },
        { step: null, type: "run_failed", attempt: null, started: null, next: null },
      ]);
    });
  });

  it("doubles an exponential delay up to max; retry_at overrides; jitter stays in range", async () => {
    await db.rollback(async (c) => {
      await define(c, "expo", {
        steps: [
          {
            name: "a",
            task: "t",
            attempts: 6,
            backoff: { type: "exponential", base: "1 s", max: "5 s", jitter: 0 },
          },
          {
            name: "j",
            task: "t",
            attempts: 1000,
            backoff: { type: "fixed", base: "10 s", max: "1 m", jitter: 0.5 },
          },
        ],
      });
      const run = await startRun(c, "expo");
      const delays: number[] = [];
      for (const attempt of [1, 2, 3, 4]) {
        await begin(c, run, "a", attempt);
        delays.push(retryAtMs(await fail(c, run, "a", attempt, { now })));
      }
      expect(delays).toEqual([1000, 2000, 4000, 5000]);
      await begin(c, run, "a", 5);
      const override = await fail(c, run, "a", 5, { now, retryAt: "2031-06-01T00:00:00Z" });
      expect(override.retryAt).toBe("2031-06-01T00:00:00+00:00");
      for (let attempt = 1; attempt <= 50; attempt++) {
        await begin(c, run, "j", attempt);
        const ms = retryAtMs(await fail(c, run, "j", attempt, { now }));
        expect(ms).toBeGreaterThanOrEqual(5000);
        expect(ms).toBeLessThanOrEqual(15000);
      }
    });
  });

  it("does not retry a non-retryable failure", async () => {
    await db.rollback(async (c) => {
      await define(c, "noretry", {
        steps: [
          { name: "a", task: "t", attempts: 5 },
          { name: "b", task: "t" },
        ],
      });
      const run = await startRun(c, "noretry");
      await begin(c, run, "a");
      expect(await fail(c, run, "a", 1, { retryable: false })).toEqual({
        ok: true,
        outcome: "failed",
        runStatus: "failed",
      });
      expect(await statuses(c, run)).toEqual({ a: "failed", b: "cancelled" });
      // b's queued job is removed; a's (the failing attempt's own) stays for its worker.
      expect(await jobKeys(c, run)).toEqual([`rowflow:${run}:a:1`]);
    });
  });
});

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
      // 000011: the chain follows finished_at, so each call gets its own time.
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
      const run = await startRun(c, "saga");
      // One transaction, no injected time: a, p and b finish at the same now().
      for (const step of ["a", "p", "plain", "b"]) await runStep(c, run, step);
      await begin(c, run, "f");
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

describe("NOTIFY", () => {
  it("sends at most one notification per transaction", async () => {
    const listener = await db.pool.connect();
    const received: string[] = [];
    try {
      listener.on("notification", (n) => {
        if (n.channel === "rowflow") received.push(n.payload ?? "");
      });
      await listener.query("listen rowflow");
      // 000007: the engine's hint goes out only while a live view waits on 'rowflow'.
      await db.query("select rowflow.mark_waiting(id => 'flow-test', channel => 'rowflow')");
      await define(db.pool, "notif", {
        steps: [
          { name: "a", task: "t" },
          { name: "b", task: "t", dependsOn: ["a"] },
        ],
      });
      const c = await db.pool.connect();
      let run = 0;
      try {
        await c.query("begin");
        run = await startRun(c, "notif");
        await begin(c, run, "a");
        await complete(c, run, "a", 1);
        await c.query("commit");
        await c.query("begin");
        await c.query("select 1");
        await c.query("commit");
      } finally {
        c.release();
      }
      // A round trip on the listener after the commit delivers pending notifications.
      const deadline = Date.now() + 30_000; // generous: CI machines run many suites at once
      while (received.length === 0 && Date.now() < deadline) await listener.query("select 1");
      await listener.query("select 1");
      expect(received.map((p) => JSON.parse(p) as unknown)).toEqual([{ run }]);
    } finally {
      await listener.query("unlisten rowflow");
      listener.release();
      await db.query("select rowflow.unmark_waiting(id => 'flow-test')");
    }
  });
});
