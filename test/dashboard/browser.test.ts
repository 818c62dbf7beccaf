// The dashboard in a real Chromium (Debian's `chromium`, driven by
// playwright-core with its executable path; nothing is downloaded): the runs
// list and its filter, a run's DAG turning live when a worker finishes a
// step, retry of a failed run, and a human task completed from the inbox.
// One browser for the file; screenshots go to test-results/dashboard/.
import { existsSync, mkdirSync } from "node:fs";

import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { z } from "zod";

import { type Client as RowflowClient, createClient } from "../../src/client/create-client.js";
import { startDashboard } from "../../src/dashboard/start-dashboard.js";
import { defineWorkflow } from "../../src/definition/define-workflow.js";
import type { Worker } from "../../src/worker/create-worker.js";
import { useTestDatabase } from "../helpers/db.js";
import { waitFor } from "../helpers/wait-for.js";
import { startTestWorker } from "../helpers/worker.js";

const executablePath = process.env.ROWFLOW_CHROMIUM ?? "/usr/bin/chromium";
const shots = "test-results/dashboard";
const db = useTestDatabase();
let browser: Browser;
let page: Page;
let worker: Worker;
let client: RowflowClient;
let dashboard: Awaited<ReturnType<typeof startDashboard>>;

let releaseShip: () => void = () => {};
const shipGate = new Promise<void>((resolve) => (releaseShip = resolve));
let releaseNotify: () => void = () => {};
const notifyGate = new Promise<void>((resolve) => (releaseNotify = resolve));
let payFails = true;

const shop = defineWorkflow({ name: "dash-shop", input: z.object({ order: z.number() }) })
  .step("charge", async (ctx) => ({ charged: ctx.input.order }))
  .step("pack", { dependsOn: ["charge"] }, async () => ({ packed: true }))
  .step("ship", { dependsOn: ["charge"] }, async () => {
    await shipGate;
    return { shipped: true };
  })
  .step("notify", { dependsOn: ["pack", "ship"] }, async () => {
    await notifyGate;
    return { sent: true };
  });
const flaky = defineWorkflow({ name: "dash-flaky" }).step("pay", { attempts: 1 }, async () => {
  if (payFails) throw new Error("card declined");
  return { paid: true };
});
let wobblyCalls = 0;
const wobbly = defineWorkflow({ name: "dash-wobbly" })
  .step("fetch", async () => ({ got: 1 }))
  .step(
    "post",
    { dependsOn: ["fetch"], attempts: 3, backoff: { type: "fixed", base: "200 milliseconds" } },
    async () => {
      if (++wobblyCalls < 3) throw new Error(`flaky upstream ${wobblyCalls}`);
      return { posted: true };
    },
  );
const approval = defineWorkflow({ name: "dash-approve" })
  .human("approve", {
    assignee: "ann",
    title: "Approve the refund",
    answer: z.object({ approved: z.boolean(), note: z.string() }),
  })
  .step("refund", { dependsOn: ["approve"] }, async (ctx) => ({ ok: ctx.deps.approve.approved }));

beforeAll(async () => {
  if (!existsSync(executablePath)) {
    throw new Error(
      `no Chromium at ${executablePath}: apt-get install -y chromium (or set ROWFLOW_CHROMIUM)`,
    );
  }
  mkdirSync(shots, { recursive: true });
  browser = await chromium.launch({ executablePath, args: ["--no-sandbox"] });
  page = await browser.newPage({ viewport: { width: 1280, height: 820 } });
});
afterAll(async () => {
  releaseShip();
  releaseNotify();
  await browser?.close();
});
afterEach(async () => {
  await dashboard?.close();
  await client?.close();
  await worker?.stop();
});

async function start() {
  worker = await startTestWorker(db.url, { workflows: [shop, flaky, wobbly, approval] });
  client = createClient({ connectionString: db.url, pollInterval: 50 });
  dashboard = await startDashboard({
    connectionString: db.url,
    operatorConnectionString: db.url,
    port: 0,
  });
}

/** The Gantt chart's bars: [step, attempt, outcome] in the chart's order. */
const bars = () =>
  page
    .locator("svg.gantt g.attempt")
    .evaluateAll((gs) =>
      gs.map((g) => [
        g.getAttribute("data-step"),
        g.getAttribute("data-attempt"),
        g.getAttribute("data-outcome"),
      ]),
    );
const barMs = async (step: string) =>
  Number(
    await page.locator(`svg.gantt g.attempt[data-step="${step}"]`).last().getAttribute("data-ms"),
  );

const nodeStatus = (step: string) =>
  page.locator(`svg.dag g.node[data-step="${step}"]`).getAttribute("data-status");

it("lists runs, filters them by workflow in the URL, and shows a run's DAG turning live", async () => {
  await start();
  const [a, b] = [
    await client.startRun("dash-shop", { order: 1 }),
    await client.startRun("dash-shop", { order: 2 }),
  ];
  const quick = await client.startRun("dash-approve", {});
  await page.goto(dashboard.url);
  await expect.poll(() => page.locator("table.runs tbody tr").count()).toBe(3);
  await page.selectOption('select[name="workflow"]', "dash-shop");
  await page.click('#filters button[type="submit"]');
  await page.waitForURL(/workflow=dash-shop/);
  const ids = await page
    .locator("table.runs tbody tr")
    .evaluateAll((rows) => rows.map((r) => r.getAttribute("data-run")));
  expect(ids).toEqual([b, a]);
  expect(ids).not.toContain(quick);

  await page.click(`a[href="/runs/${a}"]`);
  await page.waitForURL(new RegExp(`/runs/${a}$`));
  // The worker holds ship; charge and pack finish, notify waits for ship.
  await expect.poll(() => nodeStatus("pack"), { timeout: 15_000 }).toBe("succeeded");
  await expect.poll(() => nodeStatus("ship"), { timeout: 15_000 }).toBe("running");
  expect(await nodeStatus("notify")).toBe("pending");
  await expect
    .poll(() => page.locator("#live-state").textContent(), { timeout: 15_000 })
    .toBe("live");
  // The Gantt chart: a bar per attempt; ship's is open and grows while it runs.
  await expect.poll(bars, { timeout: 15_000 }).toEqual([
    ["charge", "1", "succeeded"],
    ["pack", "1", "succeeded"],
    ["ship", "1", "running"],
  ]);
  expect(await page.locator('svg.gantt g.attempt[data-step="ship"][data-open]').count()).toBe(1);
  const shipMs = await barMs("ship");
  await expect.poll(() => barMs("ship"), { timeout: 15_000 }).toBeGreaterThan(shipMs + 500);
  expect(await page.locator('svg.gantt g.attempt[data-step="ship"] title').textContent()).toMatch(
    /^ship, attempt 1: running\nwaited \d+ ms\nrunning for [\d.]+ s/,
  );
  await page.screenshot({ path: `${shots}/run.png`, fullPage: true });
  // A hidden tab pauses: no event stream, no polling; shown again, it catches up.
  // (A string: the tests are compiled without the DOM's types.)
  const setHidden = (hidden: boolean) =>
    page.evaluate(`Object.defineProperty(document, "hidden", { configurable: true, get: () => ${hidden} });
      document.dispatchEvent(new Event("visibilitychange"));`);
  await setHidden(true);
  expect(await page.locator("#live-state").textContent()).toBe("paused");
  releaseShip();
  await waitFor(async () => {
    const { rows } = await db.query(
      "select status from rowflow.step_runs where run_id = $1 and step = 'notify'",
      [a],
    );
    return rows[0]?.status === "running";
  });
  expect(await nodeStatus("ship")).toBe("running");
  await setHidden(false);
  // Shown again: it refetches its live parts at once, then follows the event stream again.
  await expect.poll(() => nodeStatus("ship"), { timeout: 15_000 }).toBe("succeeded");
  await expect
    .poll(() => page.locator("#live-state").textContent(), { timeout: 15_000 })
    .toBe("live");
  expect(await nodeStatus("notify")).toBe("running");
  await expect
    .poll(() => page.locator('svg.gantt g.attempt[data-step="ship"]').getAttribute("data-outcome"))
    .toBe("succeeded");
  expect(await page.locator('svg.gantt g.attempt[data-step="ship"][data-open]').count()).toBe(0);
  releaseNotify();
  // No reload, no poll: the event stream (LISTEN) tells the page, which refetches.
  await expect
    .poll(() => page.evaluate("document.body.dataset.lastChange"), { timeout: 15_000 })
    .toMatch(/"step":null,"type":"run_succeeded"|"step":"notify","type":"step_succeeded"/);
  await expect.poll(() => nodeStatus("notify"), { timeout: 15_000 }).toBe("succeeded");
  await expect
    .poll(() => page.locator("#run-status").textContent(), { timeout: 15_000 })
    .toBe("succeeded");
});

it("retries a failed run from its page and shows it succeed, polling without the event stream", async () => {
  await start();
  const run = await client.startRun("dash-flaky", {});
  expect((await client.waitForRun(run, { timeout: 15_000 })).status).toBe("failed");
  // Without the event stream (refused here) the page polls instead.
  await page.route("**/events?*", (route) => route.abort());
  await page.goto(`${dashboard.url}runs/${run}`);
  expect(await nodeStatus("pay")).toBe("failed");
  expect(await page.locator("section pre").first().textContent()).toContain("card declined");
  expect(await bars()).toEqual([["pay", "1", "failed"]]);
  payFails = false;
  await page.click('form[action$="/retry"]:has(input[value="failed"]) button');
  await page.waitForURL(/msg=retried/);
  await expect.poll(() => nodeStatus("pay"), { timeout: 15_000 }).toBe("succeeded");
  await expect
    .poll(() => page.locator("#run-status").textContent(), { timeout: 15_000 })
    .toBe("succeeded");
  expect(await page.locator("#live-state").textContent()).toBe("polling");
  // The failed attempt stays in the chart beside the retried run's attempt.
  await expect.poll(bars, { timeout: 15_000 }).toEqual([
    ["pay", "1", "failed"],
    ["pay", "1", "succeeded"],
  ]);
  await page.unroute("**/events?*");
  const { rows } = await db.query("select status from rowflow.runs where id = $1", [run]);
  expect(rows[0]?.status).toBe("succeeded");
});

it("draws each attempt of a retried step in the Gantt chart, coloured by outcome, live", async () => {
  await start();
  const run = await client.startRun("dash-wobbly", {});
  await page.goto(`${dashboard.url}runs/${run}`);
  // Live: the page was read before the retries; it follows them to the end.
  await expect.poll(bars, { timeout: 20_000 }).toEqual([
    ["fetch", "1", "succeeded"],
    ["post", "1", "retried"],
    ["post", "2", "retried"],
    ["post", "3", "succeeded"],
  ]);
  const titles = await page
    .locator('svg.gantt g.attempt[data-step="post"] title')
    .evaluateAll((ts) => ts.map((t) => t.textContent));
  expect(titles[0]).toMatch(
    /^post, attempt 1: retried\nwaited \d+ ms\ntook \d+ ms\nworker .+\nerror: flaky upstream 1$/,
  );
  expect(titles[1]).toMatch(
    /^post, attempt 2: retried\nwaited \d+ ms \(backoff until [-\d: ]+\)\ntook \d+ ms\nworker .+\nerror: flaky upstream 2$/,
  );
  // A retry waited at least its 200 ms backoff (± the 20% jitter).
  const waited = Number(/waited (\d+) ms/.exec(titles[1] ?? "")?.[1]);
  expect(waited).toBeGreaterThanOrEqual(150);
  await expect
    .poll(() => page.locator("#run-status").textContent(), { timeout: 15_000 })
    .toBe("succeeded");
  await page.waitForLoadState("networkidle");
  await page.locator("svg.gantt").screenshot({ path: `${shots}/gantt.png` });
});

it("shows failed runs in the Workflows page's chart, and narrows the runs list by a search in the input", async () => {
  await start();
  payFails = true;
  const failed = [await client.startRun("dash-flaky", {}), await client.startRun("dash-flaky", {})];
  for (const run of failed)
    expect((await client.waitForRun(run, { timeout: 15_000 })).status).toBe("failed");
  const [o41, o42] = [
    await client.startRun("dash-shop", { order: 41 }),
    await client.startRun("dash-shop", { order: 42 }),
  ];

  await page.goto(`${dashboard.url}workflows`);
  const chart = page.locator('section.workflow[data-workflow="dash-flaky"] svg.failure-chart');
  const buckets = await chart
    .locator("g.bucket")
    .evaluateAll((gs) =>
      gs.map((g) => [
        Number(g.getAttribute("data-failed")),
        Number(g.getAttribute("data-succeeded")),
      ]),
    );
  expect(buckets).toHaveLength(24);
  // This file's dash-flaky runs: the two that failed now, the one retried to success before.
  expect(buckets.reduce((a, [f]) => a + f!, 0)).toBe(2);
  expect(buckets.reduce((a, [, s]) => a + s!, 0)).toBe(1);
  expect(await chart.locator("g.bucket rect.b-failed").count()).toBeGreaterThanOrEqual(1);
  expect(
    await page
      .locator('section.workflow[data-workflow="dash-flaky"] .failures .muted')
      .textContent()
      .then((t) => t?.replace(/\s+/g, " ")),
  ).toMatch(/last 24 h, hourly: 2 failed of 3 finished \(66\.7%\)/);
  await page.screenshot({ path: `${shots}/workflows.png`, fullPage: true });

  const listed = () =>
    page
      .locator("table.runs tbody tr")
      .evaluateAll((rows) => rows.map((r) => r.getAttribute("data-run")));
  await page.goto(dashboard.url);
  expect((await listed()).length).toBeGreaterThan(4);
  await page.fill('#filters input[name="q"]', "42");
  await page.click('#filters button[type="submit"]');
  await page.waitForURL(/q=42/);
  expect(await listed()).toEqual([o42]);
  expect(await page.locator("#counts").textContent()).toMatch(/all 1\b/);
  // A JSON object is matched by containment.
  await page.fill('#filters input[name="q"]', '{"order": 41}');
  await page.click('#filters button[type="submit"]');
  await page.waitForURL(/q=%7B/);
  expect(await listed()).toEqual([o41]);
  expect(await page.locator("#no-matching").count()).toBe(1);
});

it("completes a human task from the inbox with its form", async () => {
  await start();
  const run = await client.startRun("dash-approve", {});
  await waitFor(async () => (await client.tasks({ assignee: "ann" })).some((t) => t.runId === run));
  await page.goto(`${dashboard.url}inbox?assignee=ann`);
  const task = page.locator("article.task").filter({ hasText: `run ${run}` });
  await task.locator('input[name="f.approved"]').check();
  await task.locator('input[name="f.note"]').fill("fine by me");
  await task.locator('button:has-text("Complete")').click();
  await page.waitForURL(/msg=task/);
  expect(await page.locator("#message").textContent()).toContain("done by ann");
  const done = await client.waitForRun(run, { timeout: 15_000 });
  expect(done.status).toBe("succeeded");
  expect(done.steps.find((s) => s.step === "approve")?.output).toEqual({
    approved: true,
    note: "fine by me",
  });
  await page.goto(dashboard.url);
  await page.goto(`${dashboard.url}workflows`);
  const approve = page.locator('section.workflow[data-workflow="dash-approve"]');
  expect(
    await approve.locator("g.node").evaluateAll((n) => n.map((g) => g.getAttribute("data-step"))),
  ).toEqual(["approve", "refund"]);
  expect(await approve.locator(".counts").textContent()).toMatch(/succeeded 1/);
  await page.goto(dashboard.url);
  await page.screenshot({
    path: `${shots}/runs.png`,
    clip: { x: 0, y: 0, width: 1280, height: 420 },
  });
});
