// Map steps (sql/schema/62_map/, docs/spec.md "Map steps"): one step run of
// kind 'element' per element of an array, created set-based when the step
// is ready; the step's output is the elements' outputs in element order.
import { describe, expect, it } from "vitest";

import { useTestDatabase } from "../../helpers/db.js";
import {
  begin,
  clock,
  complete,
  define,
  fail,
  type Queryable,
  runRow,
  runStep,
  startRun,
  statuses,
  stepRow,
} from "../support.js";

const db = useTestDatabase();

/** load → charge (map over load's lines) → sum. */
async function defineCharges(
  c: Queryable,
  name = "charges",
  extra: Record<string, unknown> = {},
): Promise<void> {
  await define(c, name, {
    steps: [
      { name: "load", task: "load" },
      {
        name: "charge",
        task: "charge-line",
        dependsOn: ["load"],
        map: "$.steps.load.lines",
        attempts: 2,
        backoff: { type: "fixed", base: "1 second", jitter: 0 },
        ...extra,
      },
      { name: "sum", task: "sum", dependsOn: ["charge"] },
    ],
  });
}

interface ElementRow {
  step: string;
  status: string;
  seq: number;
  attempt: number;
  input: unknown;
  output: unknown;
  job: boolean;
}

async function elements(c: Queryable, run: number): Promise<ElementRow[]> {
  const { rows } = await c.query<ElementRow>(
    `select sr.step, sr.status, sr.seq, sr.attempt, sr.input, sr.output,
            exists (select 1 from graphile_worker._private_jobs as j where j.id = sr.job_id) as job
     from rowflow.step_runs as sr where sr.run_id = $1 and sr.kind = 'element' order by sr.seq`,
    [run],
  );
  return rows;
}

/** Function calls made in this transaction (track_functions = 'pl'). */
async function calls(c: Queryable, fn: string): Promise<number> {
  const { rows } = await c.query<{ n: string | null }>(
    "select sum(calls) as n from pg_stat_xact_user_functions where schemaname = 'rowflow' and funcname = $1",
    [fn],
  );
  return Number(rows[0]?.n ?? 0);
}

async function runSteps(c: Queryable, run: number) {
  const { rows } = await c.query<{ step: string; status: string; elements: unknown }>(
    "select step, status, elements from rowflow.run_steps where run_id = $1 order by step",
    [run],
  );
  return rows;
}

describe("map steps", () => {
  it("over an empty array: the step succeeds at once with [] and its dependent is released", async () => {
    await db.rollback(async (c) => {
      await defineCharges(c);
      const t = clock();
      const run = await startRun(c, "charges", {}, null, t.next());
      expect(await runStep(c, run, "load", { lines: [] }, t)).toMatchObject({
        ok: true,
        released: ["sum"],
        runStatus: "running",
      });
      expect(await stepRow(c, run, "charge")).toMatchObject({ status: "succeeded", output: [] });
      expect(await elements(c, run)).toEqual([]);
      expect(await begin(c, run, "sum", 1, t.next())).toMatchObject({
        ok: true,
        deps: { charge: [] },
      });
    });
  });

  it("over one element: its input is the element, its context has the index, its output is [output]", async () => {
    await db.rollback(async (c) => {
      await defineCharges(c);
      const t = clock();
      const run = await startRun(c, "charges", { order: 7 }, null, t.next());
      expect(await runStep(c, run, "load", { lines: [{ sku: "a", cents: 100 }] }, t)).toMatchObject(
        {
          ok: true,
          released: [],
          runStatus: "running",
        },
      );
      expect(await stepRow(c, run, "charge")).toMatchObject({ status: "running", attempt: 1 });
      expect(await elements(c, run)).toEqual([
        {
          step: "charge[0]",
          status: "queued",
          seq: 0,
          attempt: 1,
          input: { sku: "a", cents: 100 },
          output: null,
          job: true,
        },
      ]);
      const ctx = await begin(c, run, "charge[0]", 1, t.next());
      expect(ctx).toMatchObject({
        ok: true,
        step: "charge[0]",
        task: "charge-line",
        kind: "element",
        input: { sku: "a", cents: 100 },
        index: 0,
        deps: {},
        attempt: 1,
        maxAttempts: 2,
        idempotencyKey: `rowflow:${run}:charge[0]`,
      });
      expect(await complete(c, run, "charge[0]", 1, { charged: 100 }, t.next())).toMatchObject({
        ok: true,
        released: ["sum"],
        runStatus: "running",
      });
      expect(await stepRow(c, run, "charge")).toMatchObject({
        status: "succeeded",
        output: [{ charged: 100 }],
      });
      expect(await runStep(c, run, "sum", "ok", t)).toMatchObject({
        ok: true,
        runStatus: "succeeded",
      });
      expect((await runRow(c, run)).status).toBe("succeeded");
    });
  });

  it("keeps element order in the dependent's input whatever the completion order", async () => {
    await db.rollback(async (c) => {
      await defineCharges(c);
      const t = clock();
      const run = await startRun(c, "charges", {}, null, t.next());
      const lines = Array.from({ length: 12 }, (_, i) => ({ n: i }));
      await runStep(c, run, "load", { lines }, t);
      // Completed in reverse: 11, 10, …, 0 (text order would put "charge[10]" before "charge[2]").
      for (let i = 11; i >= 0; i--) {
        const ctx = await begin(c, run, `charge[${i}]`, 1, t.next());
        expect(ctx).toMatchObject({ ok: true, input: { n: i }, index: i });
        const answer = await complete(c, run, `charge[${i}]`, 1, { out: i * 10 }, t.next());
        expect(answer.released).toEqual(i === 0 ? ["sum"] : []);
      }
      expect(await begin(c, run, "sum", 1, t.next())).toMatchObject({
        ok: true,
        deps: { charge: lines.map((_, i) => ({ out: i * 10 })) },
      });
    });
  });

  it("creates 10,000 elements and their jobs in one statement of one _map_start call, from one gate call", async () => {
    await db.rollback(async (c) => {
      await c.query("set local track_functions = 'pl'");
      await defineCharges(c);
      const t = clock();
      const run = await startRun(c, "charges", {}, null, t.next());
      const lines = Array.from({ length: 10_000 }, (_, i) => i);
      expect(await runStep(c, run, "load", { lines }, t)).toMatchObject({
        ok: true,
        runStatus: "running",
      });
      // One gate call (complete_step → complete_steps → _release → _map_start),
      // and no per-element call of anything.
      expect(await calls(c, "complete_steps")).toBe(1);
      expect(await calls(c, "_release")).toBe(1);
      expect(await calls(c, "_map_start")).toBe(1);
      expect(await calls(c, "_add_step_jobs")).toBe(0);
      const { rows } = await c.query<{ n: string; jobs: string; first: string; last: string }>(
        `select count(*) as n, count(j.id) as jobs, min(sr.seq) as first, max(sr.seq) as last
         from rowflow.step_runs as sr
         left join graphile_worker._private_jobs as j on j.id = sr.job_id and j.payload ->> 'step' = sr.step
         where sr.run_id = $1 and sr.kind = 'element' and sr.status = 'queued' and sr.input = to_jsonb(sr.seq)`,
        [run],
      );
      expect(rows[0]).toEqual({ n: "10000", jobs: "10000", first: 0, last: 9999 });
      // run_steps lists the map step, not its elements, with a count of them.
      expect(await runSteps(c, run)).toEqual([
        { step: "charge", status: "running", elements: { total: 10_000, open: 10_000, failed: 0 } },
        { step: "load", status: "succeeded", elements: null },
        { step: "sum", status: "pending", elements: null },
      ]);
      const explain = await c.query<{ step: string; code: string; reason: string }>(
        "select step, code, reason from rowflow.explain_run($1) where step = 'charge'",
        [run],
      );
      expect(explain.rows).toEqual([
        {
          step: "charge",
          code: "running_elements",
          reason: "map step: 10000 of 10000 elements not finished, 0 failed",
        },
      ]);
    });
  });

  it("over more than 10,000 elements: the step fails with RF070, not the gate call; the run fails", async () => {
    await db.rollback(async (c) => {
      await defineCharges(c);
      const t = clock();
      const run = await startRun(c, "charges", {}, null, t.next());
      const lines = Array.from({ length: 10_001 }, (_, i) => i);
      expect(await runStep(c, run, "load", { lines }, t)).toMatchObject({
        ok: true,
        runStatus: "running",
      });
      const charge = await stepRow(c, run, "charge");
      expect(charge.status).toBe("failed");
      const { rows } = await c.query<{ error: Record<string, unknown> }>(
        "select error from rowflow.step_runs where run_id = $1 and step = 'charge'",
        [run],
      );
      expect(rows[0]!.error).toEqual({
        code: "RF070",
        elements: 10_001,
        limit: 10_000,
        message:
          'map step charge: $."steps"."load"."lines" has 10001 elements; a map step runs over at most 10000',
      });
      expect(await elements(c, run)).toEqual([]);
      expect(await runRow(c, run)).toMatchObject({ status: "failed", finished: true });
      expect(await statuses(c, run)).toEqual({
        charge: "failed",
        load: "succeeded",
        sum: "cancelled",
      });
    });
  });

  it("over a value that is not an array: the step fails with RF071", async () => {
    await db.rollback(async (c) => {
      await defineCharges(c);
      const t = clock();
      const run = await startRun(c, "charges", {}, null, t.next());
      await runStep(c, run, "load", { lines: { a: 1 } }, t);
      const { rows } = await c.query<{ error: { code: string; message: string } }>(
        "select error from rowflow.step_runs where run_id = $1 and step = 'charge'",
        [run],
      );
      expect(rows[0]!.error).toMatchObject({
        code: "RF071",
        message: expect.stringContaining("is a JSON object, not an array"),
      });
      expect((await runRow(c, run)).status).toBe("failed");
    });
  });

  it("a failed element is retried by its own policy, then fails the step (RF072) and the run; the other elements are cancelled", async () => {
    await db.rollback(async (c) => {
      await defineCharges(c);
      const t = clock();
      const run = await startRun(c, "charges", {}, null, t.next());
      await runStep(c, run, "load", { lines: ["a", "b", "c"] }, t);
      await begin(c, run, "charge[0]", 1, t.next());
      await complete(c, run, "charge[0]", 1, "A", t.next());
      await begin(c, run, "charge[1]", 1, t.next());
      expect(await fail(c, run, "charge[1]", 1, { now: t.next() })).toMatchObject({
        ok: true,
        outcome: "retrying",
        nextAttempt: 2,
      });
      expect((await elements(c, run)).map((e) => [e.step, e.status, e.attempt, e.job])).toEqual([
        // (a succeeded element's job is deleted by graphile-worker when its task returns; no worker here)
        ["charge[0]", "succeeded", 1, true],
        ["charge[1]", "queued", 2, true],
        ["charge[2]", "queued", 1, true],
      ]);
      await begin(c, run, "charge[1]", 2, t.next());
      expect(await fail(c, run, "charge[1]", 2, { now: t.next() })).toMatchObject({
        ok: true,
        outcome: "failed",
        runStatus: "failed",
      });
      expect((await elements(c, run)).map((e) => [e.step, e.status, e.job])).toEqual([
        ["charge[0]", "succeeded", true],
        ["charge[1]", "failed", true],
        ["charge[2]", "cancelled", false],
      ]);
      const { rows } = await c.query<{ error: Record<string, unknown> }>(
        "select error from rowflow.step_runs where run_id = $1 and step = 'charge'",
        [run],
      );
      expect(rows[0]!.error).toMatchObject({
        code: "RF072",
        element: 1,
        message: "element 1 of map step charge failed: charge[1] failed",
        error: { message: "charge[1] failed" },
      });
      expect(await runRow(c, run)).toMatchObject({
        status: "failed",
        error: { step: "charge", error: { code: "RF072" } },
      });
      expect(await statuses(c, run)).toEqual({
        charge: "failed",
        load: "succeeded",
        sum: "cancelled",
      });
      expect(await runSteps(c, run)).toContainEqual({
        step: "charge",
        status: "failed",
        elements: { total: 3, open: 1, failed: 1 },
      });
    });
  });

  it('with "mapErrors": "collect" a failed element is collected into the output and the step succeeds', async () => {
    await db.rollback(async (c) => {
      await defineCharges(c, "charges", { mapErrors: "collect", attempts: 1 });
      const t = clock();
      const run = await startRun(c, "charges", {}, null, t.next());
      await runStep(c, run, "load", { lines: ["a", "b", "c"] }, t);
      await begin(c, run, "charge[1]", 1, t.next());
      expect(await fail(c, run, "charge[1]", 1, { now: t.next() })).toMatchObject({
        ok: true,
        outcome: "failed",
        collected: true,
        runStatus: "running",
      });
      await begin(c, run, "charge[2]", 1, t.next());
      await complete(c, run, "charge[2]", 1, "C", t.next());
      await begin(c, run, "charge[0]", 1, t.next());
      expect(await complete(c, run, "charge[0]", 1, "A", t.next())).toMatchObject({
        ok: true,
        released: ["sum"],
      });
      expect(await begin(c, run, "sum", 1, t.next())).toMatchObject({
        ok: true,
        deps: {
          charge: [
            { ok: true, output: "A" },
            { ok: false, error: { message: "charge[1] failed" } },
            { ok: true, output: "C" },
          ],
        },
      });
    });
  });

  it("collect: the last element failing finishes the step and releases its dependent", async () => {
    await db.rollback(async (c) => {
      await defineCharges(c, "charges", { mapErrors: "collect", attempts: 1 });
      const t = clock();
      const run = await startRun(c, "charges", {}, null, t.next());
      await runStep(c, run, "load", { lines: ["a"] }, t);
      await begin(c, run, "charge[0]", 1, t.next());
      await fail(c, run, "charge[0]", 1, { now: t.next() });
      expect(await stepRow(c, run, "charge")).toMatchObject({
        status: "succeeded",
        output: [{ ok: false, error: { message: "charge[0] failed" } }],
      });
      expect((await stepRow(c, run, "sum")).status).toBe("queued");
    });
  });

  it("a root map step over the run input gets its elements when the run is claimed; a last map step finishes the run", async () => {
    await db.rollback(async (c) => {
      await define(c, "roots", {
        steps: [{ name: "each", task: "t", map: "$.input.items" }],
      });
      const t = clock();
      const empty = await startRun(c, "roots", { items: [] }, null, t.next());
      expect(await runRow(c, empty)).toMatchObject({ status: "succeeded" });
      const run = await startRun(c, "roots", { items: [1, 2] }, null, t.next());
      expect((await elements(c, run)).map((e) => [e.step, e.input])).toEqual([
        ["each[0]", 1],
        ["each[1]", 2],
      ]);
      await begin(c, run, "each[0]", 1, t.next());
      expect(await complete(c, run, "each[0]", 1, 10, t.next())).toMatchObject({
        runStatus: "running",
      });
      await begin(c, run, "each[1]", 1, t.next());
      expect(await complete(c, run, "each[1]", 1, 20, t.next())).toMatchObject({
        runStatus: "succeeded",
      });
      expect(await stepRow(c, run, "each")).toMatchObject({
        status: "succeeded",
        output: [10, 20],
      });
    });
  });

  it("cancel_run cancels the pending elements and removes their jobs", async () => {
    await db.rollback(async (c) => {
      await defineCharges(c);
      const t = clock();
      const run = await startRun(c, "charges", {}, null, t.next());
      await runStep(c, run, "load", { lines: [1, 2, 3] }, t);
      await begin(c, run, "charge[0]", 1, t.next());
      await complete(c, run, "charge[0]", 1, "x", t.next());
      await c.query("select rowflow.cancel_run($1)", [run]);
      expect((await elements(c, run)).map((e) => [e.step, e.status, e.job])).toEqual([
        ["charge[0]", "succeeded", true],
        ["charge[1]", "cancelled", false],
        ["charge[2]", "cancelled", false],
      ]);
      expect((await runRow(c, run)).status).toBe("cancelled");
    });
  });

  it("retry_run reruns only the failed and cancelled elements; the output keeps every element in order", async () => {
    await db.rollback(async (c) => {
      await defineCharges(c, "charges", { attempts: 1 });
      const t = clock();
      const run = await startRun(c, "charges", {}, null, t.next());
      await runStep(c, run, "load", { lines: ["a", "b", "c"] }, t);
      await begin(c, run, "charge[0]", 1, t.next());
      await complete(c, run, "charge[0]", 1, "A", t.next());
      await begin(c, run, "charge[1]", 1, t.next());
      await fail(c, run, "charge[1]", 1, { now: t.next() });
      expect((await runRow(c, run)).status).toBe("failed");

      const { rows } = await c.query<{ r: Record<string, unknown> }>(
        "select rowflow.retry_run($1, now => $2) as r",
        [run, t.next()],
      );
      expect(rows[0]!.r).toMatchObject({
        retried: true,
        status: "running",
        steps: ["charge", "sum"],
      });
      expect((await elements(c, run)).map((e) => [e.step, e.status, e.attempt, e.job])).toEqual([
        ["charge[0]", "succeeded", 1, false],
        ["charge[1]", "queued", 1, true],
        ["charge[2]", "queued", 1, true],
      ]);
      expect(await runSteps(c, run)).toContainEqual({
        step: "charge",
        status: "running",
        elements: { total: 3, open: 2, failed: 0 },
      });
      await begin(c, run, "charge[1]", 1, t.next());
      await complete(c, run, "charge[1]", 1, "B", t.next());
      await begin(c, run, "charge[2]", 1, t.next());
      expect(await complete(c, run, "charge[2]", 1, "C", t.next())).toMatchObject({
        released: ["sum"],
      });
      expect(await stepRow(c, run, "charge")).toMatchObject({
        status: "succeeded",
        output: ["A", "B", "C"],
      });
    });
  });

  it("retry_run of a failed root map step (over the input) reruns its failed elements only", async () => {
    await db.rollback(async (c) => {
      await define(c, "root-retry", {
        steps: [{ name: "each", task: "t", map: "$.input.items", attempts: 1 }],
      });
      const t = clock();
      const run = await startRun(c, "root-retry", { items: ["a", "b"] }, null, t.next());
      await begin(c, run, "each[0]", 1, t.next());
      await complete(c, run, "each[0]", 1, "A", t.next());
      await begin(c, run, "each[1]", 1, t.next());
      await fail(c, run, "each[1]", 1, { now: t.next() });
      expect((await runRow(c, run)).status).toBe("failed");
      await c.query("select rowflow.retry_run($1, now => $2)", [run, t.next()]);
      const { rows: jobs } = await c.query<{ step: string }>(
        `select payload ->> 'step' as step from graphile_worker._private_jobs
         where (payload ->> 'run')::bigint = $1 and locked_at is null and attempts = 0
           and payload ->> 'step' in ('each', 'each[1]') order by 1`,
        [run],
      );
      // No job for the map step itself (it has no handler), one new job for the failed element.
      expect(jobs.map((j) => j.step)).toEqual(["each[1]"]);
      expect((await elements(c, run)).map((e) => [e.step, e.status])).toEqual([
        ["each[0]", "succeeded"],
        ["each[1]", "queued"],
      ]);
      await begin(c, run, "each[1]", 1, t.next());
      expect(await complete(c, run, "each[1]", 1, "B", t.next())).toMatchObject({
        runStatus: "succeeded",
      });
      expect(await stepRow(c, run, "each")).toMatchObject({
        status: "succeeded",
        output: ["A", "B"],
      });
    });
  });
});
