// The run page links a child step to its child run and a child run to its
// parent (src/dashboard/pages/run.ts, queries.ts). Rows put in place with
// the SQL functions; the page fetched as a browser would.
import { afterEach, expect, it } from "vitest";

import { type Dashboard, startDashboard } from "../../src/dashboard/start-dashboard.js";
import { useTestDatabase } from "../helpers/db.js";
import { define, runStep, startRun } from "../sql/support.js";
import { arm } from "../sql/waits/wait-support.js";

const db = useTestDatabase();
let dashboard: Dashboard | undefined;
afterEach(async () => {
  await dashboard?.close();
  dashboard = undefined;
});

it("links a child step to its child run, and the child run to its parent", async () => {
  await define(db.pool, "shipping", { steps: [{ name: "label", task: "t" }] });
  await define(db.pool, "order", {
    steps: [
      { name: "pack", task: "t" },
      { name: "ship", dependsOn: ["pack"], child: { workflow: "shipping" } },
    ],
  });
  const run = await startRun(db.pool, "order", {});
  await runStep(db.pool, run, "pack", {});
  const child = String((await arm(db.pool, run, "ship", new Date().toISOString())).child);
  dashboard = await startDashboard({ connectionString: db.url, port: 0 });

  const parentPage = await (await fetch(`${dashboard.url}runs/${run}`)).text();
  expect(parentPage).toContain(`<a href="/runs/${child}" data-child-run>run ${child}</a>`);
  expect(parentPage).not.toContain("data-parent-run");
  const childPage = await (await fetch(`${dashboard.url}runs/${child}`)).text();
  expect(childPage).toContain(
    `child of <a href="/runs/${run}" data-parent-run>run ${run}</a> step ship`,
  );
});
