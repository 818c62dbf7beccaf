// The designer in a real Chromium (Debian's `chromium` via playwright-core,
// as browser.test.ts): a 3-step workflow built by adding steps and dragging
// between them, a back edge rejected as a cycle on the graph (RF008) and
// removed, a step's policy set in the side panel (a wrong value shown at its
// field), saved through define_workflow and shown on the Workflows page;
// the JSON edited and the graph following; a viewer validates but cannot
// save. Screenshots go to test-results/dashboard/.
import { existsSync, mkdirSync } from "node:fs";

import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";

import { type Dashboard, startDashboard } from "../../src/dashboard/start-dashboard.js";
import { useTestDatabase } from "../helpers/db.js";
import { useLoginRoles } from "../helpers/roles.js";

const executablePath = process.env.ROWFLOW_CHROMIUM ?? "/usr/bin/chromium";
const shots = "test-results/dashboard";
const db = useTestDatabase();
const loginRole = useLoginRoles(db);
let browser: Browser;
let page: Page;
let dashboard: Dashboard | undefined;

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
  await browser?.close();
});
afterEach(async () => {
  await dashboard?.close();
  dashboard = undefined;
});

const nodes = () =>
  page
    .locator("#designer-svg g.node")
    .evaluateAll((g) => g.map((n) => n.getAttribute("data-step")));
const links = () =>
  page
    .locator("#designer-svg g.link")
    .evaluateAll((g) =>
      g.map((n) => `${n.getAttribute("data-from")}>${n.getAttribute("data-to")}`).sort(),
    );
const specText = async () => JSON.parse(await page.inputValue("#spec-json")) as unknown;
const state = () => page.locator("#check-state").textContent();

/** Presses on one step and lets go over another (pointer events, as a person drags). */
async function drag(from: string, to: string) {
  const a = await page.locator(`#designer-svg g.node[data-step="${from}"] rect`).boundingBox();
  const b = await page.locator(`#designer-svg g.node[data-step="${to}"] rect`).boundingBox();
  await page.mouse.move(a!.x + a!.width / 2, a!.y + a!.height / 2);
  await page.mouse.down();
  await page.mouse.move(b!.x + b!.width / 2, b!.y + b!.height / 2, { steps: 8 });
  await page.mouse.up();
}

/** The screen point halfway along an arrow (its box's centre may lie off a curve). */
async function arrowMiddle(fromIndex: number, toIndex: number) {
  return (await page.evaluate(`(() => {
    const path = document.querySelector('#designer-svg g.link[data-from="${fromIndex}"][data-to="${toIndex}"] path.edge');
    const p = path.getPointAtLength(path.getTotalLength() / 2);
    const s = new DOMPoint(p.x, p.y).matrixTransform(path.getScreenCTM());
    return { x: s.x, y: s.y };
  })()`)) as { x: number; y: number };
}

it("builds a workflow by dragging, rejects a cycle on the graph, saves it and shows it on the Workflows page", async () => {
  dashboard = await startDashboard({
    connectionString: db.url,
    operatorConnectionString: db.url,
    port: 0,
  });
  await page.goto(`${dashboard.url}designer`);
  await expect.poll(state).toBe("1 problem");
  expect(await page.locator("#problems li").textContent()).toBe(
    "RF003 steps: the workflow has no steps; add at least one step",
  );
  await page.fill("#wf-name", "designed");
  for (let i = 0; i < 3; i++) await page.click("#add-step");
  await expect.poll(nodes).toEqual(["step1", "step2", "step3"]);
  await expect.poll(state).toBe("valid");

  await drag("step1", "step2");
  await expect.poll(links).toEqual(["0>1"]);
  await drag("step2", "step3");
  await expect.poll(links).toEqual(["0>1", "1>2"]);
  // The back edge: step1 now depends on step3.
  await drag("step3", "step1");
  await expect.poll(() => page.locator("#designer-svg g.link.cycle").count()).toBe(3);
  expect(await page.locator("#designer-svg g.node.cycle").count()).toBe(3);
  expect(await page.locator("#problems li").count()).toBe(1);
  expect(await page.locator("#problems li").getAttribute("data-code")).toBe("RF008");
  expect(await page.locator("#problems li").textContent()).toContain(
    "dependency cycle step1 -> step2 -> step3 -> step1",
  );
  await page.screenshot({ path: `${shots}/designer-cycle.png` });

  // Click the back arrow, remove it from the panel.
  const mid = await arrowMiddle(2, 0);
  await page.mouse.click(mid.x, mid.y);
  expect(await page.locator("#panel p").textContent()).toBe("step1 depends on step3");
  await page.click("#panel button.remove-edge");
  await expect.poll(links).toEqual(["0>1", "1>2"]);
  await expect.poll(state).toBe("valid");
  expect(await page.locator("#designer-svg g.cycle").count()).toBe(0);

  // The side panel: rename a step (its dependent follows), set policies; a
  // wrong value is shown at its field with the engine's code.
  await page.click('#designer-svg g.node[data-step="step2"]');
  await page.fill('#panel input[name="name"]', "charge");
  await page.fill('#panel input[name="task"]', "payments.charge");
  await page.fill('#panel input[name="attempts"]', "0");
  await expect
    .poll(() => page.locator('#panel .field[data-field="attempts"] .field-problem').textContent())
    .toMatch(/^RF001: steps\[1\]\.attempts: /);
  await page.fill('#panel input[name="attempts"]', "5");
  await page.fill('#panel input[name="timeout"]', "30 seconds");
  await page.selectOption('#panel select[name="backoff.type"]', "fixed");
  await page.fill('#panel input[name="queue.name"]', "payments");
  await page.fill('#panel input[name="if"]', "$.input.amount > 0");
  await page.fill('#panel input[name="compensate"]', "payments.refund");
  await expect.poll(state).toBe("valid");
  await expect.poll(nodes).toEqual(["step1", "charge", "step3"]);
  const expected = {
    steps: [
      { name: "step1", task: "step1" },
      {
        name: "charge",
        task: "payments.charge",
        dependsOn: ["step1"],
        attempts: 5,
        timeout: "30 seconds",
        backoff: { type: "fixed" },
        queue: "payments",
        if: "$.input.amount > 0",
        compensate: "payments.refund",
      },
      { name: "step3", task: "step3", dependsOn: ["charge"] },
    ],
  };
  expect(await specText()).toEqual(expected);
  expect(await page.locator("#panel h2").textContent()).toBe("Step charge");
  expect(await page.locator("#problems li").textContent()).toBe(
    "None: define_workflow would accept this spec.",
  );
  await page.evaluate("window.scrollTo(0, 0)");
  await page.screenshot({ path: `${shots}/designer.png` });

  await page.click("#save");
  await expect.poll(() => page.locator("#save-state").textContent()).toBe("saved designed v1");
  const { rows } = await db.query<{ version: number; spec: unknown }>(
    "select version, spec from rowflow.workflow_versions where workflow = 'designed'",
  );
  expect(rows).toEqual([{ version: 1, spec: expected }]);

  await page.click("#save-state a");
  await page.waitForURL(/\/workflows$/);
  const section = page.locator('section.workflow[data-workflow="designed"]');
  expect(
    await section.locator("g.node").evaluateAll((n) => n.map((g) => g.getAttribute("data-step"))),
  ).toEqual(["step1", "charge", "step3"]);

  // Exported as a migration: the define_workflow call SQL runs.
  await section.locator("a.edit-in-designer").click();
  await page.waitForURL(/\/designer\?workflow=designed$/);
  await expect.poll(nodes).toEqual(["step1", "charge", "step3"]);
  await page.click("#export");
  await expect.poll(() => page.inputValue("#export-sql")).toContain("rowflow.define_workflow(");
  const sql = await page.inputValue("#export-sql");
  const literal = /select rowflow\.define_workflow\('designed', '(.*)'::jsonb\);/.exec(sql)![1]!;
  expect(JSON.parse(literal.replaceAll("''", "'"))).toEqual(expected);
  // The migration runs: the same spec, so define_workflow keeps version 1.
  await db.query(sql);
  const after = await db.query(
    "select version from rowflow.workflow_versions where workflow = 'designed'",
  );
  expect(after.rows).toEqual([{ version: 1 }]);
});

it("follows the JSON when it is edited, and lets a viewer validate but not save", async () => {
  const viewer = await loginRole("viewer", { memberOf: ["rowflow_viewer"] });
  dashboard = await startDashboard({
    connectionString: viewer.url,
    operatorConnectionString: viewer.url,
    port: 0,
  });
  await page.goto(`${dashboard.url}designer`);
  await expect.poll(state).toBe("1 problem");
  expect(await page.locator("#save").isDisabled()).toBe(true);

  const spec = {
    steps: [
      { name: "fetch", task: "fetch" },
      { name: "parse", task: "parse", dependsOn: ["fetch"] },
      { name: "store", task: "store", dependsOn: ["parse", "fetch"] },
      { name: "approve", human: { assignee: "ann", title: "Check" }, dependsOn: ["store"] },
    ],
  };
  await page.fill("#spec-json", JSON.stringify(spec, null, 2));
  await expect.poll(nodes).toEqual(["fetch", "parse", "store", "approve"]);
  expect(await links()).toEqual(["0>1", "0>2", "1>2", "2>3"]);
  expect(await page.locator('g.node[data-step="approve"] text.status').textContent()).toBe(
    "waits: human",
  );
  await expect.poll(state).toBe("valid");

  // JSON that does not parse leaves the graph as it was.
  await page.fill("#spec-json", '{"steps": [');
  await expect.poll(() => page.locator("#json-error").textContent()).toMatch(/^JSON: /);
  expect(await nodes()).toEqual(["fetch", "parse", "store", "approve"]);

  // An unknown dependency typed in the JSON is listed with its step, and marked on it.
  spec.steps[1]!.dependsOn = ["fetch", "nope"];
  await page.fill("#spec-json", JSON.stringify(spec));
  await expect.poll(state).toBe("1 problem");
  expect(await page.locator("#problems li").getAttribute("data-code")).toBe("RF006");
  expect(await page.locator('g.node[data-step="parse"]').getAttribute("class")).toContain(
    "problem",
  );
  await page.click("#problems li");
  expect(await page.locator("#panel h2").textContent()).toBe("Step parse");
  expect(
    await page.locator('#panel .field[data-field="dependsOn"] .field-problem').textContent(),
  ).toContain('RF006: steps[1].dependsOn[1]: step "parse": unknown dependency "nope"');

  // Removing a step removes it from its dependents' dependsOn too.
  await page.click("#panel button.remove-step");
  await expect.poll(nodes).toEqual(["fetch", "store", "approve"]);
  expect(((await specText()) as typeof spec).steps[1]).toEqual({
    name: "store",
    task: "store",
    dependsOn: ["fetch"],
  });
  await expect.poll(state).toBe("valid");
  expect(await links()).toEqual(["0>1", "1>2"]);
  // An arrow selected by a click goes with the Delete key.
  const mid = await arrowMiddle(0, 1);
  await page.mouse.click(mid.x, mid.y);
  await page.keyboard.press("Delete");
  await expect.poll(links).toEqual(["1>2"]);
  expect(((await specText()) as typeof spec).steps[1]).toEqual({ name: "store", task: "store" });

  // The viewer's dashboard refuses a save (403) even with the page's CSRF token.
  await page.fill("#wf-name", "viewer-made");
  const answer = (await page.evaluate(`(async () => {
    const csrf = document.querySelector('meta[name="csrf-token"]').content;
    const res = await fetch("/designer/save", { method: "POST",
      headers: { "content-type": "application/json", "x-csrf-token": csrf },
      body: JSON.stringify({ name: "viewer-made", spec: { steps: [{ name: "a", task: "a" }] } }) });
    return { status: res.status, body: await res.json() };
  })()`)) as { status: number; body: { error: string } };
  expect(answer.status).toBe(403);
  expect(answer.body.error).toContain("not a rowflow operator");
  const { rows } = await db.query("select 1 from rowflow.workflows where name = 'viewer-made'");
  expect(rows).toHaveLength(0);
});
