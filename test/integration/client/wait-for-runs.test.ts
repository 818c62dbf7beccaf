// client.waitForRuns (src/client/wait-for-runs.ts) and client.runCounts:
// a batch, given by ids or by a filter, is waited for until none of its runs
// is active; the answer is the counts by status (rowflow.run_counts).
import { expect, it } from "vitest";

import { createClient } from "../../../src/client/create-client.js";
import { WaitTimeoutError } from "../../../src/client/wait-timeout-error.js";
import { RowflowSqlError } from "../../../src/errors.js";
import { useTestDatabase } from "../../helpers/db.js";
import { startTestWorker } from "../../helpers/worker.js";
import { define } from "../../sql/support.js";

const db = useTestDatabase();

it("waits for a batch by ids and by workflow, and answers the counts", async () => {
  await define(db.pool, "batch", { steps: [{ name: "s", task: "b.step" }] });
  await define(db.pool, "other", { steps: [{ name: "s", task: "b.step" }] });
  const client = createClient({ connectionString: db.url, pollInterval: 200 });
  try {
    const since = new Date(Date.now() - 1000);
    const ids = await client.startRuns("batch", [{ ok: true }, { ok: true }, { ok: false }]);
    await client.startRun("other", { ok: true });
    expect(await client.runCounts({ workflow: "batch" })).toEqual({
      total: 3,
      active: 3,
      queued: 3,
      running: 0,
      compensating: 0,
      succeeded: 0,
      failed: 0,
      cancelled: 0,
    });
    // Nothing runs them yet: the wait times out, naming what it waited for.
    const timedOut = await client.waitForRuns(ids, { timeout: 300 }).catch((e: unknown) => e);
    expect(timedOut).toBeInstanceOf(WaitTimeoutError);
    expect((timedOut as Error).message).toBe(
      "3 runs did not finish within 300 ms (status: 3 active)",
    );

    const progress: number[] = [];
    const byIds = client.waitForRuns(ids, {
      timeout: 20_000,
      onProgress: (c) => progress.push(c.active),
    });
    const byWorkflow = client.waitForRuns({ workflow: "batch", since }, { timeout: 20_000 });
    const worker = await startTestWorker(db.url, {
      tasks: {
        "b.step": (ctx) => {
          if (!ctx.input.ok) throw new Error("no");
          return {};
        },
      },
      workflows: [],
      syncWorkflows: false,
    });
    try {
      const done = { total: 3, active: 0, queued: 0, running: 0, compensating: 0, cancelled: 0 };
      // The failing run retries (3 attempts by default) before it fails.
      expect(await byIds).toEqual({ ...done, succeeded: 2, failed: 1 });
      expect(await byWorkflow).toEqual({ ...done, succeeded: 2, failed: 1 });
      expect(progress[0]).toBe(3);
      expect(progress.at(-1)).toBe(0);
      expect(await client.runCounts()).toMatchObject({ total: 4, active: 0, succeeded: 3 });
    } finally {
      await worker.stop();
    }
  } finally {
    await client.close();
  }
});

it("rejects unknown ids with RF023", async () => {
  const client = createClient({ connectionString: db.url, pollInterval: 200 });
  try {
    const error = await client.waitForRuns(["999999991", "999999992"]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RowflowSqlError);
    expect(error).toMatchObject({ code: "RF023", message: "unknown runs 999999991, 999999992" });
    // An empty batch is done at once.
    expect(await client.waitForRuns([])).toMatchObject({ total: 0, active: 0 });
  } finally {
    await client.close();
  }
});
