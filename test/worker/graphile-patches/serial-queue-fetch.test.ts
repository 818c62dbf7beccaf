// Whether src/worker/graphile-patches/serial-queue-fetch.ts is still needed,
// checked against the installed graphile-worker without the patch: with the
// local queue on, one batch fetch locks several jobs of one named queue and
// they run at the same time (graphile/worker#621, fixed upstream by #622).
// When this test fails, the installed graphile-worker has the fix: remove the
// patch (test/integration/worker/serial-queue.test.ts checks rowflow's
// behaviour either way).
import { run } from "graphile-worker";
import { afterEach, expect, it } from "vitest";

import { createPool } from "../../../src/db/connection.js";
import { quietGraphileLogger } from "../../../src/db/quiet-graphile-logger.js";
import { useTestDatabase } from "../../helpers/db.js";
import { waitFor } from "../../helpers/wait-for.js";

const db = useTestDatabase();
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()?.();
});

it("graphile-worker as installed runs jobs of one named queue together when the local queue fetches them in one batch", async () => {
  const jobs = 4;
  for (let i = 1; i <= jobs; i++) {
    await db.query(
      "select graphile_worker.add_job('canary', json_build_object('i', $1::int), queue_name => 'one')",
      [i],
    );
  }
  let active = 0;
  let maxActive = 0;
  let done = 0;
  const pool = createPool({ connectionString: db.url, max: 6 });
  cleanup.push(() => pool.end());
  const runner = await run({
    pgPool: pool,
    concurrency: jobs,
    pollInterval: 100,
    noHandleSignals: true,
    logger: quietGraphileLogger,
    parsedCronItems: [],
    taskList: {
      canary: async () => {
        active++;
        maxActive = Math.max(maxActive, active);
        // A second job of the queue running now shows the bug at once; with
        // the fix none ever does, and each job gives up waiting after a while.
        await waitFor(() => active > 1 || done > 0, { timeoutMs: 1_000, intervalMs: 5 }).catch(
          () => {},
        );
        active--;
        done++;
      },
    },
    preset: { worker: { localQueue: { size: jobs } } },
  });
  cleanup.push(() => runner.stop());
  await waitFor(() => done === jobs, {
    timeoutMs: 30_000,
    message: () => `${done} of ${jobs} done`,
  });
  expect(maxActive).toBeGreaterThan(1);
});
