// The worker's direct path (000011): claimed root steps and released
// dependents run under the worker's lease, in the slot that freed up, with no
// graphile-worker job; the local queue holds ready steps beyond the slots;
// the heartbeat ends leases the worker does not use.
import { afterEach, expect, it } from "vitest";

import { createClient } from "../../../src/client/create-client.js";
import { useTestDatabase } from "../../helpers/db.js";
import { waitFor } from "../../helpers/wait-for.js";
import { startTestWorker } from "../../helpers/worker.js";

const db = useTestDatabase();
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()?.();
});

async function define(name: string, spec: unknown): Promise<void> {
  await db.query("select rowflow.define_workflow(name => $1, spec => $2::jsonb)", [
    name,
    JSON.stringify(spec),
  ]);
}

/** Jobs graphile-worker's sequence ever handed out in this database. */
async function jobsEverCreated(): Promise<number> {
  const { rows } = await db.query<{ n: string }>(
    `select coalesce(nullif(pg_catalog.pg_sequence_last_value(
              pg_catalog.pg_get_serial_sequence('graphile_worker._private_jobs', 'id')::regclass), null), 0) as n`,
  );
  return Number(rows[0]!.n);
}

it("runs chains and diamonds without a single graphile job: roots by claim, dependents taken or reserved", async () => {
  await define("direct-chain", {
    steps: [
      { name: "a", task: "d.step" },
      { name: "b", task: "d.step", dependsOn: ["a"] },
      { name: "c", task: "d.step", dependsOn: ["b"] },
    ],
  });
  await define("direct-diamond", {
    steps: [
      { name: "a", task: "d.step" },
      { name: "b", task: "d.step", dependsOn: ["a"] },
      { name: "c", task: "d.step", dependsOn: ["a"] },
      { name: "d", task: "d.step", dependsOn: ["b", "c"] },
    ],
  });
  const seen: string[] = [];
  // One slot: a diamond's second branch cannot be taken, so it is reserved
  // for the local queue and begun by the next completion's call.
  const worker = await startTestWorker(db.url, {
    concurrency: 1,
    syncWorkflows: false,
    tasks: {
      "d.step": (ctx) => {
        seen.push(`${ctx.run.workflow}:${ctx.step.name}`);
        return { step: ctx.step.name, deps: Object.keys(ctx.deps).sort() };
      },
    },
  });
  cleanup.push(() => worker.stop());
  const client = createClient({ connectionString: db.url, pollInterval: 50 });
  cleanup.push(() => client.close());

  const [chain] = await client.startRuns("direct-chain", [{}]);
  const [diamond] = await client.startRuns("direct-diamond", [{}]);
  for (const id of [chain!, diamond!])
    expect((await client.waitForRun(id, { timeout: 20_000 })).status).toBe("succeeded");

  expect(await jobsEverCreated()).toBe(0);
  expect(seen.filter((s) => s.startsWith("direct-chain"))).toEqual([
    "direct-chain:a",
    "direct-chain:b",
    "direct-chain:c",
  ]);
  const diamondOrder = seen.filter((s) => s.startsWith("direct-diamond"));
  expect(diamondOrder[0]).toBe("direct-diamond:a");
  expect(diamondOrder.slice(1, 3).sort()).toEqual(["direct-diamond:b", "direct-diamond:c"]);
  expect(diamondOrder[3]).toBe("direct-diamond:d");
  const { rows } = await db.query<{
    step: string;
    output: unknown;
    job_id: string | null;
    locked_by: string | null;
  }>(
    "select step, output, job_id, locked_by from rowflow.step_runs where run_id = $1 order by step",
    [diamond],
  );
  expect(rows).toEqual([
    { step: "a", output: { step: "a", deps: [] }, job_id: null, locked_by: null },
    { step: "b", output: { step: "b", deps: ["a"] }, job_id: null, locked_by: null },
    { step: "c", output: { step: "c", deps: ["a"] }, job_id: null, locked_by: null },
    { step: "d", output: { step: "d", deps: ["b", "c"] }, job_id: null, locked_by: null },
  ]);
});

it("ends a lease it does not use at the next heartbeat: the lost attempt fails and its retry runs", async () => {
  await define("orphan-lease", {
    steps: [{ name: "a", task: "o.step", backoff: { type: "fixed", base: "10 ms" } }],
  });
  const ran: number[] = [];
  const worker = await startTestWorker(db.url, {
    concurrency: 2,
    heartbeatInterval: 100,
    heartbeatTimeout: 5_000,
    syncWorkflows: false,
    tasks: { "o.step": (ctx) => void ran.push(ctx.attempt) },
  });
  cleanup.push(() => worker.stop());
  // Started and claimed in one transaction, its root handed to this worker's
  // id: the worker never sees the answer, as if the claim's answer had been
  // lost with its connection.
  const client = await db.pool.connect();
  let run: string;
  try {
    await client.query("begin");
    const { rows } = await client.query<{ id: string }>(
      "select rowflow.start_run(workflow => 'orphan-lease') as id",
    );
    run = rows[0]!.id;
    const claimed = await client.query<{ c: { runs: number; taken: unknown[] } }>(
      "select rowflow.claim_runs(worker_id => $1, take => 1, max_runs => 1) as c",
      [worker.id],
    );
    expect(claimed.rows[0]!.c).toMatchObject({ runs: 1, taken: [{ runId: run, step: "a" }] });
    await client.query("commit");
  } finally {
    client.release();
  }
  const status = await waitFor(async () => {
    const { rows } = await db.query<{ status: string }>(
      "select status from rowflow.runs where id = $1",
      [run],
    );
    return rows[0]?.status === "succeeded" && rows[0].status;
  });
  expect(status).toBe("succeeded");
  expect(ran).toEqual([2]);
  const { rows: events } = await db.query<{ type: string; attempt: number; kind: string }>(
    "select type, attempt, data -> 'error' ->> 'kind' as kind from rowflow.events where run_id = $1 order by id",
    [run],
  );
  expect(events).toEqual([{ type: "step_retrying", attempt: 1, kind: "worker_lost" }]);
});
