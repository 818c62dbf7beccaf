// `rowflow purge` of 100,000 finished runs (docs/cli.md#rowflow-purge,
// sql-api.md#purge_runs) while a worker goes on claiming and running new
// runs: every old finished run goes with its step rows and events, in
// batches of 1,000, each its own transaction, with the running count a
// terminal shows; no unfinished run (queued, running with a delayed step,
// compensating, or with a step mid-flight in the worker) is touched, however
// old; the runs the worker processed meanwhile finish normally.
//
// The 100,000 runs are written set-based, as the superuser, straight into
// the run tables (no gate calls: ~4 s instead of minutes), obeying their
// state rules (sql/schema/20_tables/20_runs.sql, 21_step_runs.sql).
import { expect, it } from "vitest";

import { useTestDatabase } from "../helpers/db.js";
import { runCliOnTerminal } from "../helpers/run-cli.js";
import { waitFor } from "../helpers/wait-for.js";
import { startTestWorker } from "../helpers/worker.js";
import { insertRun } from "../sql/factories.js";
import { claimAll, define, queueRun } from "../sql/support.js";

const db = useTestDatabase();

const FINISHED = 100_000;
const BATCH = 1_000;

// Runs of "archive" (a → b), finished 40 days ago (one second apart): 80%
// succeeded, 10% failed (b failed; step_failed and run_failed events), 10%
// cancelled (b cancelled; step_cancelled and run_cancelled events). Their ids
// are kept in purge_fixture.
const fixtureSql = `
create table public.purge_fixture (id bigint primary key, status text not null);
with made as (
  insert into rowflow.runs (workflow, version, status, input, error, created_at, updated_at, started_at, finished_at)
  select 'archive', 1, s.status, pg_catalog.jsonb_build_object('i', g),
         case when s.status <> 'succeeded' then '{"message": "b failed"}'::jsonb end,
         s.t - interval '1 minute', s.t, s.t - interval '1 minute', s.t
  from generate_series(1, ${FINISHED}) as g
  cross join lateral (
    select case g % 10 when 0 then 'failed' when 1 then 'cancelled' else 'succeeded' end as status,
           now() - interval '40 days' + g * interval '1 second' as t) as s
  returning id, status)
insert into public.purge_fixture select id, status from made;

insert into rowflow.step_runs (run_id, step, status, attempt, max_attempts, output, error, created_at, queued_at,
                               started_at, finished_at)
select f.id, st.step, st.status, st.attempt, 3, st.output, st.error, r.started_at,
       case when st.attempt > 0 then r.started_at end, st.started_at, r.finished_at
from public.purge_fixture as f
join rowflow.runs as r on r.id = f.id
cross join lateral (values
  ('a', 'succeeded', 1::smallint, '{"a": true}'::jsonb, null::jsonb, r.started_at),
  ('b', case f.status when 'cancelled' then 'cancelled' else f.status end,
        case f.status when 'cancelled' then 0 when 'failed' then 3 else 1 end::smallint,
        case when f.status = 'succeeded' then '{"b": true}'::jsonb end,
        case when f.status = 'failed' then '{"message": "b failed"}'::jsonb end,
        case when f.status <> 'cancelled' then r.started_at end)
) as st(step, status, attempt, output, error, started_at);

insert into rowflow.events (run_id, step, type, attempt, data, at)
select f.id, e.step, e.type, e.attempt, e.data, r.finished_at
from public.purge_fixture as f
join rowflow.runs as r on r.id = f.id
cross join lateral (values
  ('b', 'step_failed', 3::smallint, '{"error": {"message": "b failed"}, "retryable": true}'::jsonb, 'failed'),
  ('b', 'step_cancelled', null, '{"reason": "run cancelled"}'::jsonb, 'cancelled'),
  (null, 'run_failed', null, '{"message": "b failed"}'::jsonb, 'failed'),
  (null, 'run_cancelled', null, '{"reason": "by hand", "from": "running"}'::jsonb, 'cancelled')
) as e(step, type, attempt, data, of_status)
where e.of_status = f.status;
`;

/** Everything stored about these runs: their rows, step rows, events and graphile jobs. */
async function rowsOf(ids: number[]): Promise<unknown> {
  const { rows } = await db.query<{ s: unknown }>(
    `select jsonb_build_object(
       'runs', (select jsonb_agg(r order by r.id) from rowflow.runs as r where r.id = any ($1::bigint[])),
       'steps', (select jsonb_agg(s order by s.run_id, s.step) from rowflow.step_runs as s
                 where s.run_id = any ($1::bigint[])),
       'events', (select jsonb_agg(e order by e.run_id, e.id) from rowflow.events as e
                  where e.run_id = any ($1::bigint[])),
       'jobs', (select jsonb_agg(jsonb_build_object('id', j.id, 'run_at', j.run_at, 'locked_by', j.locked_by,
                                                    'attempts', j.attempts) order by j.id)
                from graphile_worker._private_jobs as j
                where j.id in (select s.job_id from rowflow.step_runs as s where s.run_id = any ($1::bigint[])))) as s`,
    [ids],
  );
  return rows[0]!.s;
}

async function count(sql: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>(`select (${sql})::int as n`);
  return rows[0]!.n;
}

it("purges 100,000 finished runs in batches while a worker runs; nothing unfinished is touched", async () => {
  await define(db.pool, "archive", {
    steps: [
      { name: "a", task: "arch" },
      { name: "b", task: "arch", dependsOn: ["a"] },
    ],
  });
  await define(db.pool, "held", { steps: [{ name: "a", task: "arch" }] });
  await define(db.pool, "later", {
    steps: [
      { name: "a", task: "arch", delay: "30 days" },
      { name: "b", task: "arch", dependsOn: ["a"] },
    ],
  });
  await define(db.pool, "flow", {
    steps: [
      { name: "x", task: "flow.step" },
      { name: "y", task: "flow.step", dependsOn: ["x"] },
    ],
  });
  await define(db.pool, "live", {
    steps: [
      { name: "slow", task: "live.slow" },
      { name: "after", task: "flow.step", dependsOn: ["slow"] },
    ],
  });

  await db.query(fixtureSql);
  expect(await count("select count(*) from public.purge_fixture")).toBe(FINISHED);
  const fixtureEvents = await count(
    "select count(*) from rowflow.events where run_id in (select id from public.purge_fixture)",
  );
  expect(fixtureEvents).toBe(FINISHED * 0.4);

  // Unfinished runs, all created 60 days ago: a purge that looked at any
  // timestamp but finished_at would take them.
  const old = new Date(Date.now() - 60 * 86_400_000).toISOString();
  const later = await queueRun(db.pool, "later");
  await claimAll(db.pool); // running, step a queued with a job due in 30 days
  await db.query(
    `update rowflow.runs set created_at = $2, updated_at = $2, started_at = $2
     where id = $1 and status = 'running'`,
    [later, old],
  );
  await db.query("select rowflow.pause_workflow('held')");
  const queued = await insertRun(db.pool, { workflow: "held", status: "queued", at: old });
  const compensating = await insertRun(db.pool, {
    workflow: "archive",
    status: "compensating",
    error: { message: "b failed" },
    at: old,
    steps: { a: { status: "succeeded", output: { a: true } }, b: "failed" },
  });
  // Finished, but a day ago only: kept.
  const recent = new Date(Date.now() - 86_400_000).toISOString();
  const kept = [
    await insertRun(db.pool, {
      workflow: "archive",
      status: "succeeded",
      at: recent,
      steps: { a: "succeeded", b: "succeeded" },
    }),
    await insertRun(db.pool, {
      workflow: "archive",
      status: "failed",
      error: { message: "b failed" },
      at: recent,
      steps: { a: "succeeded", b: "failed" },
    }),
  ];

  let releaseSlow!: () => void;
  const slowReleased = new Promise<void>((resolve) => (releaseSlow = resolve));
  let slowEntered!: () => void;
  const slowRunning = new Promise<void>((resolve) => (slowEntered = resolve));
  const worker = await startTestWorker(db.url, {
    syncWorkflows: false,
    tasks: {
      "flow.step": (ctx) => ({ step: ctx.step.name, deps: Object.keys(ctx.deps).sort() }),
      "live.slow": async () => {
        slowEntered();
        await slowReleased;
        return { slow: true };
      },
    },
  });
  let feeding = true;
  let feeder: Promise<void> | undefined;
  try {
    const { rows: liveRows } = await db.query<{ id: string }>(
      "select rowflow.start_run('live', '{}') as id",
    );
    const live = Number(liveRows[0]!.id);
    await slowRunning;
    const unfinished = [later, queued, compensating, live];
    const { rows: states } = await db.query<{ id: number; status: string }>(
      "select id::int, status from rowflow.runs where id = any ($1::bigint[]) order by id",
      [unfinished],
    );
    expect(states.map((s) => s.status)).toEqual(["running", "queued", "compensating", "running"]);
    expect(
      await count(
        `select status = 'running' from rowflow.step_runs where run_id = ${live} and step = 'slow'`,
      ),
    ).toBe(1);
    const unfinishedBefore = await rowsOf(unfinished);
    const keptBefore = await rowsOf(kept);

    // New runs all along, 4 at a time, each round waited for: the worker
    // claims and runs them while the purge deletes.
    const flowRuns: number[] = [];
    const round = async () => {
      const { rows } = await db.query<{ id: string }>(
        "select rowflow.start_runs('flow', array_fill('{}'::jsonb, array[4])) as id",
      );
      const ids = rows.map((r) => Number(r.id));
      flowRuns.push(...ids);
      await waitFor(
        async () =>
          (await count(
            `select count(*) = 4 from rowflow.runs where id = any ('{${ids.join(",")}}') and status = 'succeeded'`,
          )) === 1,
        { timeoutMs: 30_000, message: `flow runs ${ids.join(", ")} succeeded` },
      );
    };
    await round();
    feeder = (async () => {
      while (feeding) await round();
    })();
    feeder.catch(() => {}); // awaited below; a failed round fails the test there
    const purge = await runCliOnTerminal([
      "purge",
      "--older-than",
      "30d",
      "--batch",
      String(BATCH),
      "--database-url",
      db.url,
    ]);
    feeding = false;
    await feeder;

    expect(purge.code, purge.stdout).toBe(0);
    // The terminal's running count, one update per purge_runs call (the
    // last one deleted nothing), then the answer on stdout.
    const progress = [...purge.stdout.matchAll(/\rdeleted (\d+) run\(s\)…/g)].map((m) =>
      Number(m[1]),
    );
    const batches = FINISHED / BATCH;
    expect(progress).toEqual([
      ...Array.from({ length: batches }, (_, i) => (i + 1) * BATCH),
      FINISHED,
    ]);
    expect(purge.stdout).toMatch(new RegExp(`\\r?\\ndeleted ${FINISHED} run\\(s\\)\\r?\\n$`));

    // Observed in the database: one audit row per batch, each written by
    // its own transaction (distinct xmin), 1,000 runs each.
    const { rows: audit } = await db.query<{ deleted: number; tx: string; at: Date }>(
      `select (data ->> 'deleted')::int as deleted, xmin::text as tx, at
       from rowflow.audit where action = 'purge_runs' order by id`,
    );
    expect(audit.map((a) => a.deleted)).toEqual(Array.from({ length: batches }, () => BATCH));
    expect(new Set(audit.map((a) => a.tx)).size).toBe(batches);

    // The old finished runs are gone with their steps and events.
    for (const table of [
      "rowflow.runs where id",
      "rowflow.step_runs where run_id",
      "rowflow.events where run_id",
    ]) {
      expect(
        await count(`select count(*) from ${table} in (select id from public.purge_fixture)`),
        table,
      ).toBe(0);
    }
    // What is not theirs is as it was: the unfinished runs (the live one's
    // step still running), and the runs that finished a day ago.
    expect(await rowsOf(unfinished)).toEqual(unfinishedBefore);
    expect(await rowsOf(kept)).toEqual(keptBefore);

    // The worker claimed and finished runs between the first batch and the
    // last, and every run it was given finished normally.
    const first = audit[0]!.at;
    const last = audit[batches - 1]!.at;
    const during = await count(
      `select count(*) from rowflow.runs where workflow = 'flow'
         and started_at > '${first.toISOString()}' and finished_at < '${last.toISOString()}'`,
    );
    expect(
      during,
      `flow runs claimed and finished between ${first.toISOString()} and ${last.toISOString()}`,
    ).toBeGreaterThan(0);
    const { rows: flowSteps } = await db.query<{
      run_id: number;
      step: string;
      status: string;
      output: unknown;
    }>(
      `select s.run_id::int, s.step, s.status, s.output from rowflow.step_runs as s
       where s.run_id = any ($1::bigint[]) order by s.run_id, s.step`,
      [flowRuns],
    );
    expect(flowSteps).toEqual(
      flowRuns.flatMap((run) => [
        { run_id: run, step: "x", status: "succeeded", output: { step: "x", deps: [] } },
        { run_id: run, step: "y", status: "succeeded", output: { step: "y", deps: ["x"] } },
      ]),
    );
    expect(
      await count(
        `select count(*) from rowflow.runs where id = any ('{${flowRuns.join(",")}}') and status = 'succeeded'`,
      ),
    ).toBe(flowRuns.length);

    // The step that was mid-flight through the purge completes as usual.
    releaseSlow();
    await waitFor(
      async () =>
        (await count(`select status = 'succeeded' from rowflow.runs where id = ${live}`)) === 1,
      { timeoutMs: 30_000, message: `live run ${live} succeeded` },
    );
    expect(
      (
        await db.query(
          "select step, status, output from rowflow.step_runs where run_id = $1 order by step",
          [live],
        )
      ).rows,
    ).toEqual([
      { step: "after", status: "succeeded", output: { step: "after", deps: ["slow"] } },
      { step: "slow", status: "succeeded", output: { slow: true } },
    ]);
  } finally {
    feeding = false;
    releaseSlow();
    await feeder?.catch(() => {});
    await worker.stop();
  }
}, 180_000);
