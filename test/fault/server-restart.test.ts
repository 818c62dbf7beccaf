// A real database restart under a running worker: the server is stopped (its
// sockets close, the worker's queries fail) and started again on the same port
// and data; the worker reconnects, LISTEN included, and finishes new runs. A
// step running during the restart loses its attempt without using it up: with
// attempts: 1 its run still succeeds (docs/architecture.md, "Crash recovery").
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

import { sql } from "kysely";
import pg from "pg";
import { expect, it } from "vitest";

import { createClient } from "../../src/client/create-client.js";
import { migrate } from "../../src/db/migrate.js";
import { startEmbeddedPostgres } from "../../src/embedded/embedded-postgres.js";
import { waitFor } from "../helpers/wait-for.js";
import { startTestWorker } from "../helpers/worker.js";

it("a worker carries on after its Postgres server restarts", async () => {
  const dataDir = path.join(await mkdtemp(path.join(tmpdir(), "rowflow-restart-")), "pgdata");
  await chmod(path.dirname(dataDir), 0o755);
  let server = await startEmbeddedPostgres({ dataDir, unsafeFast: true });
  const port = server.port;
  const url = server.connectionString();
  try {
    await migrate({ connectionString: url });
    let releaseFirst: (() => void) | undefined;
    const worker = await startTestWorker(url, {
      tasks: {
        "r.echo": (ctx) => ({ n: ctx.input.n }),
        // Attempt 1 opens its transaction, then waits until the server has
        // restarted: the transaction died with the server.
        "r.slow": async (ctx) => {
          if (ctx.attempt === 1) {
            await sql`select 1`.execute(ctx.tx);
            await new Promise<void>((resolve) => (releaseFirst = resolve));
          }
          return { attempt: ctx.attempt };
        },
      },
      workflows: [
        { name: "echo", spec: { steps: [{ name: "only", task: "r.echo" }] } },
        { name: "slow", spec: { steps: [{ name: "only", task: "r.slow", attempts: 1 }] } },
      ],
      pollInterval: 200,
    });
    try {
      const client = createClient({ connectionString: url, pollInterval: 200 });
      try {
        const before = await client.waitForRun(await client.startRun("echo", { n: 1 }), {
          timeout: 10_000,
        });
        expect(before.status).toBe("succeeded");
      } finally {
        await client.close();
      }

      const during = createClient({ connectionString: url, pollInterval: 200 });
      const slow = await during.startRun("slow", {});
      await waitFor(() => releaseFirst !== undefined, { message: "attempt 1 never started" });
      await during.close();

      await server.stop();
      server = await startEmbeddedPostgres({ dataDir, preferredPort: port, unsafeFast: true });
      expect(server.port).toBe(port);
      releaseFirst!();

      const after = createClient({ connectionString: url, pollInterval: 200 });
      try {
        // The first calls may meet the server still starting; the client reports, we retry.
        const ids = await waitFor(
          () => after.startRuns("echo", [{ n: 2 }, { n: 3 }]).catch(() => undefined),
          { timeoutMs: 20_000, message: "could not start runs after the restart" },
        );
        const runs = await Promise.all(ids.map((id) => after.waitForRun(id, { timeout: 30_000 })));
        expect(runs.map((r) => [r.status, r.steps[0]?.output])).toEqual([
          ["succeeded", { n: 2 }],
          ["succeeded", { n: 3 }],
        ]);
        expect((await after.waitForRun(slow, { timeout: 30_000 })).status).toBe("succeeded");
        const check = new pg.Client({ connectionString: url });
        await check.connect();
        try {
          const { rows } = await check.query<{ used: number; lost: number }>(
            "select attempt - lost_attempts as used, lost_attempts as lost from rowflow.step_runs where run_id = $1",
            [slow],
          );
          // The handler's attempts used: still one; the restart's loss counted apart.
          expect(rows[0]!.used).toBe(1);
          expect(rows[0]!.lost).toBeGreaterThanOrEqual(1);
        } finally {
          await check.end();
        }
      } finally {
        await after.close();
      }
    } finally {
      await worker.stop();
    }
  } finally {
    await server.stop();
    await rm(path.dirname(dataDir), { recursive: true, force: true });
  }
});
