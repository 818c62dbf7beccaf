// A run with a map step as people read it (docs/spec.md "Map steps"): the
// dashboard's run page and `rowflow show` list the map step once, with a
// count of its elements, not one row per element.
import { afterEach, expect, it } from "vitest";

import { type Dashboard, startDashboard } from "../../src/dashboard/start-dashboard.js";
import { useTestDatabase } from "../helpers/db.js";
import { runCli } from "../helpers/run-cli.js";
import { begin, complete, define, fail, runStep, startRun } from "../sql/support.js";

const db = useTestDatabase();
let dashboard: Dashboard | undefined;
afterEach(async () => {
  await dashboard?.close();
  dashboard = undefined;
});

it("shows a map step's elements as a count on the run page and in rowflow show", async () => {
  await define(db.pool, "lines", {
    steps: [
      { name: "load", task: "t" },
      { name: "charge", task: "t", dependsOn: ["load"], map: "$.steps.load.lines", attempts: 1 },
    ],
  });
  const run = await startRun(db.pool, "lines");
  await runStep(db.pool, run, "load", { lines: Array.from({ length: 50 }, (_, i) => i) });
  for (const i of [0, 1, 2]) {
    await begin(db.pool, run, `charge[${i}]`, 1);
    await complete(db.pool, run, `charge[${i}]`, 1, i);
  }

  dashboard = await startDashboard({ connectionString: db.url, port: 0 });
  const page = await (await fetch(`${dashboard.url}runs/${run}`)).text();
  expect(page).toContain('data-step-row="charge"');
  expect(page).not.toContain('data-step-row="charge[0]"');
  expect(page).toMatch(/data-elements>3\/50 elements done</);

  const running = await runCli(["show", String(run), "--json"], { env: { DATABASE_URL: db.url } });
  expect(running.code).toBe(0);
  const shown = JSON.parse(running.stdout) as { steps: { step: string; elements: unknown }[] };
  expect(shown.steps.map((s) => [s.step, s.elements])).toEqual([
    ["load", null],
    ["charge", { total: 50, open: 47, failed: 0 }],
  ]);

  await begin(db.pool, run, "charge[3]", 1);
  await fail(db.pool, run, "charge[3]", 1);
  const text = await runCli(["show", String(run)], { env: { DATABASE_URL: db.url } });
  expect(text.code).toBe(0);
  expect(text.stdout).toMatch(/charge\s*│\s*failed \(4\/50 elements done, 1 failed\)/);
  expect(text.stdout).not.toMatch(/│\s*charge\[/);
});
