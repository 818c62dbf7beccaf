// A worker process is SIGKILLed in the middle of handlers; a second worker,
// already running, releases its jobs and step leases as soon as Postgres sees
// the victim's liveness lock connection close (its probe, every 100 ms here),
// long before the heartbeat timeout (60 s, so the timeout cannot be what
// released them), and finishes every run; each step's ctx.tx write is
// committed exactly once. Both
// workers log in as members of rowflow_worker (docs/security.md), so the
// recovery runs through the fenced gate: the rescuer fails the lost attempts
// as the holder of their re-delivered jobs, with its own token.
import type { ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

import { afterEach, expect, it } from "vitest";

import { createClient } from "../../src/client/create-client.js";
import { syncWorkflows } from "../../src/definition/sync.js";
import { useTestDatabase } from "../helpers/db.js";
import { useLoginRoles } from "../helpers/roles.js";
import { startCli } from "../helpers/run-cli.js";
import { waitFor } from "../helpers/wait-for.js";
import { startTestWorker } from "../helpers/worker.js";
import killConfig from "./fixtures/kill.config.js";

const db = useTestDatabase();
const loginRole = useLoginRoles(db);
const fixture = fileURLToPath(new URL("./fixtures/kill.config.ts", import.meta.url));
const heartbeatTimeout = 60_000;
const runs = 40;

/** Graphile jobs locked by `worker` plus step runs leased to it. */
async function heldBy(worker: string): Promise<number> {
  const { rows } = await db.query<{ jobs: number; leases: number }>(
    `select (select count(*) from graphile_worker.jobs where locked_by = $1)::int as jobs,
            (select count(*) from rowflow.step_runs where locked_by = $1)::int as leases`,
    [worker],
  );
  return rows[0]!.jobs + rows[0]!.leases;
}

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill("SIGKILL");
});

it("recovers the steps of a SIGKILLed worker within the heartbeat timeout, with exactly-once ledger writes", async () => {
  await db.query(
    "create table ledger (run_id bigint not null, step text not null, attempt int not null, pid int not null)",
  );
  const victimLogin = await loginRole("victim", { memberOf: ["rowflow_worker"] });
  const rescuerLogin = await loginRole("rescuer", { memberOf: ["rowflow_worker"] });
  await db.query(`grant insert on ledger to ${victimLogin.name}, ${rescuerLogin.name}`);
  // Defined by the owner: worker roles only check their definitions.
  await syncWorkflows(db.pool, (killConfig.workflows ?? []) as never);
  const cli = startCli(["worker", "--config", fixture], {
    env: {
      DATABASE_URL: victimLogin.url,
      ROWFLOW_TEST_HEARTBEAT_TIMEOUT: String(heartbeatTimeout),
      LOG_LEVEL: "warn",
    },
  });
  const { child } = cli;
  children.push(child);
  const exited = cli.exited.then((e) => e.signal);

  const victim = await waitFor(
    async () => (await db.query<{ id: string }>("select id from rowflow.workers")).rows[0]?.id,
    {
      timeoutMs: 30_000,
      message: () => `worker child did not register; output:\n${cli.out.stdout}${cli.out.stderr}`,
    },
  );

  const client = createClient({ connectionString: db.url, pollInterval: 200 });
  try {
    const ids = await client.startRuns(
      "killable",
      Array.from({ length: runs }, (_, i) => ({ i })),
    );
    // Kill while handlers are running and some steps already committed.
    await waitFor(
      async () => {
        const { rows } = await db.query<{ running: number; done: number }>(
          "select count(*) filter (where status = 'running')::int as running, count(*) filter (where status = 'succeeded')::int as done from rowflow.step_runs",
        );
        return rows[0]!.running >= 4 && rows[0]!.done >= 10;
      },
      { timeoutMs: 30_000, message: "handlers never ran in the child worker" },
    );
    // The victim held work: graphile jobs it had fetched, or (000011) step
    // runs leased to it directly.
    expect(await heldBy(victim)).toBeGreaterThan(0);
    const rescuer = await startTestWorker(rescuerLogin.url, {
      tasks: killConfig.tasks,
      workflows: killConfig.workflows,
      concurrency: 8,
      heartbeatInterval: 1_000,
      livenessCheckInterval: 100,
      heartbeatTimeout,
    });
    child.kill("SIGKILL");
    const killedAt = Date.now();
    expect(await exited).toBe("SIGKILL");
    try {
      await waitFor(
        async () =>
          (await db.query("select 1 from rowflow.workers where id = $1", [victim])).rowCount === 0,
        // Well inside the heartbeat timeout: only the closed connection can release it.
        { timeoutMs: 15_000, message: "dead worker was not released by its closed connection" },
      );
      const releasedAfter = Date.now() - killedAt;
      const finished = await Promise.all(
        ids.map((id) => client.waitForRun(id, { timeout: 30_000 })),
      );
      const recoveredAfter = Date.now() - killedAt;

      expect(finished.map((r) => r.status)).toEqual(ids.map(() => "succeeded"));
      // The figures for docs/architecture.md ("Crash recovery"); not asserted.
      console.info(
        `kill.test: SIGKILL → released ${releasedAfter} ms, → all ${runs} runs done ${recoveredAfter} ms`,
      );

      const ledger = await db.query<{ run_id: string; step: string; n: number }>(
        "select run_id, step, count(*)::int as n from ledger group by run_id, step",
      );
      expect(ledger.rows).toHaveLength(runs * 3);
      expect(ledger.rows.filter((row) => row.n !== 1)).toEqual([]);
      const lost = await db.query<{ n: number }>(
        "select count(*)::int as n from rowflow.events where type = 'step_retrying' and data -> 'error' ->> 'kind' = 'worker_lost'",
      );
      expect(lost.rows[0]!.n).toBeGreaterThanOrEqual(1);
      expect(await heldBy(victim)).toBe(0);
    } finally {
      await rescuer.stop();
    }
  } finally {
    await client.close();
  }
});
