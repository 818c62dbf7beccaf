// `rowflow wait` (src/cli/commands/wait.ts): waits until no run of the
// workflow is active, printing progress on stderr, then the counts; exit 1
// with the counts still active on --timeout.
import { expect, it } from "vitest";

import { createClient } from "../../src/client/create-client.js";
import { useTestDatabase } from "../helpers/db.js";
import { runCli, startCli } from "../helpers/run-cli.js";
import { waitFor } from "../helpers/wait-for.js";
import { startTestWorker } from "../helpers/worker.js";
import { define } from "../sql/support.js";

const db = useTestDatabase();

it("waits for a workflow's runs to end and prints their counts", async () => {
  await define(db.pool, "w", { steps: [{ name: "s", task: "w.step" }] });
  const client = createClient({ connectionString: db.url });
  try {
    await client.startRuns("w", [{}, {}]);
    const timedOut = await runCli([
      "wait",
      "--workflow",
      "w",
      "--timeout",
      "500ms",
      "--database-url",
      db.url,
    ]);
    expect(timedOut.code).toBe(1);
    expect(timedOut.stderr).toContain(
      "rowflow: runs of w did not finish within 500 ms (status: 2 active)",
    );

    const cli = startCli([
      "wait",
      "--workflow",
      "w",
      "--since",
      "1h",
      "--json",
      "--interval",
      "200",
      "--database-url",
      db.url,
    ]);
    // It is waiting (no worker yet) before the runs can end.
    await waitFor(
      async () =>
        (
          await db.query(
            "select 1 from pg_stat_activity where datname = current_database() and query ilike 'listen%'",
          )
        ).rowCount! > 0,
      { timeoutMs: 20_000, message: () => `rowflow wait did not start: ${cli.out.stderr}` },
    );
    const worker = await startTestWorker(db.url, {
      tasks: { "w.step": () => ({}) },
      syncWorkflows: false,
    });
    try {
      const { code } = await cli.exited;
      expect({ code, stderr: cli.out.stderr }).toEqual({ code: 0, stderr: "" });
      expect(JSON.parse(cli.out.stdout)).toEqual({
        total: 2,
        active: 0,
        queued: 0,
        running: 0,
        compensating: 0,
        succeeded: 2,
        failed: 0,
        cancelled: 0,
      });
    } finally {
      await worker.stop();
    }
    const table = await runCli(["wait", "--database-url", db.url]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/total.*active.*succeeded/);
    expect(table.stdout).toMatch(/│ 2 +│ 0 +│/);
    expect(table.stderr).toContain("active 0 (queued 0, running 0, compensating 0) · succeeded 2");
  } finally {
    await client.close();
  }
});
