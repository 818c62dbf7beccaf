import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { useTestDatabase } from "../../helpers/db.js";
import { define, type GateResult } from "../support.js";

const db = useTestDatabase();
const ROUNDS = 1000;

/**
 * Invariant 3: a fan-in step is released exactly once however its
 * dependencies race. Two connections complete the two parents of a join at
 * the same moment and commit; repeated ROUNDS times, on ROUNDS runs.
 */
describe("fan-in race", () => {
  let c1: pg.PoolClient;
  let c2: pg.PoolClient;
  let runs: number[] = [];

  beforeAll(async () => {
    await define(db.pool, "race", {
      steps: [
        { name: "left", task: "t" },
        { name: "right", task: "t" },
        { name: "join", task: "t", dependsOn: ["left", "right"] },
      ],
    });
    const inputs = Array.from({ length: ROUNDS }, (_, i) => JSON.stringify({ i }));
    const { rows } = await db.query<{ id: string }>(
      "select id from rowflow.start_runs(workflow => 'race', inputs => $1::jsonb[]) as id",
      [inputs],
    );
    runs = rows.map((r) => Number(r.id));
    const { rows: begun } = await db.query<{ n: number }>(
      `select count(*) filter (where (rowflow.begin_step(id, 'left', 1) ->> 'ok')::boolean
                                 and (rowflow.begin_step(id, 'right', 1) ->> 'ok')::boolean)::int as n
       from unnest($1::bigint[]) as id`,
      [runs],
    );
    expect(begun[0]).toEqual({ n: ROUNDS });
    // 000006: the join has no row yet; the first completion inserts it, the second releases it.
    const { rows: joins } = await db.query<{ n: number }>(
      "select count(*)::int as n from rowflow.step_runs where run_id = any($1::bigint[]) and step = 'join'",
      [runs],
    );
    expect(joins[0]).toEqual({ n: 0 });
    c1 = await db.pool.connect();
    c2 = await db.pool.connect();
  });

  afterAll(() => {
    c1?.release();
    c2?.release();
  });

  const completeAndCommit = async (client: pg.PoolClient, run: number, step: string) => {
    const { rows } = await client.query<{ r: GateResult }>(
      "select rowflow.complete_step(run_id => $1, step => $2, attempt => 1, output => to_jsonb($2::text)) as r",
      [run, step],
    );
    await client.query("commit");
    return rows[0]!.r;
  };

  it(`releases the join exactly once in each of ${ROUNDS} races, without deadlock`, async () => {
    const releasedBy = { left: 0, right: 0 };
    for (const run of runs) {
      // Both transactions are open before either completes: the completions
      // then go out on the two connections in the same tick.
      await Promise.all([c1.query("begin"), c2.query("begin")]);
      const [l, r] = await Promise.all([
        completeAndCommit(c1, run, "left"),
        completeAndCommit(c2, run, "right"),
      ]);
      expect(l.ok && r.ok, `run ${run}: ${JSON.stringify([l, r])}`).toBe(true);
      const released = [...l.released!, ...r.released!];
      expect(released, `run ${run}`).toEqual(["join"]);
      if (l.released!.length) releasedBy.left++;
      else releasedBy.right++;
    }
    expect(releasedBy.left + releasedBy.right).toBe(ROUNDS);

    // The database agrees: one queued join, one job, one event per run.
    const { rows } = await db.query(
      `select
         (select count(*) from rowflow.step_runs where run_id = any($1::bigint[]) and step = 'join'
            and status = 'queued' and deps_remaining = 0 and attempt = 1)::int as queued_joins,
         (select count(*) from rowflow.events where run_id = any($1::bigint[]) and step = 'join' and type = 'step_queued')::int as join_events,
         (select count(*) from graphile_worker._private_jobs j join rowflow.step_runs s on s.job_id = j.id
            where s.step = 'join' and j.payload->>'step' = 'join' and (j.payload->>'run')::bigint = s.run_id
            and s.run_id = any($1::bigint[]))::int as join_jobs,
         (select count(*) from graphile_worker._private_jobs
            where payload->>'step' = 'join' and (payload->>'run')::bigint = any($1::bigint[]))::int as all_join_jobs,
         (select count(*) from rowflow.runs where id = any($1::bigint[]) and status = 'running' and steps_left = 1)::int as running`,
      [runs],
    );
    expect(rows[0]).toEqual({
      queued_joins: ROUNDS,
      join_events: ROUNDS,
      join_jobs: ROUNDS,
      all_join_jobs: ROUNDS,
      running: ROUNDS,
    });
  }, 300_000);
});
