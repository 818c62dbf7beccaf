// sql/schema/20_tables/21_step_runs.sql: the state rules of step_runs are one CHECK (step_run_is_valid)
// calling a plpgsql function; a violated rule raises SQLSTATE 23514 with the
// rule's old constraint name as the error's constraint, and says what is
// wrong. runs keep one named CHECK per rule (cheaper for the one-row INSERT
// of an attached write).
import type pg from "pg";
import { describe, expect, it } from "vitest";

import { useTestDatabase } from "../../helpers/db.js";
import { define, queueRun, startRun } from "../support.js";

const db = useTestDatabase();

/** Runs `sql` in a savepoint; returns the error's fields (or undefined when it succeeded). */
async function violation(c: pg.PoolClient, sql: string, values: unknown[] = []) {
  await c.query("savepoint rule");
  try {
    await c.query(sql, values);
    return undefined;
  } catch (error) {
    const e = error as pg.DatabaseError;
    return { code: e.code, constraint: e.constraint, table: e.table, message: e.message };
  } finally {
    await c.query("rollback to savepoint rule");
  }
}

describe("state rules", () => {
  it("runs has a named CHECK per rule, step_runs one CHECK step_run_is_valid", async () => {
    const { rows } = await db.query(
      `select conrelid::regclass::text as tbl, conname from pg_constraint
       where contype = 'c' and conrelid in ('rowflow.runs'::regclass, 'rowflow.step_runs'::regclass)
       order by 1, 2`,
    );
    expect(rows).toEqual([
      { tbl: "rowflow.runs", conname: "error_matches_status" },
      { tbl: "rowflow.runs", conname: "finished_at_matches_status" },
      { tbl: "rowflow.runs", conname: "input_is_object" },
      { tbl: "rowflow.runs", conname: "started_at_matches_status" },
      { tbl: "rowflow.runs", conname: "status_is_valid" },
      { tbl: "rowflow.step_runs", conname: "step_run_is_valid" },
    ]);
  });

  it("rowflow.runs: every rule raises 23514 naming it", async () => {
    await db.rollback(async (c) => {
      await define(c, "rules", { steps: [{ name: "a", task: "t" }] });
      // In this order: startRun claims every queued run.
      const running = await startRun(c, "rules");
      const queued = await queueRun(c, "rules");
      const run = (rule: string) => ({
        code: "23514",
        constraint: rule,
        table: "runs",
        message: `new row for relation "runs" violates check constraint "${rule}"`,
      });
      const upd = (set: string, id: number) =>
        violation(c, `update rowflow.runs set ${set} where id = $1`, [id]);
      expect(await upd("status = 'bogus'", running)).toEqual(run("status_is_valid"));
      expect(await upd("status = 'succeeded'", running)).toEqual(run("finished_at_matches_status"));
      expect(await upd("finished_at = now()", running)).toEqual(run("finished_at_matches_status"));
      expect(await upd("started_at = now()", queued)).toEqual(run("started_at_matches_status"));
      expect(await upd("started_at = null", running)).toEqual(run("started_at_matches_status"));
      expect(await upd("status = 'running'", queued)).toEqual(run("started_at_matches_status"));
      expect(await upd(`input = '[1]'`, running)).toEqual(run("input_is_object"));
      expect(await upd(`error = '{"x": 1}'`, running)).toEqual(run("error_matches_status"));
      // Allowed: a run cancelled while queued never started.
      expect(
        await upd("status = 'cancelled', finished_at = now(), error = '{}'", queued),
      ).toBeUndefined();
    });
  });

  it("rowflow.step_runs: every rule raises 23514 naming it", async () => {
    await db.rollback(async (c) => {
      await define(c, "rules", {
        steps: [
          { name: "a", task: "t" },
          { name: "b", task: "t", dependsOn: ["a"] },
        ],
      });
      const run = await startRun(c, "rules");
      const step = (rule: string, kind: string, status: string) => ({
        code: "23514",
        constraint: rule,
        table: "step_runs",
        message: `rowflow.step_runs: rule ${rule} violated (kind ${kind}, status ${status})`,
      });
      // a is queued (attempt 1), b pending (deps_remaining 1).
      const upd = (set: string, s: string) =>
        violation(c, `update rowflow.step_runs set ${set} where run_id = $1 and step = $2`, [
          run,
          s,
        ]);
      expect(await upd("kind = 'other'", "a")).toEqual(step("kind_is_valid", "other", "queued"));
      expect(await upd("status = 'bogus'", "a")).toEqual(step("status_is_valid", "step", "bogus"));
      expect(await upd("status = 'succeeded'", "a")).toEqual(
        step("finished_at_matches_status", "step", "succeeded"),
      );
      expect(await upd("status = 'running'", "a")).toEqual(
        step("started_at_matches_status", "step", "running"),
      );
      expect(await upd("attempt = 4", "a")).toEqual(step("attempt_is_valid", "step", "queued"));
      expect(await upd("attempt = 0", "a")).toEqual(step("attempt_is_valid", "step", "queued"));
      expect(await upd("status = 'queued', attempt = 1", "b")).toEqual(
        step("deps_done_unless_pending", "step", "queued"),
      );
      expect(await upd("seq = 1", "a")).toEqual(step("seq_matches_kind", "step", "queued"));
      expect(await upd("status = 'skipped', finished_at = now(), locked_by = 'w1'", "a")).toEqual(
        step("locked_only_when_queued_or_running", "step", "skipped"),
      );
      // Allowed: a lease on a queued or running step; a cancelled step keeps its counter.
      expect(await upd("locked_by = 'w1'", "a")).toBeUndefined();
      expect(
        await upd("status = 'cancelled', finished_at = now(), deps_remaining = 1", "b"),
      ).toBeUndefined();
    });
  });
});
