// The Runs page's bounded reads (src/dashboard/runs-queries.ts): with more
// runs than its window of 100,000 ids, the counts cover the newest window and
// say so, a filter that finds too few runs in a page's window stops there
// with a link that goes on below it, `scan=all` counts every run, and a text
// search looks at 20,000 ids a page. 120,000 runs written set-based.
import { afterEach, beforeAll, beforeEach, expect, it } from "vitest";

import { type Dashboard, startDashboard } from "../../src/dashboard/start-dashboard.js";
import { useTestDatabase } from "../helpers/db.js";
import { define } from "../sql/support.js";

const db = useTestDatabase();
let dashboard: Dashboard;
const runs = 120_000;

beforeAll(async () => {
  await define(db.pool, "win", { steps: [{ name: "a", task: "t" }] });
  // Every run succeeded but ids 10 and 100,010, which failed.
  await db.query(
    `insert into rowflow.runs (id, workflow, version, status, input, error, created_at, updated_at,
       started_at, finished_at)
     select i, 'win', 1, s, jsonb_build_object('n', i), case when s = 'failed' then '{"message": "x"}'::jsonb end,
       now(), now(), now(), now()
     from generate_series(1, $1::int) as i,
       lateral (select case when i in (10, 100010) then 'failed' else 'succeeded' end as s) as v`,
    [runs],
  );
});
beforeEach(async () => {
  dashboard = await startDashboard({ connectionString: db.url, port: 0 });
});
afterEach(() => dashboard.close());

const page = async (path: string) => {
  const res = await fetch(`${dashboard.url}${path}`);
  const text = await res.text();
  expect(res.status, text).toBe(200);
  return text;
};
const ids = (html: string) => [...html.matchAll(/data-run="(\d+)"/g)].map((m) => m[1]);
const next = (html: string) =>
  /id="next" href="\/\?([^"]+)"/.exec(html)?.[1]?.replace(/&amp;/g, "&");

it("counts the newest 100,000 runs and says so; scan=all counts them all", async () => {
  const first = await page("");
  expect(first).toMatch(/all 100000\b/);
  expect(first).toMatch(/failed 1\b/);
  expect(first).toContain('id="counts-window"');
  expect(first).toMatch(/of the newest 100,000 runs \(ids from 20001\)/);
  expect(ids(first)).toHaveLength(50);
  expect(ids(first)[0]).toBe(String(runs));

  const all = await page("?scan=all");
  expect(all).toMatch(/all 120000\b/);
  expect(all).toMatch(/failed 2\b/);
  expect(all).not.toContain('id="counts-window"');
});

it("stops a sparse filter at the window's end and goes on below it", async () => {
  const failed = await page("?status=failed");
  expect(ids(failed)).toEqual(["100010"]);
  expect(failed).toMatch(/looked at 100,000 runs down to id 20001/);
  expect(next(failed)).toBe("status=failed&before=20001");
  const below = await page(`?${next(failed)}`);
  expect(ids(below)).toEqual(["10"]);
  // Nothing is left below: no link.
  expect(next(below)).toBeUndefined();
});

it("searches the input: text in 20,000 ids a page, JSON by containment in 100,000", async () => {
  const text = await page("?q=%22n%22%3A%2010");
  // 10, 100 … in the newest 20,000 ids (100,001–120,000) that contain `"n": 10`.
  const found = ids(text);
  expect(found.every((id) => id!.startsWith("10"))).toBe(true);
  expect(found[0]).toBe("109999");
  const json = await page(`?q=${encodeURIComponent('{"n": 100010}')}`);
  expect(ids(json)).toEqual(["100010"]);
  expect(json).toMatch(/looked at 100,000 runs down to id 20001/);
  const sparse = await page(`?q=${encodeURIComponent('{"n": 10}')}`);
  expect(ids(sparse)).toEqual([]);
  expect(sparse).toMatch(/No runs match/);
  expect(next(sparse)).toBe(new URLSearchParams({ q: '{"n": 10}', before: "20001" }).toString());
});
