// rowflow.run_counts(workflow, since): one row of counts by status, over the
// runs the caller may see (rowflow.visible_runs).
import { beforeAll, expect, it } from "vitest";

import { useTestDatabase } from "../../helpers/db.js";
import { useLoginRoles } from "../../helpers/roles.js";
import { insertRun } from "../factories.js";
import { define } from "../support.js";

const db = useTestDatabase();
const loginRole = useLoginRoles(db);

const counts = `select total::int, active::int, queued::int, running::int, compensating::int,
                       succeeded::int, failed::int, cancelled::int
                from rowflow.run_counts(workflow => $1, since => $2)`;

beforeAll(async () => {
  await define(db.pool, "a", { steps: [{ name: "s", task: "t" }] });
  await define(db.pool, "b", { steps: [{ name: "s", task: "t" }] });
  const old = "2026-01-01T00:00:00Z";
  const recent = "2026-06-01T00:00:00Z";
  await insertRun(db.pool, { workflow: "a", status: "queued", at: old });
  await insertRun(db.pool, { workflow: "a", steps: { s: "running" }, at: recent });
  await insertRun(db.pool, {
    workflow: "a",
    status: "compensating",
    error: { message: "x" },
    steps: { s: "failed" },
    at: recent,
  });
  await insertRun(db.pool, {
    workflow: "a",
    status: "succeeded",
    steps: { s: "succeeded" },
    at: recent,
  });
  await insertRun(db.pool, {
    workflow: "a",
    status: "succeeded",
    steps: { s: "succeeded" },
    at: old,
  });
  await insertRun(db.pool, {
    workflow: "a",
    status: "failed",
    error: { message: "x" },
    steps: { s: "failed" },
    at: recent,
  });
  await insertRun(db.pool, {
    workflow: "b",
    status: "cancelled",
    at: recent,
    error: { message: "c" },
  });
});

it("counts every status of one workflow, of all, and since a time", async () => {
  const all = await db.query(counts, [null, null]);
  expect(all.rows).toEqual([
    {
      total: 7,
      active: 3,
      queued: 1,
      running: 1,
      compensating: 1,
      succeeded: 2,
      failed: 1,
      cancelled: 1,
    },
  ]);
  const a = await db.query(counts, ["a", null]);
  expect(a.rows[0]).toMatchObject({ total: 6, active: 3, cancelled: 0 });
  const recentA = await db.query(counts, ["a", "2026-06-01T00:00:00Z"]);
  expect(recentA.rows).toEqual([
    {
      total: 4,
      active: 2,
      queued: 0,
      running: 1,
      compensating: 1,
      succeeded: 1,
      failed: 1,
      cancelled: 0,
    },
  ]);
});

it("answers one row of zeros when nothing matches", async () => {
  const none = await db.query(counts, ["nope", null]);
  expect(none.rows).toEqual([
    {
      total: 0,
      active: 0,
      queued: 0,
      running: 0,
      compensating: 0,
      succeeded: 0,
      failed: 0,
      cancelled: 0,
    },
  ]);
});

it("counts only the runs an app may see: those its session started", async () => {
  const app = await loginRole("app", { memberOf: ["rowflow_app"] });
  await app.query("select rowflow.start_run('b', '{}'::jsonb)");
  const seen = await app.query(counts, [null, null]);
  expect(seen.rows).toEqual([
    {
      total: 1,
      active: 1,
      queued: 1,
      running: 0,
      compensating: 0,
      succeeded: 0,
      failed: 0,
      cancelled: 0,
    },
  ]);
  const viewer = await loginRole("viewer", { memberOf: ["rowflow_viewer"] });
  expect((await viewer.query(counts, ["b", null])).rows[0]).toMatchObject({ total: 2, active: 1 });
});
