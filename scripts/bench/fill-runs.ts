import { withClient } from "./pg-client.js";
import { defineWorkflow } from "./workflows.js";

/** The dashboard's workflows: dash-0 … dash-9, one step each. */
export const fillWorkflows = Array.from({ length: 10 }, (_, i) => `dash-${i}`);

/**
 * Writes `runs` finished runs straight into rowflow.runs, set-based (one
 * INSERT … SELECT per 250,000): the runs page reads only that table, and
 * driving a million runs through start_runs, claim and the gates would take
 * far longer than what is measured. Ids ascend with created_at, as starts
 * make them, spread evenly over the last 30 days; of every 1,000 runs 970
 * succeed, 20 fail, 9 are cancelled and 1 runs; dash-9 gets 1 run in 100 (a
 * rare workflow), the others share the rest. No run is queued: a status
 * no run has (the slow case of a status filter) is `queued`'s neighbour
 * `compensating`. Input: {"customerId": i % 50,000, "orderId": i, "note": …}.
 */
export async function fillRuns(url: string, runs: number, log: (line: string) => void) {
  for (const name of fillWorkflows) {
    await defineWorkflow(url, name, { steps: [{ name: "a", task: "noop" }] });
  }
  await withClient(url, async (client) => {
    const chunk = 250_000;
    for (let from = 1; from <= runs; from += chunk) {
      const to = Math.min(runs, from + chunk - 1);
      await client.query(
        `insert into rowflow.runs (id, workflow, version, status, input, error, created_at, updated_at,
           started_at, finished_at)
         select i, w, 1, s, jsonb_build_object('customerId', i % 50000, 'orderId', i, 'note', 'order ' || i),
           case when s in ('failed', 'cancelled') then jsonb_build_object('message', 'declined ' || i) end,
           t, t, t, case when s <> 'running' then t + interval '2 seconds' end
         from generate_series($1::bigint, $2::bigint) as i,
           lateral (select now() - interval '30 days' * (1 - i::float8 / $3) as t,
             case when i % 100 = 0 then 'dash-9' else 'dash-' || (i % 9) end as w,
             case when i % 1000 < 970 then 'succeeded' when i % 1000 < 990 then 'failed'
                  when i % 1000 < 999 then 'cancelled' else 'running' end as s) as v`,
        [from, to, runs],
      );
      log(`    filled ${to.toLocaleString("en-US")}/${runs.toLocaleString("en-US")} runs`);
    }
    await client.query("select setval('rowflow.runs_id_seq', $1::bigint)", [runs]);
    await client.query("vacuum analyze rowflow.runs");
  });
}
