// Issue 18's stall ("nothing was claimed for 48 s until 5 dead workers'
// leases were released together"): what a dead worker still holds —
// leases on running steps, graphile jobs it had fetched, the lock of a
// named (serial) queue — must not stop a live worker from claiming queued
// runs (sql/schema/60_gate/claim_runs.sql), nor from taking the dependents
// its completions release (60_gate/_release.sql).
import { expect, it } from "vitest";

import { useTestDatabase } from "../../helpers/db.js";
import { insertRun } from "../factories.js";
import { claimRuns, completeSteps } from "../gate-calls.js";
import { define, queueRun } from "../support.js";

const db = useTestDatabase();
const OLD = "2020-01-01T00:00:00.000Z";

it("a live worker claims queued runs and takes released dependents while dead workers hold leases, jobs and a queue's lock", async () => {
  await db.rollback(async (c) => {
    await c.query(
      "select rowflow.register_worker(id => 'dead-1', hostname => 'h', pid => 1, concurrency => 1, now => $1::timestamptz)",
      [OLD],
    );
    await define(c, "d", {
      steps: [
        { name: "s", task: "t" },
        { name: "t", task: "t", dependsOn: ["s"] },
      ],
    });
    // A serial queue whose work goes first (a lower priority value).
    await define(c, "serial", {
      steps: [{ name: "s", task: "t", queue: "one-at-a-time", priority: -5 }],
    });
    // Runs whose steps the dead worker leased.
    for (let i = 0; i < 2; i++) {
      await insertRun(c, {
        workflow: "d",
        at: OLD,
        steps: { s: { status: "running", lockedBy: "dead-1" } },
      });
    }
    // Jobs the dead worker fetched, and the serial queue it locked with
    // backlog left in it: available by graphile's column, fetchable by nobody.
    await queueRun(c, "d");
    await queueRun(c, "serial");
    await queueRun(c, "serial");
    expect((await claimRuns(c, { take: 0, maxRuns: 3 })).runs).toBe(3);
    await c.query(
      `update graphile_worker._private_jobs set locked_at = $1, locked_by = 'dead-1'
       where id = (select min(id) from graphile_worker._private_jobs)`,
      [OLD],
    );
    await c.query(
      `update graphile_worker._private_job_queues set locked_at = $1, locked_by = 'dead-1'
       where queue_name = 'one-at-a-time'`,
      [OLD],
    );

    const queued = [await queueRun(c, "d"), await queueRun(c, "d"), await queueRun(c, "d")];
    const claim = await claimRuns(c, { worker: "live", take: 3, maxRuns: 3 });
    expect({ runs: claim.runs, taken: claim.taken.map((t) => Number(t.runId)) }).toEqual({
      runs: 3,
      taken: queued,
    });
    // And the dependent its completion releases is taken by the same slot.
    const [done] = await completeSteps(c, [{ run: queued[0]!, step: "s", take: 1 }], {
      worker: "live",
    });
    expect(done).toMatchObject({ ok: true, released: ["t"] });
    expect((done!.taken as { step: string }[]).map((t) => t.step)).toEqual(["t"]);
  });
});
