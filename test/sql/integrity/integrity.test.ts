// Integrity checks of issue #13 (docs/sql-api.md): a run of a workflow
// version that does not exist fails when claimed (RF025) instead of running
// forever; a step output over rowflow.max_output_bytes is refused
// ("output_too_large") and changes nothing; runs.started_by records who
// started a run, and rowflow.visible_runs shows an app its own runs only.
import { describe, expect, it } from "vitest";

import { useTestDatabase } from "../../helpers/db.js";
import { useLoginRoles } from "../../helpers/roles.js";
import { begin, claimAll, complete, define, expectSqlError, queueRun, runRow } from "../support.js";

const db = useTestDatabase();
const loginRole = useLoginRoles(db);

describe("runs and workflow versions", () => {
  it("a run inserted with a version that does not exist fails at claim, RF025, with its event", async () => {
    await db.rollback(async (c) => {
      await define(c, "real", { steps: [{ name: "a", task: "t" }] });
      const { rows } = await c.query<{ id: number }>(
        `insert into rowflow.runs (workflow, version, status, input, created_at, updated_at)
         values ('real', 9, 'queued', '{}', now(), now()), ('ghost', 1, 'queued', '{}', now(), now())
         returning id::int`,
      );
      const good = await queueRun(c, "real");
      expect(await claimAll(c)).toMatchObject({ runs: 1 });
      for (const { id } of rows) {
        const run = await runRow(c, id);
        expect(run.status).toBe("failed");
        expect(run.error).toMatchObject({
          code: "RF025",
          message: expect.stringMatching(/has no version/),
        });
        const { rows: events } = await c.query(
          "select type from rowflow.events where run_id = $1",
          [id],
        );
        expect(events).toEqual([{ type: "run_failed" }]);
        const { rows: steps } = await c.query(
          "select count(*)::int as n from rowflow.step_runs where run_id = $1",
          [id],
        );
        expect(steps).toEqual([{ n: 0 }]);
      }
      expect((await runRow(c, good)).status).toBe("running");
    });
  });
});

describe("step outputs are limited like inputs", () => {
  it("an output over rowflow.max_output_bytes is refused and changes nothing; at the limit it is stored", async () => {
    await db.rollback(async (c) => {
      await define(c, "big", { steps: [{ name: "a", task: "t" }] });
      const run = await queueRun(c, "big");
      await claimAll(c);
      expect(await begin(c, run, "a")).toMatchObject({ ok: true });
      await c.query("set local rowflow.max_output_bytes = 100");
      const big = { s: "x".repeat(100) }; // {"s": "x…"}: 109 bytes of JSON text
      expect(await complete(c, run, "a", 1, big)).toMatchObject({
        ok: false,
        reason: "output_too_large",
        bytes: 109,
        limit: 100,
      });
      const { rows } = await c.query(
        "select status, output from rowflow.step_runs where run_id = $1",
        [run],
      );
      expect(rows).toEqual([{ status: "running", output: null }]);
      expect(await complete(c, run, "a", 1, { s: "x".repeat(90) })).toMatchObject({ ok: true });
    });
  });

  it("the default limit is 1 MiB of JSON text", async () => {
    await db.rollback(async (c) => {
      await define(c, "big", { steps: [{ name: "a", task: "t" }] });
      const run = await queueRun(c, "big");
      await claimAll(c);
      await begin(c, run, "a");
      const { rows } = await c.query<{ r: unknown }>(
        `select rowflow.complete_step(run_id => $1, step => 'a', attempt => 1,
                                      output => jsonb_build_object('s', repeat('x', 1048576))) as r`,
        [run],
      );
      expect(rows[0]!.r).toMatchObject({ ok: false, reason: "output_too_large", limit: 1048576 });
    });
  });
});

describe("who sees and cancels a run", () => {
  it("an app sees and cancels the runs its session started; a viewer sees all; others neither", async () => {
    const app = await loginRole("app", { memberOf: ["rowflow_app"] });
    const other = await loginRole("app2", { memberOf: ["rowflow_app"] });
    const viewer = await loginRole("viewer", { memberOf: ["rowflow_viewer"] });
    const operator = await loginRole("operator", { memberOf: ["rowflow_operator"] });
    await define(db.pool, "mine", { steps: [{ name: "a", task: "t" }] });
    const start = async (role: typeof app) =>
      Number(
        (
          await role.query<{ id: string }>(
            "select rowflow.start_run('mine', '{\"secret\": 1}') as id",
          )
        ).rows[0]!.id,
      );
    const mine = await start(app);
    const theirs = await start(other);
    const visible = async (role: typeof app) =>
      (
        await role.query<{ id: number }>(
          "select id::int from rowflow.visible_runs where workflow = 'mine' order by id",
        )
      ).rows.map((r) => r.id);
    expect(await visible(app)).toEqual([mine]);
    expect(await visible(other)).toEqual([theirs]);
    expect(await visible(viewer)).toEqual([mine, theirs]);
    expect(await visible(operator)).toEqual([mine, theirs]);
    const { rows: started } = await db.query(
      "select started_by from rowflow.runs where id = any($1::bigint[]) order by id",
      [[mine, theirs]],
    );
    expect(started).toEqual([{ started_by: app.name }, { started_by: other.name }]);
    // A condition of the caller's query cannot see past the view (security_barrier).
    expect(
      (await app.query("select id from rowflow.visible_runs where id = $1", [theirs])).rows,
    ).toEqual([]);
    await expectSqlError(
      app.query("select rowflow.cancel_run($1)", [theirs]),
      "42501",
      new RegExp(`^permission denied: run ${theirs} was not started by ${app.name}$`),
    );
    expect((await app.query("select rowflow.cancel_run($1) as ok", [mine])).rows).toEqual([
      { ok: true },
    ]);
    expect((await operator.query("select rowflow.cancel_run($1) as ok", [theirs])).rows).toEqual([
      { ok: true },
    ]);
    await expectSqlError(
      viewer.query("select rowflow.cancel_run($1)", [theirs]),
      "42501",
      /^permission denied for function cancel_run$/,
    );
  });
});
