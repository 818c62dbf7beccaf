// The worker's Prometheus endpoint (`metrics` option, src/metrics/): scraped
// while a real worker drains runs (its handlers held until the first scrape),
// then once the drain is done, when every counter must equal what the
// database holds: attempts by task and outcome, runs by workflow and status,
// and no ready step left.
import { afterEach, describe, expect, it } from "vitest";

import { createClient } from "../../../src/client/create-client.js";
import { createWorker } from "../../../src/worker/create-worker.js";
import { useTestDatabase } from "../../helpers/db.js";
import { byLabels, type Sample, samplesOf, scrape, sumOf } from "../../helpers/prometheus-text.js";
import { waitFor } from "../../helpers/wait-for.js";
import { startTestWorker } from "../../helpers/worker.js";

const db = useTestDatabase();
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()?.();
});

const fast = { type: "fixed", base: "10 ms" };

async function define(name: string, spec: unknown): Promise<void> {
  await db.query("select rowflow.define_workflow(name => $1, spec => $2::jsonb)", [
    name,
    JSON.stringify(spec),
  ]);
}

/** What the database says the attempts were: `{ "task/outcome": n }`. */
async function attemptsInDatabase(): Promise<Record<string, number>> {
  const { rows } = await db.query<{ key: string; n: number }>(
    `with steps as (
       select ws.task, sr.run_id, sr.step, sr.status
       from rowflow.step_runs as sr
       join rowflow.runs as r on r.id = sr.run_id
       join rowflow.workflow_steps as ws on ws.workflow = r.workflow and ws.version = r.version and ws.name = sr.step)
     select task || '/' || status as key, count(*)::int as n
     from steps where status in ('succeeded', 'failed') group by task, status
     union all
     select s.task || '/retrying', count(*)::int
     from rowflow.events as e join steps as s on s.run_id = e.run_id and s.step = e.step
     where e.type = 'step_retrying' group by s.task`,
  );
  return Object.fromEntries(rows.map((r) => [r.key, r.n]));
}

/** What the database says the runs are: `{ "workflow/status": n }`. */
async function runsInDatabase(): Promise<Record<string, number>> {
  const { rows } = await db.query<{ key: string; n: number }>(
    "select workflow || '/' || status as key, count(*)::int as n from rowflow.runs group by 1",
  );
  return Object.fromEntries(rows.map((r) => [r.key, r.n]));
}

const attemptsScraped = (samples: Sample[]) =>
  byLabels(samples, "rowflow_step_attempts_total", ["task", "outcome"]);

describe("the worker's /metrics", () => {
  it("during a drain shows busy slots and the ready backlog; after it, counters equal the database", async () => {
    await define("m-chain", {
      steps: [
        { name: "a", task: "m.ok" },
        { name: "b", task: "m.ok", dependsOn: ["a"] },
        { name: "c", task: "m.ok", dependsOn: ["b"] },
      ],
    });
    await define("m-flaky", {
      steps: [{ name: "flaky", task: "m.flaky", attempts: 3, backoff: fast }],
    });
    await define("m-broken", {
      steps: [{ name: "boom", task: "m.broken", attempts: 2, backoff: fast }],
    });
    const client = createClient({ connectionString: db.url, pollInterval: 50 });
    cleanup.push(() => client.close());
    const chains = await client.startRuns(
      "m-chain",
      Array.from({ length: 12 }, () => ({})),
    );
    const flaky = await client.startRuns(
      "m-flaky",
      Array.from({ length: 3 }, () => ({})),
    );
    const broken = await client.startRuns(
      "m-broken",
      Array.from({ length: 2 }, () => ({})),
    );

    // m.ok handlers wait until the test has scraped the busy worker.
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const worker = await startTestWorker(db.url, {
      concurrency: 4,
      syncWorkflows: false,
      metrics: { port: 0, cacheMs: 0 },
      tasks: {
        "m.ok": async () => {
          await released;
          return { ok: true };
        },
        "m.flaky": (ctx) => {
          if (ctx.attempt === 1) throw new Error("first attempt fails");
          return { attempt: ctx.attempt };
        },
        "m.broken": () => {
          throw new Error("always fails");
        },
      },
    });
    cleanup.push(() => worker.stop());
    const url = worker.metricsUrl!;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);

    // All four slots end up held by m.ok roots (the other tasks never block);
    // from then on nothing of m.ok moves until the test releases them.
    await waitFor(async () => {
      const { rows } = await db.query<{ n: number }>(
        `select count(*)::int as n from rowflow.step_runs as sr join rowflow.runs as r on r.id = sr.run_id
         where r.workflow = 'm-chain' and sr.status = 'running'`,
      );
      return rows[0]!.n === 4;
    });
    const during = await scrape(url);
    expect(sumOf(during, "rowflow_handler_slots_busy")).toBe(4);
    expect(sumOf(during, "rowflow_handler_slots")).toBe(4);
    // Four chain roots run; every other chain's root is ready (a queued run's
    // root, a job, or reserved): nothing of m.ok moves while they are held.
    expect(sumOf(during, "rowflow_ready_steps", { task: "m.ok" })).toBe(chains.length - 4);
    const age = samplesOf(during, "rowflow_oldest_ready_step_age_seconds", { task: "m.ok" });
    expect(age.length).toBe(1);
    expect(age[0]!.value).toBeGreaterThanOrEqual(0);
    expect(sumOf(during, "rowflow_runs_started_total", { workflow: "m-chain" })).toBe(12);
    expect(
      sumOf(during, "rowflow_runs_active", { workflow: "m-chain", status: "running" }) +
        sumOf(during, "rowflow_runs_active", { workflow: "m-chain", status: "queued" }),
    ).toBe(12);
    expect(sumOf(during, "rowflow_workers_live")).toBe(1);
    expect(samplesOf(during, "rowflow_worker_heartbeat_age_seconds").map((s) => s.labels)).toEqual([
      { worker: worker.id },
    ]);

    release();
    for (const id of [...chains, ...flaky, ...broken])
      await client.waitForRun(id, { timeout: 20_000 });

    // The last attempts are counted just after their commits, and their
    // slots freed just after that: wait for both, then compare it all.
    const expectedAttempts = await attemptsInDatabase();
    const total = Object.values(expectedAttempts).reduce((a, b) => a + b, 0);
    const after = await waitFor(async () => {
      const s = await scrape(url);
      return (
        sumOf(s, "rowflow_step_attempts_total") === total &&
        sumOf(s, "rowflow_handler_slots_busy") === 0 &&
        s
      );
    });
    expect(expectedAttempts).toEqual({
      "m.ok/succeeded": 36,
      "m.flaky/succeeded": 3,
      "m.flaky/retrying": 3,
      "m.broken/retrying": 2,
      "m.broken/failed": 2,
    });
    expect(attemptsScraped(after)).toEqual(expectedAttempts);
    expect(
      byLabels(after, "rowflow_step_attempt_duration_seconds_count", ["task", "outcome"]),
    ).toEqual(expectedAttempts);
    // Each attempt made one complete or one fail call; claims happened.
    expect(sumOf(after, "rowflow_gate_duration_seconds_count", { call: "complete" })).toBe(39);
    expect(sumOf(after, "rowflow_gate_duration_seconds_count", { call: "fail" })).toBe(7);
    expect(sumOf(after, "rowflow_claim_duration_seconds_count")).toBeGreaterThan(0);

    const runs = await runsInDatabase();
    expect(runs).toEqual({ "m-chain/succeeded": 12, "m-flaky/succeeded": 3, "m-broken/failed": 2 });
    // Every finished status of every workflow, 0 included.
    expect(byLabels(after, "rowflow_runs_finished_total", ["workflow", "status"])).toEqual({
      "m-chain/succeeded": 12,
      "m-chain/failed": 0,
      "m-chain/cancelled": 0,
      "m-flaky/succeeded": 3,
      "m-flaky/failed": 0,
      "m-flaky/cancelled": 0,
      "m-broken/succeeded": 0,
      "m-broken/failed": 2,
      "m-broken/cancelled": 0,
    });
    expect(byLabels(after, "rowflow_runs_started_total", ["workflow"])).toEqual({
      "m-chain": 12,
      "m-flaky": 3,
      "m-broken": 2,
    });
    expect(samplesOf(after, "rowflow_runs_active")).toEqual([]);
    // The queue is empty again: no ready series at all.
    expect(samplesOf(after, "rowflow_ready_steps")).toEqual([]);
    expect(samplesOf(after, "rowflow_oldest_ready_step_age_seconds")).toEqual([]);
    expect(sumOf(after, "rowflow_handler_slots_busy")).toBe(0);
  });

  it("counts a failing step in the failure counters, by its task", async () => {
    await define("m-fails", {
      steps: [{ name: "only", task: "m.fails", attempts: 1 }],
    });
    const worker = await startTestWorker(db.url, {
      syncWorkflows: false,
      metrics: { port: 0, database: false },
      tasks: {
        "m.fails": () => {
          throw new Error("no");
        },
      },
    });
    cleanup.push(() => worker.stop());
    const before = await scrape(worker.metricsUrl!);
    expect(samplesOf(before, "rowflow_step_attempts_total")).toEqual([]);
    // database: false leaves the database series out.
    expect(samplesOf(before, "rowflow_runs_started_total")).toEqual([]);
    const client = createClient({ connectionString: db.url, pollInterval: 50 });
    cleanup.push(() => client.close());
    const [run] = await client.startRuns("m-fails", [{}]);
    expect((await client.waitForRun(run!, { timeout: 20_000 })).status).toBe("failed");
    const after = await waitFor(async () => {
      const s = await scrape(worker.metricsUrl!);
      return sumOf(s, "rowflow_step_attempts_total") === 1 && s;
    });
    expect(attemptsScraped(after)).toEqual({ "m.fails/failed": 1 });
    expect(sumOf(after, "rowflow_gate_duration_seconds_count", { call: "fail" })).toBe(1);
    expect(sumOf(after, "rowflow_gate_duration_seconds_count", { call: "complete" })).toBe(0);
  });

  it("answers 404 beside /metrics, and is closed when the worker stops", async () => {
    const worker = await startTestWorker(db.url, {
      syncWorkflows: false,
      metrics: { port: 0, database: false },
      tasks: {},
    });
    const url = worker.metricsUrl!;
    expect((await fetch(url.replace(/\/metrics$/, "/"))).status).toBe(404);
    expect((await fetch(url, { method: "POST" })).status).toBe(405);
    await worker.stop();
    await expect(fetch(url)).rejects.toThrow();
  });

  it("refuses a bad metrics port at creation", () => {
    expect(() =>
      createWorker({ connectionString: db.url, tasks: {}, metrics: { port: 70_000 } }),
    ).toThrow("createWorker: metrics.port must be an integer from 0 to 65535, got 70000");
  });
});
