import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { useTestDatabase } from "../../helpers/db.js";
import { define, type GateResult } from "../support.js";

const db = useTestDatabase();
const ROUNDS = 1000;
const TAKE_ROUNDS = 300;

/**
 * Invariant 3: a fan-in step is released exactly once however its
 * dependencies race. Two connections complete the two parents of a join at
 * the same moment and commit; repeated on many runs. The runs are claimed
 * with take 0 (root steps queued as jobs, every step with its row), then
 * both parents are begun as graphile-fetched jobs.
 */
describe("fan-in race", () => {
  let c1: pg.PoolClient;
  let c2: pg.PoolClient;

  /** Starts n runs, claims them, begins both parents; returns the run ids. */
  const prepare = async (n: number): Promise<number[]> => {
    const inputs = Array.from({ length: n }, (_, i) => JSON.stringify({ i }));
    const { rows } = await db.query<{ id: string }>(
      "select id from rowflow.start_runs(workflow => 'race', inputs => $1::jsonb[]) as id",
      [inputs],
    );
    const runs = rows.map((r) => Number(r.id));
    const { rows: claimed } = await db.query(
      "select rowflow.claim_runs(take => 0, max_runs => $1) as r",
      [n],
    );
    expect(claimed[0]).toEqual({ r: { runs: n, taken: [] } });
    const { rows: begun } = await db.query<{ n: number }>(
      `select count(*) filter (where (rowflow.begin_step(id, 'left', 1) ->> 'ok')::boolean
                                 and (rowflow.begin_step(id, 'right', 1) ->> 'ok')::boolean)::int as n
       from unnest($1::bigint[]) as id`,
      [runs],
    );
    expect(begun[0]).toEqual({ n });
    // The join's row exists from the claim, waiting for both parents.
    const { rows: joins } = await db.query(
      `select count(*)::int as n from rowflow.step_runs
       where run_id = any($1::bigint[]) and step = 'join' and status = 'pending' and deps_remaining = 2`,
      [runs],
    );
    expect(joins[0]).toEqual({ n });
    return runs;
  };

  beforeAll(async () => {
    await define(db.pool, "race", {
      steps: [
        { name: "left", task: "t" },
        { name: "right", task: "t" },
        { name: "join", task: "t", dependsOn: ["left", "right"] },
      ],
    });
    c1 = await db.pool.connect();
    c2 = await db.pool.connect();
  });

  afterAll(() => {
    c1?.release();
    c2?.release();
  });

  const completeAndCommit = async (
    client: pg.PoolClient,
    run: number,
    step: string,
    worker: string | null,
    take: number,
  ) => {
    const { rows } = await client.query<{ r: GateResult }>(
      `select rowflow.complete_step(run_id => $1, step => $2, attempt => 1, output => to_jsonb($2::text),
                                    take => $4, worker_id => $3) as r`,
      [run, step, worker, take],
    );
    await client.query("commit");
    return rows[0]!.r;
  };

  /** Both transactions are open before either completes: the completions go out in the same tick. */
  const race = async (run: number, take: number) => {
    await Promise.all([c1.query("begin"), c2.query("begin")]);
    return Promise.all([
      completeAndCommit(c1, run, "left", take ? "w-left" : null, take),
      completeAndCommit(c2, run, "right", take ? "w-right" : null, take),
    ]);
  };

  it(`releases the join exactly once in each of ${ROUNDS} races, without deadlock`, async () => {
    const runs = await prepare(ROUNDS);
    const releasedBy = { left: 0, right: 0 };
    for (const run of runs) {
      const [l, r] = await race(run, 0);
      expect(l.ok && r.ok, `run ${run}: ${JSON.stringify([l, r])}`).toBe(true);
      const released = [...l.released!, ...r.released!];
      expect(released, `run ${run}`).toEqual(["join"]);
      expect([...(l.taken as unknown[]), ...(r.taken as unknown[])], `run ${run}`).toEqual([]);
      if (l.released!.length) releasedBy.left++;
      else releasedBy.right++;
    }
    expect(releasedBy.left + releasedBy.right).toBe(ROUNDS);

    // The database agrees: one queued join with one job per run, its
    // step_queued in the timeline (not stored), the runs still running.
    const { rows } = await db.query(
      `select
         (select count(*) from rowflow.step_runs where run_id = any($1::bigint[]) and step = 'join'
            and status = 'queued' and deps_remaining = 0 and attempt = 1 and locked_by is null)::int as queued_joins,
         (select count(*) from rowflow.run_timeline where run_id = any($1::bigint[]) and step = 'join'
            and type = 'step_queued')::int as join_queued_events,
         (select count(*) from rowflow.events where run_id = any($1::bigint[]))::int as stored_events,
         (select count(*) from graphile_worker._private_jobs j join rowflow.step_runs s on s.job_id = j.id
            where s.step = 'join' and j.payload->>'step' = 'join' and (j.payload->>'run')::bigint = s.run_id
            and s.run_id = any($1::bigint[]))::int as join_jobs,
         (select count(*) from graphile_worker._private_jobs
            where payload->>'step' = 'join' and (payload->>'run')::bigint = any($1::bigint[]))::int as all_join_jobs,
         (select count(*) from rowflow.runs where id = any($1::bigint[]) and status = 'running')::int as running`,
      [runs],
    );
    expect(rows[0]).toEqual({
      queued_joins: ROUNDS,
      join_queued_events: ROUNDS,
      stored_events: 0,
      join_jobs: ROUNDS,
      all_join_jobs: ROUNDS,
      running: ROUNDS,
    });
  }, 300_000);

  it(`hands the join to exactly one of two completing workers in each of ${TAKE_ROUNDS} races (take => 1)`, async () => {
    const runs = await prepare(TAKE_ROUNDS);
    const takers: Record<number, string> = {};
    for (const run of runs) {
      const [l, r] = await race(run, 1);
      expect(l.ok && r.ok, `run ${run}: ${JSON.stringify([l, r])}`).toBe(true);
      expect([...l.released!, ...r.released!], `run ${run}`).toEqual(["join"]);
      const taken = [...(l.taken as GateResult[]), ...(r.taken as GateResult[])];
      expect(
        taken.map((t) => [t.runId, t.step, t.attempt, t.deps]),
        `run ${run}`,
      ).toEqual([[String(run), "join", 1, { left: "left", right: "right" }]]);
      takers[run] = l.taken && (l.taken as unknown[]).length ? "w-left" : "w-right";
    }
    // The join runs under the lease of the worker whose answer had it, with no job.
    const { rows } = await db.query<{ run_id: string; locked_by: string; job: boolean }>(
      `select run_id, locked_by, job_id is not null as job from rowflow.step_runs
       where run_id = any($1::bigint[]) and step = 'join' and status = 'running' and started_at is not null
       order by run_id`,
      [runs],
    );
    expect(rows.map((r) => [Number(r.run_id), r.locked_by, r.job])).toEqual(
      runs.map((run) => [run, takers[run], false]),
    );
    const { rows: jobs } = await db.query(
      `select count(*)::int as n from graphile_worker._private_jobs
       where payload->>'step' = 'join' and (payload->>'run')::bigint = any($1::bigint[])`,
      [runs],
    );
    expect(jobs[0]).toEqual({ n: 0 });
  }, 300_000);
});
