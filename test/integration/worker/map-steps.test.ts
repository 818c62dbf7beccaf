// Map steps run by a real worker (docs/spec.md "Map steps",
// sql/schema/62_map/): 10,000 elements, each its own graphile job and step
// run, the dependent's input in element order; an element that keeps
// failing fails the step after its attempts, or is collected.
import { afterEach, expect, it } from "vitest";
import { z } from "zod";

import { defineWorkflow } from "../../../src/definition/define-workflow.js";
import type { Worker } from "../../../src/worker/create-worker.js";
import { useTestDatabase } from "../../helpers/db.js";
import { waitFor } from "../../helpers/wait-for.js";
import { startTestWorker } from "../../helpers/worker.js";

const db = useTestDatabase();
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()?.();
});

async function start(workflow: string, input: unknown): Promise<number> {
  const { rows } = await db.query<{ id: string }>(
    "select rowflow.start_run(workflow => $1, input => $2::jsonb) as id",
    [workflow, JSON.stringify(input)],
  );
  return Number(rows[0]!.id);
}

async function finished(run: number): Promise<{ status: string; error: unknown } | undefined> {
  const { rows } = await db.query<{ status: string; error: unknown }>(
    "select status, error from rowflow.runs where id = $1 and finished_at is not null",
    [run],
  );
  return rows[0];
}

async function stop(worker: Worker): Promise<void> {
  cleanup.push(() => worker.stop());
}

it("runs a map over 10,000 elements with a real worker: one job per element, outputs in element order", async () => {
  const seen = new Set<number>();
  let sumInput: number[] | undefined;
  const wf = defineWorkflow({ name: "big-map", input: z.object({ n: z.number() }) })
    .step("load", (ctx) => ({ lines: Array.from({ length: ctx.input.n }, (_, i) => i) }))
    .map(
      "square",
      { dependsOn: ["load"], over: "$.steps.load.lines", element: z.number() },
      (ctx) => {
        expect(ctx.step.index).toBe(ctx.input);
        seen.add(ctx.input);
        return ctx.input * 2;
      },
    )
    .step("sum", { dependsOn: ["square"] }, (ctx) => {
      sumInput = ctx.deps.square;
      return ctx.deps.square.reduce((a, b) => a + b, 0);
    });
  const worker = await startTestWorker(db.url, { concurrency: 16, workflows: [wf] });
  await stop(worker);
  const run = await start("big-map", { n: 10_000 });
  const done = await waitFor(() => finished(run), {
    timeoutMs: 240_000,
    intervalMs: 200,
    message: "the 10,000-element map did not finish",
  });
  expect(done).toEqual({ status: "succeeded", error: null });
  expect(seen.size).toBe(10_000);
  expect(sumInput).toEqual(Array.from({ length: 10_000 }, (_, i) => i * 2));
  const { rows } = await db.query<{ kind: string; status: string; n: string; attempts: string }>(
    `select kind, status, count(*) as n, sum(attempt) as attempts from rowflow.step_runs
     where run_id = $1 group by kind, status order by kind`,
    [run],
  );
  expect(rows).toEqual([
    { kind: "element", status: "succeeded", n: "10000", attempts: "10000" },
    { kind: "step", status: "succeeded", n: "3", attempts: "3" },
  ]);
  const output = await db.query<{ sum: number }>(
    "select output as sum from rowflow.step_runs where run_id = $1 and step = 'sum'",
    [run],
  );
  expect(output.rows[0]!.sum).toBe(2 * ((9_999 * 10_000) / 2));
});

it("an element failing every attempt fails the step and the run; with collect the run succeeds with the error", async () => {
  const attempts = new Map<string, number>();
  const charge = (ctx: { input: unknown; step: { name: string } }) => {
    attempts.set(ctx.step.name, (attempts.get(ctx.step.name) ?? 0) + 1);
    if (ctx.input === "bad") throw new Error("card declined");
    return `ok:${String(ctx.input)}`;
  };
  const backoff = { type: "fixed", base: "10 milliseconds", jitter: 0 } as const;
  const failing = defineWorkflow({ name: "map-fail" }).map(
    "charge",
    { over: "$.input.lines", attempts: 3, backoff, task: "charge-fail" },
    charge,
  );
  const collecting = defineWorkflow({ name: "map-collect" })
    .map(
      "charge",
      { over: "$.input.lines", attempts: 2, backoff, mapErrors: "collect", task: "charge-collect" },
      charge,
    )
    .step("report", { dependsOn: ["charge"] }, (ctx) => ctx.deps.charge.map((o) => o.ok));
  const worker = await startTestWorker(db.url, {
    concurrency: 4,
    workflows: [failing, collecting],
  });
  await stop(worker);

  const failed = await start("map-fail", { lines: ["a", "bad", "c"] });
  const collected = await start("map-collect", { lines: ["a", "bad", "c"] });
  expect(await waitFor(() => finished(failed), { timeoutMs: 30_000 })).toMatchObject({
    status: "failed",
    error: { step: "charge", error: { code: "RF072", element: 1 } },
  });
  expect(await waitFor(() => finished(collected), { timeoutMs: 30_000 })).toMatchObject({
    status: "succeeded",
  });
  const { rows } = await db.query<{
    run_id: string;
    step: string;
    attempt: number;
    status: string;
  }>(
    `select run_id, step, attempt, status from rowflow.step_runs
     where run_id = any ($1) and step = 'charge[1]' order by run_id`,
    [[failed, collected]],
  );
  expect(rows.map((r) => [r.attempt, r.status])).toEqual([
    [3, "failed"],
    [2, "failed"],
  ]);
  const report = await db.query<{ output: unknown }>(
    "select output from rowflow.step_runs where run_id = $1 and step = 'charge'",
    [collected],
  );
  expect(report.rows[0]!.output).toEqual([
    { ok: true, output: "ok:a" },
    {
      ok: false,
      error: expect.objectContaining({ message: "card declined" }) as unknown,
    },
    { ok: true, output: "ok:c" },
  ]);
});
