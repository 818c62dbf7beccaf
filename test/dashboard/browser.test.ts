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
  worker = await startTestWorker(db.url, { workflows: [shop, flaky, approval] });
  client = createClient({ connectionString: db.url, pollInterval: 50 });
  dashboard = await startDashboard({
    connectionString: db.url,
    operatorConnectionString: db.url,
    port: 0,
  });
}

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
  await page.screenshot({ path: `${shots}/run.png` });
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
  payFails = false;
  await page.click('form[action$="/retry"]:has(input[value="failed"]) button');
  await page.waitForURL(/msg=retried/);
  await expect.poll(() => nodeStatus("pay"), { timeout: 15_000 }).toBe("succeeded");
  await expect
    .poll(() => page.locator("#run-status").textContent(), { timeout: 15_000 })
    .toBe("succeeded");
  expect(await page.locator("#live-state").textContent()).toBe("polling");
  await page.unroute("**/events?*");
  const { rows } = await db.query("select status from rowflow.runs where id = $1", [run]);
  expect(rows[0]?.status).toBe("succeeded");
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
  await page.screenshot({ path: `${shots}/workflows.png`, fullPage: true });
  await page.goto(dashboard.url);
  await page.screenshot({
    path: `${shots}/runs.png`,
    clip: { x: 0, y: 0, width: 1280, height: 420 },
  });
});
