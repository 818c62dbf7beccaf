import { expect, it } from "vitest";

import { registerWorker } from "../../../src/db/workers/register-worker.js";
import { releaseDeadWorkers } from "../../../src/db/workers/release-dead-workers.js";
import type { Logger } from "../../../src/definition/logger.js";
import { createWorker } from "../../../src/worker/create-worker.js";
import { useTestDatabase } from "../../helpers/db.js";
import { waitFor } from "../../helpers/wait-for.js";

const db = useTestDatabase();

it("releases the jobs of workers silent longer than the timeout, and of unregistered lockers, with backdated time", async () => {
  const t0 = new Date("2030-01-01T00:00:00Z");
  const at = (ms: number) => new Date(t0.getTime() + ms);
  await registerWorker(db.pool, {
    id: "pool-dead",
    hostname: "h",
    pid: 1,
    concurrency: 1,
    tasks: [],
    now: t0,
  });
  await registerWorker(db.pool, {
    id: "pool-live",
    hostname: "h",
    pid: 2,
    concurrency: 1,
    tasks: [],
    now: at(25_000),
  });
  // Three locked rowflow jobs: one per registered worker, one by a locker that never registered.
  for (const [key, lockedBy] of [
    ["j-dead", "pool-dead"],
    ["j-live", "pool-live"],
    ["j-orphan", "pool-orphan"],
  ] as const) {
    await db.query("select graphile_worker.add_job('rowflow:step', '{}'::json, job_key => $1)", [
      key,
    ]);
    await db.query(
      "update graphile_worker._private_jobs set locked_by = $1, locked_at = $2 where key = $3",
      [lockedBy, t0, key],
    );
  }
  const locked = async () =>
    (
      await db.query<{ key: string }>(
        "select key from graphile_worker.jobs where locked_by is not null order by key",
      )
    ).rows.map((r) => r.key);

  expect(await releaseDeadWorkers(db.pool, { timeoutMs: 30_000, now: at(29_000) })).toEqual([]);
  expect(await locked()).toEqual(["j-dead", "j-live", "j-orphan"]);

  expect(await releaseDeadWorkers(db.pool, { timeoutMs: 30_000, now: at(31_000) })).toEqual([
    "pool-dead",
    "pool-orphan",
  ]);
  expect(await locked()).toEqual(["j-live"]);
  const workers = await db.query<{ id: string }>("select id from rowflow.workers order by id");
  expect(workers.rows).toEqual([{ id: "pool-live" }]);
  await expect(releaseDeadWorkers(db.pool, { timeoutMs: 0 })).rejects.toMatchObject({
    code: "22023",
  });
});

it("retries the first connection with backoff, one log line per attempt, and stops cleanly when asked", async () => {
  const lines: string[] = [];
  const logger: Logger = {
    debug: () => {},
    info: () => {},
    warn: (m) => lines.push(m),
    error: (m) => lines.push(m),
  };
  // Nothing listens on port 1.
  const worker = createWorker({
    connectionString: "postgres://postgres@127.0.0.1:1/none",
    logger,
    connectDelay: 20,
    maxConnectDelay: 40,
  });
  const started = worker.start();
  await waitFor(() => lines.length >= 3, { message: "no retry lines" });
  await worker.stop();
  await expect(started).rejects.toThrow("worker stopped before it could connect");
  expect(lines[0]).toMatch(
    /cannot connect to Postgres at 127\.0\.0\.1:1 .*\(attempt 1\); retrying in 20 ms/,
  );
  expect(lines[1]).toMatch(/\(attempt 2\); retrying in 40 ms/);
  expect(lines[2]).toMatch(/\(attempt 3\); retrying in 40 ms/);
});
