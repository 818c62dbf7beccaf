// The gate records when a call happened (its statement time), not when the
// caller's transaction began: a handler's transaction opens at its first
// ctx.tx query, well before the step completes.
import { describe, expect, it } from "vitest";

import { useTestDatabase } from "../../helpers/db.js";
import { begin, complete, define, fail, startRun } from "../support.js";

const db = useTestDatabase();

describe("the gate's clock", () => {
  it("complete_step records finished_at at the call, after the transaction's start", async () => {
    await db.rollback(async (c) => {
      await define(c, "clock", { steps: [{ name: "a", task: "t" }] });
      const run = await startRun(c, "clock");
      await begin(c, run, "a");
      expect(await complete(c, run, "a", 1)).toMatchObject({ ok: true });
      const { rows } = await c.query(
        `select finished_at > now() as after_tx_start, finished_at <= clock_timestamp() as not_future
         from rowflow.step_runs where run_id = $1 and step = 'a'`,
        [run],
      );
      expect(rows).toEqual([{ after_tx_start: true, not_future: true }]);
    });
  });

  it("fail_step and cancel_run record their times at the call too", async () => {
    await db.rollback(async (c) => {
      await define(c, "clock2", { steps: [{ name: "a", task: "t", attempts: 1 }] });
      const failed = await startRun(c, "clock2");
      await begin(c, failed, "a");
      expect(await fail(c, failed, "a", 1)).toMatchObject({ ok: true, outcome: "failed" });
      const cancelled = await startRun(c, "clock2");
      await c.query("select rowflow.cancel_run($1)", [cancelled]);
      const { rows } = await c.query(
        `select id = $1 as failed, finished_at > now() as after_tx_start
         from rowflow.runs where id in ($1, $2) order by id`,
        [failed, cancelled],
      );
      expect(rows).toEqual([
        { failed: true, after_tx_start: true },
        { failed: false, after_tx_start: true },
      ]);
    });
  });
});
