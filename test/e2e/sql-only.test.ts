// The README's SQL-only example (examples/sql-only/orders.sql), run as pasted into psql.
import { readFile } from "node:fs/promises";

import { describe, expect, it } from "vitest";

import { useTestDatabase } from "../helpers/db.js";

const db = useTestDatabase();

describe("README SQL-only example", () => {
  it("defines, attaches and starts runs from a plain INSERT and UPDATE", async () => {
    const sql = await readFile(
      new URL("../../examples/sql-only/orders.sql", import.meta.url),
      "utf8",
    );
    await db.query(sql);
    const { rows } = await db.query<{ workflow: string; input: unknown; status: string }>(
      "select workflow, input, status from rowflow.runs order by id",
    );
    // 000011: the INSERT and the UPDATE each start a queued run (the run row
    // only); a worker's claim makes the step rows and jobs.
    expect(rows).toEqual([
      { workflow: "order-paid", input: { orderId: 2, total: 25 }, status: "queued" },
      { workflow: "order-paid", input: { orderId: 1, total: 10 }, status: "queued" },
    ]);
    const counts = async () =>
      (
        await db.query<{ jobs: number; steps: number }>(
          `select (select count(*) from graphile_worker.jobs)::int as jobs,
                  (select count(*) from rowflow.step_runs)::int as steps`,
        )
      ).rows[0];
    expect(await counts()).toEqual({ jobs: 0, steps: 0 });
    const { rows: claimed } = await db.query(
      "select rowflow.claim_runs(take => 0, max_runs => 10) as r",
    );
    expect(claimed).toEqual([{ r: { runs: 2, taken: [] } }]);
    expect(await counts()).toEqual({ jobs: 2, steps: 4 });
    const { rows: jobs } = await db.query<{ task: string; step: string }>(
      `select t.identifier as task, j.payload->>'step' as step
       from graphile_worker._private_jobs j join graphile_worker._private_tasks t on t.id = j.task_id
       order by j.id`,
    );
    expect(jobs).toEqual([
      { task: "rowflow:step", step: "charge" },
      { task: "rowflow:step", step: "charge" },
    ]);
  });
});
