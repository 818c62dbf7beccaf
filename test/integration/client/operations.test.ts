// The client's operator methods (src/client/create-client.ts) on a real
// database: typed answers, refusals as RowflowSqlError with their code.
import { describe, expect, it } from "vitest";

import { createClient } from "../../../src/client/create-client.js";
import { RowflowSqlError } from "../../../src/errors.js";
import { useTestDatabase } from "../../helpers/db.js";
import { begin, define, fail, runStep, startRun } from "../../sql/support.js";

const db = useTestDatabase();

describe("client operator methods", () => {
  it("explain, retry, skip, rerun, pause, bulk and purge", async () => {
    const client = createClient({ connectionString: db.url });
    try {
      await define(db.pool, "pay", {
        steps: [
          { name: "charge", task: "t", attempts: 1 },
          { name: "receipt", task: "t", dependsOn: ["charge"] },
        ],
      });
      const run = await startRun(db.pool, "pay");
      await begin(db.pool, run, "charge", 1);
      await fail(db.pool, run, "charge", 1, { retryable: false });
      const id = String(run);

      expect(await client.explainRun(id)).toEqual([
        expect.objectContaining({ step: null, status: "failed", code: "run_finished" }),
      ]);
      expect(await client.retryRun(id, { reason: "card updated" })).toMatchObject({
        retried: true,
        steps: ["charge", "receipt"],
        queued: ["charge"],
      });
      expect(await client.retryRun(id)).toMatchObject({ retried: false, status: "running" });
      expect(await client.skipStep(id, "charge", { output: { paid: true } })).toMatchObject({
        skipped: true,
        status: "succeeded",
        released: ["receipt"],
      });
      await runStep(db.pool, run, "receipt", null);
      const rerun = await client.rerunFrom(id, "receipt");
      expect(rerun).toMatchObject({ rerunOf: run, copied: ["charge"], queued: ["receipt"] });

      expect(await client.pauseWorkflow("pay", "maintenance")).toMatchObject({ changed: true });
      expect(await client.resumeWorkflow("pay")).toMatchObject({ paused: false, changed: true });
      expect(await client.cancelRuns({ workflow: "pay" })).toEqual({
        matched: 1,
        cancelled: 1,
        unchanged: 0,
      });
      expect(await client.retryRuns({ workflow: "pay", statuses: ["cancelled"] })).toMatchObject({
        matched: 1,
        retried: 1,
      });

      await db.query(
        "update rowflow.runs set finished_at = now() - interval '2 days' where id = $1",
        [run],
      );
      expect(await client.setRetention("pay", "90 days")).toEqual({
        workflow: "pay",
        retention: "90 days",
        changed: true,
      });
      expect(await client.purgeRuns({ olderThan: "1 day", workflow: "pay", batch: 1 })).toBe(1);

      const refused = await client.retryRun("999999").catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(RowflowSqlError);
      expect(refused).toMatchObject({ code: "RF023", message: "unknown run 999999" });
    } finally {
      await client.close();
    }
  });
});
