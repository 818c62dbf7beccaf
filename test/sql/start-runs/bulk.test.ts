import { describe, expect, it } from "vitest";

import { useTestDatabase } from "../../helpers/db.js";
import { define } from "../support.js";

const db = useTestDatabase();
const N = 10_000;

describe("start_runs in bulk", () => {
  it(`starts ${N} runs of a 4-step workflow in one call: exact rows, jobs and events`, async () => {
    await db.rollback(async (c) => {
      await define(c, "bulk", {
        steps: [
          { name: "a", task: "t", queue: { name: "cust", key: "$.input.customer" } },
          { name: "b", task: "t", dependsOn: ["a"] },
          { name: "c", task: "t", dependsOn: ["a"] },
          { name: "d", task: "t", dependsOn: ["b", "c"] },
        ],
      });
      const inputs = Array.from({ length: N }, (_, i) =>
        JSON.stringify({ i, customer: `c${i % 7}` }),
      );
      const { rows } = await c.query<{ id: string }>(
        "select id from rowflow.start_runs(workflow => 'bulk', inputs => $1::jsonb[]) as id",
        [inputs],
      );
      const ids = rows.map((r) => Number(r.id));
      expect(ids).toHaveLength(N);
      const { rows: check } = await c.query(
        `select
           (select count(*) from rowflow.runs where id = any($1::bigint[]) and status = 'running' and steps_left = 4)::int as runs,
           (select count(*) from rowflow.runs r, unnest($1::bigint[]) with ordinality as t(id, o)
              where r.id = t.id and (r.input->>'i')::int = t.o - 1)::int as in_order,
           (select count(*) from rowflow.step_runs where run_id = any($1::bigint[]) and status = 'queued' and step = 'a')::int as queued,
           (select count(*) from rowflow.step_runs where run_id = any($1::bigint[]) and step <> 'a')::int as stored_pending,
           (select count(*) from rowflow.run_steps where run_id = any($1::bigint[]) and status = 'pending')::int as pending,
           (select count(*) from rowflow.step_runs s join graphile_worker._private_jobs j on j.id = s.job_id
              where s.run_id = any($1::bigint[]) and (j.payload->>'run')::bigint = s.run_id and j.key is null)::int as linked_jobs,
           (select count(*) from rowflow.events where run_id = any($1::bigint[]))::int as events,
           (select count(*) from graphile_worker._private_jobs where (payload->>'run')::bigint = any($1::bigint[]))::int as jobs,
           (select count(distinct q.queue_name) from graphile_worker._private_jobs j
              join graphile_worker._private_job_queues q on q.id = j.job_queue_id
              where (j.payload->>'run')::bigint = any($1::bigint[]))::int as queues`,
        [ids],
      );
      expect(check[0]).toEqual({
        runs: N,
        in_order: N,
        queued: N,
        stored_pending: 0, // 000006: rows are created when steps become ready
        pending: 3 * N,
        linked_jobs: N,
        events: N, // 000006: run_started only; root step_queued is implied
        jobs: N,
        queues: 7,
      });
    });
  });
});
