// Every connection of a running worker is terminated (what a database
// restart does to it): the worker reconnects, LISTEN included, and carries on.
import { expect, it } from "vitest";

import { createClient } from "../../src/client/create-client.js";
import { useTestDatabase } from "../helpers/db.js";
import { waitFor } from "../helpers/wait-for.js";
import { startTestWorker } from "../helpers/worker.js";

const db = useTestDatabase();

it("survives the loss of all its connections and keeps processing and re-LISTENs", async () => {
  const worker = await startTestWorker(db.url, {
    tasks: { "d.echo": (ctx) => ({ n: ctx.input.n }) },
    workflows: [{ name: "echo", spec: { steps: [{ name: "only", task: "d.echo" }] } }],
    pollInterval: 500,
  });
  const client = createClient({ connectionString: db.url, pollInterval: 200 });
  try {
    const before = await client.waitForRun(await client.startRun("echo", { n: 1 }), {
      timeout: 10_000,
    });
    expect(before.status).toBe("succeeded");

    const killed = await db.query<{ n: number }>(
      `select count(pg_terminate_backend(pid))::int as n from pg_stat_activity
       where datname = current_database() and pid <> pg_backend_pid() and application_name not like 'rowflow client%'`,
    );
    expect(killed.rows[0]!.n).toBeGreaterThanOrEqual(2); // at least rowflow's pool and graphile's LISTEN
    // Graphile-worker re-LISTENs after a short delay; wait until a LISTEN connection is back.
    await waitFor(
      async () => {
        const { rows } = await db.query<{ n: number }>(
          "select count(*)::int as n from pg_stat_activity where datname = current_database() and query ilike 'listen%'",
        );
        return rows[0]!.n >= 1;
      },
      { timeoutMs: 20_000, message: "graphile-worker did not LISTEN again" },
    );

    const ids = await client.startRuns("echo", [{ n: 2 }, { n: 3 }, { n: 4 }]);
    const after = await Promise.all(ids.map((id) => client.waitForRun(id, { timeout: 20_000 })));
    expect(after.map((r) => [r.status, r.steps[0]?.output])).toEqual([
      ["succeeded", { n: 2 }],
      ["succeeded", { n: 3 }],
      ["succeeded", { n: 4 }],
    ]);
  } finally {
    await client.close();
    await worker.stop();
  }
});
