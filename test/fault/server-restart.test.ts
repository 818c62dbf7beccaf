// A real database restart under a running worker: the server is stopped (its
// sockets close, the worker's queries fail) and started again on the same port
// and data; the worker reconnects, LISTEN included, and finishes new runs.
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

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
    const worker = await startTestWorker(url, {
      tasks: { "r.echo": (ctx) => ({ n: ctx.input.n }) },
      workflows: [{ name: "echo", spec: { steps: [{ name: "only", task: "r.echo" }] } }],
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

      await server.stop();
      server = await startEmbeddedPostgres({ dataDir, preferredPort: port, unsafeFast: true });
      expect(server.port).toBe(port);

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
