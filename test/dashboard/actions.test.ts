// The dashboard's actions beyond the browser test's retry and complete
// (src/dashboard/actions.ts, bulk-actions.ts): skip a step and rerun from
// it; cancel every active run a filter selects and retry the ticked runs,
// leaving other runs alone. Plain POSTs with the page's CSRF token, as its
// forms send.
import { afterEach, expect, it } from "vitest";

import { type Dashboard, startDashboard } from "../../src/dashboard/start-dashboard.js";
import { useTestDatabase } from "../helpers/db.js";
import { define, runStep, startRun, statuses as stepStatuses } from "../sql/support.js";

const db = useTestDatabase();
let dashboard: Dashboard | undefined;
afterEach(async () => {
  await dashboard?.close();
  dashboard = undefined;
});

const statuses = async (ids: string[]) =>
  (
    await db.query<{ status: string }>(
      "select status from rowflow.runs where id = any ($1::bigint[]) order by id",
      [ids],
    )
  ).rows.map((r) => r.status);

it("cancels the runs a filter selects, then retries the ticked ones", async () => {
  await define(db.pool, "bulk-a", { steps: [{ name: "a", task: "t" }] });
  await define(db.pool, "bulk-b", { steps: [{ name: "a", task: "t" }] });
  const a = [
    String(await startRun(db.pool, "bulk-a")),
    String(await startRun(db.pool, "bulk-a")),
    String(await startRun(db.pool, "bulk-a")),
  ];
  const b = String(await startRun(db.pool, "bulk-b"));
  dashboard = await startDashboard({
    connectionString: db.url,
    operatorConnectionString: db.url,
    port: 0,
  });
  const page = await (await fetch(`${dashboard.url}?workflow=bulk-a`)).text();
  const csrf = /name="csrf-token" content="([0-9a-f]+)"/.exec(page)![1]!;
  // The list has a checkbox per run.
  expect(page).toMatch(new RegExp(`name="run"\\s+value="${a[0]}"`));

  const post = (path: string, body: URLSearchParams) =>
    fetch(`${dashboard!.url}${path}`, { method: "POST", body, redirect: "manual" });
  const cancelled = await post(
    "runs/cancel-matching",
    new URLSearchParams({ _csrf: csrf, workflow: "bulk-a" }),
  );
  expect(cancelled.status).toBe(303);
  expect(decodeURIComponent(cancelled.headers.get("location")!)).toBe(
    "/?workflow=bulk-a&msg=cancel: 3 matched, 3 cancelled",
  );
  expect(await statuses([...a, b])).toEqual(["cancelled", "cancelled", "cancelled", "running"]);

  const ticked = new URLSearchParams({ _csrf: csrf, workflow: "bulk-a", do: "retry" });
  ticked.append("run", a[0]!);
  ticked.append("run", a[2]!);
  const retried = await post("runs/selected", ticked);
  expect(decodeURIComponent(retried.headers.get("location")!)).toContain(
    "msg=2 of 2 selected runs retried",
  );
  expect(await statuses(a)).toEqual(["running", "cancelled", "running"]);
  expect((await post("runs/selected", new URLSearchParams({ run: a[1]! }))).status).toBe(403);
});

it("skips a step, then reruns the finished run from a step into a new run", async () => {
  await define(db.pool, "pair", {
    steps: [
      { name: "a", task: "t" },
      { name: "b", task: "t", dependsOn: ["a"] },
    ],
  });
  const run = await startRun(db.pool, "pair");
  dashboard = await startDashboard({
    connectionString: db.url,
    operatorConnectionString: db.url,
    port: 0,
  });
  const page = await (await fetch(`${dashboard.url}runs/${run}`)).text();
  const csrf = /name="csrf-token" content="([0-9a-f]+)"/.exec(page)![1]!;
  const post = (path: string, fields: Record<string, string>) =>
    fetch(`${dashboard!.url}runs/${run}/${path}`, {
      method: "POST",
      body: new URLSearchParams({ _csrf: csrf, ...fields }),
      redirect: "manual",
    });

  await runStep(db.pool, run, "a", { done: true });
  const skipped = await post("skip", { step: "b" });
  expect(decodeURIComponent(skipped.headers.get("location")!)).toBe(`/runs/${run}?msg=skipped b`);
  expect(await stepStatuses(db.pool, run)).toEqual({ a: "succeeded", b: "skipped" });

  const rerun = await post("rerun", { step: "b" });
  const to = /^\/runs\/(\d+)\?msg=/.exec(rerun.headers.get("location")!)?.[1];
  expect(to).toBeDefined();
  expect(Number(to)).not.toBe(run);
  const { rows } = await db.query("select rerun_of::int as of from rowflow.runs where id = $1", [
    to,
  ]);
  expect(rows[0]).toEqual({ of: run });
  expect(await stepStatuses(db.pool, Number(to))).toMatchObject({ a: "succeeded", b: "queued" });

  // A refusal of the SQL comes back with its code: a step the version does not have.
  const wrong = await post("rerun", { step: "nope" });
  expect(wrong.status).toBe(409);
  expect(await wrong.text()).toContain("[RF041]");
});
