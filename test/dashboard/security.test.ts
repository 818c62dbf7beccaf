// What guards the dashboard's actions (docs/dashboard.md, "Security"): a
// POST without the page's CSRF token or from another origin is refused;
// without an operator connection (or with one whose role is no operator)
// the pages show but nothing is acted on (and the SQL refuses a viewer
// too); with one, pages read as the viewer and actions act as the
// operator; bound beyond localhost, actions need the token.
import { afterEach, expect, it } from "vitest";

import { type Dashboard, startDashboard } from "../../src/dashboard/start-dashboard.js";
import { useTestDatabase } from "../helpers/db.js";
import { useLoginRoles } from "../helpers/roles.js";
import { define, startRun } from "../sql/support.js";

const db = useTestDatabase();
const loginRole = useLoginRoles(db);
let dashboard: Dashboard | undefined;
afterEach(async () => {
  await dashboard?.close();
  dashboard = undefined;
});

async function queuedRun(): Promise<string> {
  await define(db.pool, "sec", { steps: [{ name: "a", task: "t" }] });
  return String(await startRun(db.pool, "sec"));
}

const status = async (run: string) =>
  (await db.query<{ status: string }>("select status from rowflow.runs where id = $1", [run]))
    .rows[0]?.status;

/** The page's CSRF token (its meta tag) and its HTML. */
async function open(url: string): Promise<{ csrf: string; page: string }> {
  const res = await fetch(url);
  const page = await res.text();
  expect(res.status, page).toBe(200);
  return { csrf: /name="csrf-token" content="([0-9a-f]+)"/.exec(page)![1]!, page };
}

const cancel = (
  base: string,
  run: string,
  fields: Record<string, string>,
  headers: Record<string, string> = {},
) =>
  fetch(`${base}runs/${run}/cancel`, {
    method: "POST",
    body: new URLSearchParams(fields),
    headers,
    redirect: "manual",
  });

it("refuses a POST without the CSRF token or from another origin, and acts with it", async () => {
  const run = await queuedRun();
  dashboard = await startDashboard({
    connectionString: db.url,
    operatorConnectionString: db.url,
    port: 0,
  });
  const { csrf } = await open(`${dashboard.url}runs/${run}`);

  const bare = await cancel(dashboard.url, run, {});
  expect(bare.status).toBe(403);
  expect(await bare.text()).toContain("CSRF");
  expect((await cancel(dashboard.url, run, { _csrf: "0".repeat(48) })).status).toBe(403);
  const foreign = await cancel(dashboard.url, run, { _csrf: csrf }, { origin: "http://evil.test" });
  expect(foreign.status).toBe(403);
  expect(await status(run)).toBe("running");

  const ok = await cancel(dashboard.url, run, { _csrf: csrf });
  expect(ok.status).toBe(303);
  expect(ok.headers.get("location")).toBe(`/runs/${run}?msg=cancelled`);
  expect(await status(run)).toBe("cancelled");
});

it("without an operator connection, shows everything and acts on nothing, even as a superuser", async () => {
  const run = await queuedRun();
  // The pages' role could act (a superuser), but no operator connection is configured.
  dashboard = await startDashboard({ connectionString: db.url, port: 0 });
  expect(dashboard.actionsOff).toContain("no operator connection");
  const { csrf, page } = await open(`${dashboard.url}runs/${run}`);
  expect(page).toContain('id="actions-off"');
  expect(page).toMatch(/<button type="submit"\s+disabled\s*>\s*Cancel run/);
  const refused = await cancel(dashboard.url, run, { _csrf: csrf });
  expect(refused.status).toBe(403);
  expect(await refused.text()).toContain("no operator connection");
  const bulk = await fetch(`${dashboard.url}runs/cancel-matching`, {
    method: "POST",
    body: new URLSearchParams({ _csrf: csrf }),
    redirect: "manual",
  });
  expect(bulk.status).toBe(403);
  expect(await status(run)).toBe("running");
});

it("an operator connection whose role is a viewer acts on nothing; the SQL refuses it too", async () => {
  const run = await queuedRun();
  const viewer = await loginRole("viewer", { memberOf: ["rowflow_viewer"] });
  dashboard = await startDashboard({
    connectionString: viewer.url,
    operatorConnectionString: viewer.url,
    port: 0,
  });
  expect(dashboard.actionsOff).toContain("not a rowflow operator");
  const { csrf, page } = await open(`${dashboard.url}runs/${run}`);
  expect(page).toContain('id="actions-off"');
  expect((await fetch(dashboard.url)).status).toBe(200);
  const inbox = await fetch(`${dashboard.url}inbox`);
  expect(inbox.status, await inbox.text()).toBe(200);
  expect((await fetch(`${dashboard.url}workflows`)).status).toBe(200);

  const refused = await cancel(dashboard.url, run, { _csrf: csrf });
  expect(refused.status).toBe(403);
  expect(await refused.text()).toContain("not a rowflow operator");
  await expect(viewer.query("select rowflow.cancel_run($1)", [run])).rejects.toMatchObject({
    code: "42501",
  });
  // Nor may it write the tables the pages read.
  await expect(
    viewer.query("update rowflow.runs set status = 'cancelled' where id = $1", [run]),
  ).rejects.toMatchObject({ code: "42501" });
  expect(await status(run)).toBe("running");
});

it("pages read as the viewer, actions act as the operator", async () => {
  const run = await queuedRun();
  const viewer = await loginRole("viewer", { memberOf: ["rowflow_viewer"] });
  const operator = await loginRole("operator", { memberOf: ["rowflow_operator"] });
  dashboard = await startDashboard({
    connectionString: viewer.url,
    operatorConnectionString: operator.url,
    port: 0,
  });
  expect(dashboard.actionsOff).toBeNull();
  const { csrf, page } = await open(`${dashboard.url}runs/${run}`);
  expect(page).not.toContain('id="actions-off"');
  // The pages' pool is the viewer's: its sessions are the viewer's.
  const { rows: sessions } = await db.query<{ usename: string }>(
    "select distinct usename::text from pg_stat_activity where application_name = 'rowflow dashboard'",
  );
  expect(sessions.map((r) => r.usename)).toEqual([viewer.name]);
  const ok = await cancel(dashboard.url, run, { _csrf: csrf });
  expect(ok.status).toBe(303);
  expect(await status(run)).toBe("cancelled");
  // The audit names the operator's login as who cancelled it.
  const { rows } = await db.query<{ who: string }>(
    "select session_user_name::text as who from rowflow.audit where run_id = $1 and action = 'cancel_run'",
    [run],
  );
  expect(rows.map((r) => r.who)).toEqual([operator.name]);
});

it("bound beyond localhost: no actions without --token, and with it only with the token", async () => {
  const run = await queuedRun();
  dashboard = await startDashboard({
    connectionString: db.url,
    operatorConnectionString: db.url,
    host: "0.0.0.0",
    port: 0,
  });
  expect(dashboard.actionsOff).toMatch(/beyond localhost.*without --token/);
  const port = new URL(dashboard.url).port;
  const open1 = await open(`http://127.0.0.1:${port}/runs/${run}`);
  expect((await cancel(`http://127.0.0.1:${port}/`, run, { _csrf: open1.csrf })).status).toBe(403);
  await dashboard.close();

  dashboard = await startDashboard({
    connectionString: db.url,
    operatorConnectionString: db.url,
    host: "0.0.0.0",
    port: 0,
    token: "s3cret-token",
  });
  expect(dashboard.actionsOff).toBeNull();
  const base = `http://127.0.0.1:${new URL(dashboard.url).port}/`;
  const { csrf } = await open(`${base}runs/${run}`);
  const noToken = await cancel(base, run, { _csrf: csrf });
  expect(noToken.status).toBe(403);
  expect(await noToken.text()).toContain("token");
  expect((await fetch(`${base}login?token=wrong`, { redirect: "manual" })).status).toBe(403);
  expect(await status(run)).toBe("running");

  const login = await fetch(`${base}login?token=s3cret-token`, { redirect: "manual" });
  expect(login.status).toBe(303);
  const cookie = login.headers.get("set-cookie")!.split(";")[0]!;
  expect((await cancel(base, run, { _csrf: csrf }, { cookie })).status).toBe(303);
  expect(await status(run)).toBe("cancelled");
});
