import { describe, expect, it } from "vitest";

import { useTestDatabase } from "../../helpers/db.js";
import { define } from "../support.js";

const db = useTestDatabase();
const N = 10_000;
// claim_runs joins a batch's step plans with its new jobs by nested loop
// (hash and merge joins are off in it): 2,500 runs take ~3 s, 10,000 ~55 s.
const CLAIM_BATCH = 500;

describe("start_runs in bulk", () => {
  it(`starts ${N} runs of a 4-step workflow in one call, then claim_runs makes their rows and jobs: exact counts`, async () => {
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
      const check = async () =>
        (
          await c.query(
            `select
               (select count(*) from rowflow.runs where id = any($1::bigint[]) and status = 'queued' and started_at is null)::int as queued_runs,
               (select count(*) from rowflow.runs where id = any($1::bigint[]) and status = 'running' and started_at is not null)::int as running_runs,
               (select count(*) from rowflow.runs r, unnest($1::bigint[]) with ordinality as t(id, o)
                  where r.id = t.id and (r.input->>'i')::int = t.o - 1)::int as in_order,
               (select count(*) from rowflow.step_runs where run_id = any($1::bigint[]) and status = 'queued' and step = 'a'
                  and attempt = 1 and queued_at is not null and locked_by is null)::int as queued,
               (select count(*) from rowflow.step_runs where run_id = any($1::bigint[]) and step <> 'a'
                  and status = 'pending' and attempt = 0 and job_id is null)::int as stored_pending,
               (select count(*) from rowflow.run_steps where run_id = any($1::bigint[]) and status = 'pending')::int as pending,
               (select count(*) from rowflow.step_runs s join graphile_worker._private_jobs j on j.id = s.job_id
                  where s.run_id = any($1::bigint[]) and (j.payload->>'run')::bigint = s.run_id and j.key is null)::int as linked_jobs,
               (select count(*) from rowflow.events where run_id = any($1::bigint[]))::int as events,
               (select count(*) from graphile_worker._private_jobs where (payload->>'run')::bigint = any($1::bigint[]))::int as jobs,
               (select count(distinct q.queue_name) from graphile_worker._private_jobs j
                  join graphile_worker._private_job_queues q on q.id = j.job_queue_id
                  where (j.payload->>'run')::bigint = any($1::bigint[]))::int as queues,
               (select count(*) from graphile_worker._private_jobs j
                  join graphile_worker._private_job_queues q on q.id = j.job_queue_id
                  join rowflow.runs r on r.id = (j.payload->>'run')::bigint
                  where r.id = any($1::bigint[]) and q.queue_name = 'cust:' || (r.input->>'customer'))::int as right_queue`,
            [ids],
          )
        ).rows[0];
      // The start: N run rows, nothing else.
      expect(await check()).toEqual({
        queued_runs: N,
        running_runs: 0,
        in_order: N,
        queued: 0,
        stored_pending: 0,
        pending: 4 * N,
        linked_jobs: 0,
        events: 0,
        jobs: 0,
        queues: 0,
        right_queue: 0,
      });
      // Claimed in batches of CLAIM_BATCH (a worker claims a few runs at a
      // time): one claim_runs of all 10,000 takes about a minute here, its
      // cost growing with the square of the batch (see CLAIM_BATCH).
      const answers: unknown[] = [];
      for (;;) {
        const { rows: claimed } = await c.query<{ r: { runs: number; taken: unknown[] } }>(
          "select rowflow.claim_runs(take => 0, max_runs => $1) as r",
          [CLAIM_BATCH],
        );
        if (claimed[0]!.r.runs === 0) break;
        answers.push(claimed[0]!.r);
      }
      expect(answers).toEqual(Array(N / CLAIM_BATCH).fill({ runs: CLAIM_BATCH, taken: [] }));
      // The claim: every run running with 4 rows, a job per root step in its
      // customer's queue, still no stored event.
      expect(await check()).toEqual({
        queued_runs: 0,
        running_runs: N,
        in_order: N,
        queued: N,
        stored_pending: 3 * N,
        pending: 3 * N,
        linked_jobs: N,
        events: 0,
        jobs: N,
        queues: 7,
        right_queue: N,
      });
    });
  });
});
