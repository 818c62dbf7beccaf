// sql/schema/80_wake/: a start NOTIFYs at most once per transaction and kind, and
// only when somebody waits: a waiting worker gets 'jobs:insert' {"count":0,
// "runs":n} (graphile-worker ignores a count of 0; rowflow's worker claims
// runs), a waiting live view 'rowflow' {"run": id} or {"workflow", "started"}.
// The engine's job writers (claim_runs, _add_step_jobs, _enqueue) write the
// rows graphile_worker.add_jobs writes.
import { readFile } from "node:fs/promises";

import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { useTestDatabase } from "../../helpers/db.js";
import { define } from "../support.js";

const db = useTestDatabase();
let listener: pg.Client;
const received: Array<{ channel: string; payload: string | undefined }> = [];

beforeAll(async () => {
  await define(db.pool, "w", { steps: [{ name: "a", task: "t" }] });
  await db.query(`
    create table t (id int primary key);
    select rowflow.attach('t', 'w');
    create table k (id int primary key, g int not null);
    select rowflow.attach('k', 'w', idempotency_key => '''g:'' || new.g');
  `);
  listener = new pg.Client({ connectionString: db.url });
  await listener.connect();
  listener.on("notification", (m) => received.push({ channel: m.channel, payload: m.payload }));
  await listener.query(`listen "jobs:insert"; listen rowflow; listen sentinel`);
});

afterAll(async () => {
  await listener?.end();
});

/**
 * Runs `fn` in a committed transaction, then commits a NOTIFY on "sentinel"
 * and waits for it: notifications arrive in commit order, so whatever `fn`'s
 * transaction sent has arrived by then. Returns those notifications.
 */
async function notificationsOf(fn: (c: pg.PoolClient) => Promise<unknown>) {
  received.length = 0;
  const c = await db.pool.connect();
  try {
    await c.query("begin");
    await fn(c);
    await c.query("commit");
  } finally {
    c.release();
  }
  const tag = String(Math.random());
  await db.query("select pg_notify('sentinel', $1)", [tag]);
  const deadline = Date.now() + 10_000;
  while (!received.some((m) => m.channel === "sentinel" && m.payload === tag)) {
    if (Date.now() > deadline) throw new Error("sentinel notification did not arrive");
    await new Promise((resolve) => setImmediate(resolve));
  }
  return received.filter((m) => m.channel !== "sentinel");
}

/** Committed runs of workflow w. */
async function runCount() {
  const { rows } = await db.query<{ n: number }>(
    "select count(*)::int as n from rowflow.runs where workflow = 'w'",
  );
  return rows[0]!.n;
}

/** The runs `c`'s transaction started through attachments so far. */
async function pendingIds(c: pg.PoolClient) {
  const { rows } = await c.query<{ run_id: string }>(
    "select run_id from rowflow.pending_runs() order by run_id",
  );
  return rows.map((r) => r.run_id);
}

describe("NOTIFY on the trigger path", () => {
  it("sends nothing when nobody waits (4 statements, 1 transaction)", async () => {
    await db.query("delete from rowflow.waiters");
    const before = await runCount();
    const got = await notificationsOf(async (c) => {
      for (const id of [1, 2, 3]) await c.query("insert into t values ($1)", [id]);
      await c.query("insert into k values (1, 1)");
    });
    expect(got).toEqual([]);
    expect(await runCount()).toBe(before + 4);
  });

  it("sends one jobs:insert per transaction when a worker waits, none once its mark expired", async () => {
    await db.query("select rowflow.mark_waiting('worker-1', 'jobs:insert', interval '1 minute')");
    const before = await runCount();
    // The first start of the transaction counts its runs; later ones send nothing.
    expect(
      await notificationsOf(async (c) => {
        await c.query("insert into t values (11)");
        await c.query("insert into t values (12), (13)");
        await c.query("insert into k values (11, 11)");
      }),
    ).toEqual([{ channel: "jobs:insert", payload: '{"count":0,"runs":1}' }]);
    expect(
      await notificationsOf(async (c) => {
        await c.query("insert into t values (14), (15)");
        await c.query("insert into t values (16)");
      }),
    ).toEqual([{ channel: "jobs:insert", payload: '{"count":0,"runs":2}' }]);
    // A keyed attachment (through _start_attached) the same way.
    expect(
      await notificationsOf(async (c) => {
        await c.query("insert into k values (17, 17), (18, 18)");
        await c.query("insert into k values (19, 19)");
        await c.query("insert into t values (19)");
      }),
    ).toEqual([{ channel: "jobs:insert", payload: '{"count":0,"runs":2}' }]);
    expect(await runCount()).toBe(before + 11);

    await db.query(
      "select rowflow.mark_waiting('worker-1', 'jobs:insert', interval '1 minute', now => now() - interval '2 minutes')",
    );
    expect(
      await notificationsOf(async (c) => {
        await c.query("insert into t values (21)");
        await c.query("insert into k values (21, 21)");
      }),
    ).toEqual([]);
    await db.query("select rowflow.unmark_waiting('worker-1')");
    expect((await db.query("select count(*)::int as n from rowflow.waiters")).rows[0]!.n).toBe(0);
  });

  it("sends the rowflow hint only to a waiting live view: the run, or the workflow and how many", async () => {
    await db.query("select rowflow.mark_waiting('tail-1', 'rowflow')");
    let ids: string[] = [];
    expect(
      await notificationsOf(async (c) => {
        await c.query("insert into t values (31)");
        await c.query("insert into t values (32), (33)");
        ids = await pendingIds(c);
      }),
    ).toEqual([{ channel: "rowflow", payload: `{"run": ${ids[0]}}` }]);
    expect(ids).toHaveLength(3);
    expect(await notificationsOf((c) => c.query("insert into t values (34), (35)"))).toEqual([
      { channel: "rowflow", payload: '{"started": 2, "workflow": "w"}' },
    ]);
    expect(
      await notificationsOf(async (c) => {
        await c.query("insert into k values (36, 36)");
        ids = await pendingIds(c);
      }),
    ).toEqual([{ channel: "rowflow", payload: `{"run": ${ids[0]}}` }]);
    await db.query("select rowflow.unmark_waiting('tail-1', 'rowflow')");
    expect(await notificationsOf((c) => c.query("insert into t values (37)"))).toEqual([]);
  });

  it("a worker and a live view waiting: one NOTIFY each per transaction", async () => {
    await db.query("select rowflow.mark_waiting('worker-2', 'jobs:insert')");
    await db.query("select rowflow.mark_waiting('tail-2', 'rowflow')");
    expect(
      await notificationsOf(async (c) => {
        await c.query("insert into t values (41), (42)");
        await c.query("insert into t values (43)");
        await c.query("insert into k values (43, 43)");
      }),
    ).toEqual([
      { channel: "jobs:insert", payload: '{"count":0,"runs":2}' },
      { channel: "rowflow", payload: '{"started": 2, "workflow": "w"}' },
    ]);
    await db.query("select rowflow.unmark_waiting('worker-2')");
    await db.query("select rowflow.unmark_waiting('tail-2')");
    expect((await db.query("select count(*)::int as n from rowflow.waiters")).rows[0]!.n).toBe(0);
  });
});

describe("rowflow._enqueue", () => {
  it("writes the same job rows as graphile_worker.add_jobs", async () => {
    const specs = `array[
      row('rowflow:step', '{"run": 1}'::json, null, '2030-01-01Z', 25, 'k-a', 3, null)::graphile_worker.job_spec,
      row('other', '{"x": [1]}'::json, 'q1', null, 5, null, 0, array['f1'])::graphile_worker.job_spec]`;
    const shape = `select t.identifier, q.queue_name, j.payload::text, j.run_at = '2030-01-01Z' as at2030,
        j.max_attempts, j.key, j.priority, j.flags, j.attempts, j.revision
      from graphile_worker._private_jobs j join graphile_worker._private_tasks t on t.id = j.task_id
      left join graphile_worker._private_job_queues q on q.id = j.job_queue_id
      where j.key = 'k-a' or j.payload::text = '{"x": [1]}' order by t.identifier`;
    const viaAddJobs = await db.rollback(async (c) => {
      await c.query(`select graphile_worker.add_jobs(${specs})`);
      await c.query(`select graphile_worker.add_jobs(${specs})`); // replace by key
      return (await c.query(shape)).rows;
    });
    const viaEnqueue = await db.rollback(async (c) => {
      await c.query(`select rowflow._enqueue(${specs})`);
      await c.query(`select rowflow._enqueue(${specs})`);
      return (await c.query(shape)).rows;
    });
    expect(viaAddJobs).toHaveLength(3);
    expect(viaEnqueue).toEqual(viaAddJobs);
  });

  it("_add_step_jobs and claim_runs(take => 0) write add_jobs' rows, without a key", async () => {
    // The columns graphile-worker reads or defaults, in the order of the ids
    // given; run_at relative to $1, the other times compared to the
    // transaction's now().
    const shape = `select t.identifier, q.queue_name, j.payload::text, (j.run_at - $1::timestamptz)::text as run_at,
        j.max_attempts, j.key, j.priority, j.flags, j.attempts, j.revision, j.locked_at, j.locked_by,
        j.last_error, j.is_available, j.created_at = now() as created_now, j.updated_at = now() as updated_now
      from graphile_worker._private_jobs j join graphile_worker._private_tasks t on t.id = j.task_id
      left join graphile_worker._private_job_queues q on q.id = j.job_queue_id
      where j.id = any($2::bigint[]) order by array_position($2::bigint[], j.id)`;
    const at = "2030-01-01T00:00:00Z";
    const payload = "pg_catalog.json_build_object('run', 7, 'step', s, 'attempt', 1)";
    const viaAddJobs = await db.rollback(async (c) => {
      const { rows } = await c.query<{ id: string }>(
        `select id from graphile_worker.add_jobs(array(
           select row('rowflow:step', ${payload}, q, $1::timestamptz, 25, null, p, null)::graphile_worker.job_spec
           from (values ('a', null, 3), ('b', 'q1', -2)) as v(s, q, p)))`,
        [at],
      );
      const ids = rows.map((r) => r.id).sort((x, y) => Number(x) - Number(y));
      return (await c.query(shape, [at, ids])).rows;
    });
    const viaLean = await db.rollback(async (c) => {
      const { rows } = await c.query<{ ids: string[] }>(
        `select rowflow._add_step_jobs(array(
           select row(7, s, 1, q, $1::timestamptz, p)::rowflow.step_job
           from (values ('a', null, 3), ('b', 'q1', -2)) as v(s, q, p))) as ids`,
        [at],
      );
      return (await c.query(shape, [at, rows[0]!.ids])).rows;
    });
    expect(viaAddJobs).toHaveLength(2);
    expect(viaAddJobs[0]).toMatchObject({
      key: null,
      is_available: true,
      attempts: 0,
      revision: 0,
    });
    expect(viaLean).toEqual(viaAddJobs);

    // claim_runs' jobs for the root steps of the runs it claims (a named
    // queue, a delay, step + run priority): the rows add_jobs writes for
    // the same specs.
    await define(db.pool, "lean-root", {
      steps: [
        { name: "a", task: "t", queue: "q2", priority: 4 },
        { name: "b", task: "t", priority: -2, delay: "5 seconds" },
        { name: "c", task: "t", dependsOn: ["a", "b"] },
      ],
    });
    const [fromClaim, fromAddJobs] = await db.rollback(async (c) => {
      const { rows: started } = await c.query<{ live: string; backfill: string }>(
        `select rowflow.start_run('lean-root') as live,
                (select rowflow.start_runs('lean-root', array['{}'::jsonb], priority => 1000)) as backfill`,
      );
      const { live, backfill } = started[0]!;
      await c.query(
        `select rowflow.claim_runs(take => 0, now => $1::timestamptz,
           max_runs => (select count(*)::int from rowflow.runs where status = 'queued'))`,
        [at],
      );
      // add_jobs answers in its own order.
      const byRunAndStep = async (q: pg.PoolClient, ids: string[]) =>
        (
          await q.query<{ id: string }>(
            `select id from graphile_worker._private_jobs where id = any($1::bigint[])
             order by (payload->>'run')::bigint, payload->>'step'`,
            [ids],
          )
        ).rows.map((r) => r.id);
      const { rows: claimed } = await c.query<{ job: string }>(
        `select s.job_id as job from rowflow.step_runs s
         where s.run_id = any($1::bigint[]) and s.job_id is not null order by s.run_id, s.step`,
        [[live, backfill]],
      );
      const { rows: added } = await c.query<{ id: string }>(
        `select id from graphile_worker.add_jobs(array(
           select row('rowflow:step', pg_catalog.json_build_object('run', r, 'step', s, 'attempt', 1), q,
                      $3::timestamptz + d, 25, null, p, null)::graphile_worker.job_spec
           from (values ($1::bigint, 'a', 'q2', interval '0', 4), ($1, 'b', null, interval '5 seconds', -2),
                        ($2::bigint, 'a', 'q2', interval '0', 1004), ($2, 'b', null, interval '5 seconds', 998))
             as v(r, s, q, d, p)))`,
        [live, backfill, at],
      );
      return [
        (await c.query(shape, [at, claimed.map((r) => r.job)])).rows,
        (
          await c.query(shape, [
            at,
            await byRunAndStep(
              c,
              added.map((r) => r.id),
            ),
          ])
        ).rows,
      ];
    });
    expect(fromClaim).toHaveLength(4);
    expect(fromClaim.map((j) => [j.queue_name, j.run_at, j.priority])).toEqual([
      ["q2", "00:00:00", 4],
      [null, "00:00:05", -2],
      ["q2", "00:00:00", 1004],
      [null, "00:00:05", 998],
    ]);
    expect(fromClaim).toEqual(fromAddJobs);
  });

  it("000005's start_runs is 000002's except PHASE 3 and the plan-mode lines", async () => {
    const extract = async (file: string) => {
      const text = await readFile(
        new URL(`../../../sql/migrations/${file}`, import.meta.url),
        "utf8",
      );
      const start = text.indexOf("function rowflow.start_runs(");
      const body = text.slice(start, text.indexOf("$$;", start));
      return body
        .replace(/ {2}-- PHASE 3:[\s\S]*?\n\n/, "<phase 3>\n")
        .replace(/ {2}-- \(000005\)[\s\S]*?end if;\n/, "")
        .replace("set plan_cache_mode to force_generic_plan\n", "");
    };
    expect(await extract("000005_quiet_enqueue.sql")).toEqual(await extract("000002_engine.sql"));
  });
});
