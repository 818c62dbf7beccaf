// The Runs page's bulk actions (src/dashboard/bulk-actions.ts): cancel every
// active run a filter selects, and retry the ticked runs; other runs are
// left alone. Plain POSTs with the page's CSRF token, as its forms send.
import { afterEach, expect, it } from "vitest";

import { type Dashboard, startDashboard } from "../../src/dashboard/start-dashboard.js";
import { useTestDatabase } from "../helpers/db.js";
import { define, startRun } from "../sql/support.js";

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
  dashboard = await startDashboard({ connectionString: db.url, port: 0 });
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
