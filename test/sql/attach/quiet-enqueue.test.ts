// 000005: the trigger path NOTIFYs at most once per transaction and only when
// someone waits; rowflow._enqueue matches graphile_worker.add_jobs.
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
  await db.query(`create table t (id int primary key); select rowflow.attach('t', 'w');`);
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

describe("NOTIFY on the trigger path", () => {
  it("sends nothing when nobody waits (3 inserts, 1 transaction)", async () => {
    await db.query("delete from rowflow.waiters");
    const got = await notificationsOf(async (c) => {
      for (const id of [1, 2, 3]) await c.query("insert into t values ($1)", [id]);
    });
    expect(got).toEqual([]);
    expect((await db.query("select count(*)::int as n from rowflow.runs")).rows[0]!.n).toBe(3);
  });

  it("sends one jobs:insert per transaction when a worker waits, none once its mark expired", async () => {
    await db.query("select rowflow.mark_waiting('worker-1', 'jobs:insert', interval '1 minute')");
    const got = await notificationsOf(async (c) => {
      for (const id of [11, 12, 13]) await c.query("insert into t values ($1)", [id]);
    });
    expect(got).toEqual([{ channel: "jobs:insert", payload: '{"count":1}' }]);

    await db.query(
      "select rowflow.mark_waiting('worker-1', 'jobs:insert', interval '1 minute', now => now() - interval '2 minutes')",
    );
    expect(await notificationsOf((c) => c.query("insert into t values (21)"))).toEqual([]);
    await db.query("select rowflow.unmark_waiting('worker-1')");
    expect((await db.query("select count(*)::int as n from rowflow.waiters")).rows[0]!.n).toBe(0);
  });

  it("sends the rowflow run hint only to a waiting live view", async () => {
    await db.query("select rowflow.mark_waiting('tail-1', 'rowflow')");
    const got = await notificationsOf((c) => c.query("insert into t values (31), (32)"));
    expect(got).toEqual([{ channel: "rowflow", payload: '{"started": 2, "workflow": "w"}' }]);
    await db.query("select rowflow.unmark_waiting('tail-1', 'rowflow')");
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

  it("000006: _add_step_jobs and start_runs' inline insert write add_jobs' rows, without a key", async () => {
    // The columns graphile-worker reads or defaults; timestamps compared to the transaction's now().
    const shape = `select t.identifier, q.queue_name, j.payload::text, j.run_at = $1::timestamptz as at,
        j.max_attempts, j.key, j.priority, j.flags, j.attempts, j.revision, j.locked_at, j.locked_by,
        j.last_error, j.is_available, j.created_at = now() as created_now, j.updated_at = now() as updated_now
      from graphile_worker._private_jobs j join graphile_worker._private_tasks t on t.id = j.task_id
      left join graphile_worker._private_job_queues q on q.id = j.job_queue_id
      where j.id = any($2::bigint[]) order by j.id`;
    const at = "2030-01-01T00:00:00Z";
    const payload = "pg_catalog.json_build_object('run', 7, 'step', s, 'attempt', 1)";
    const viaAddJobs = await db.rollback(async (c) => {
      const { rows } = await c.query<{ id: string }>(
        `select id from graphile_worker.add_jobs(array(
           select row('rowflow:step', ${payload}, q, $1::timestamptz, 25, null, p, null)::graphile_worker.job_spec
           from (values ('a', null, 3), ('b', 'q1', -2)) as v(s, q, p)))`,
        [at],
      );
      return (await c.query(shape, [at, rows.map((r) => r.id)])).rows;
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

    // start_runs' one-statement insert of a root job: the same row as
    // add_jobs would write for its spec.
    await define(db.pool, "lean-root", {
      steps: [{ name: "a", task: "t", queue: "q2", priority: 4 }],
    });
    const [fromStart, fromAddJobs] = await db.rollback(async (c) => {
      await c.query("select rowflow.start_run('lean-root', now => $1::timestamptz)", [at]);
      const { rows } = await c.query<{ run: string; job: string }>(
        `select r.id as run, s.job_id as job from rowflow.runs r
         join rowflow.step_runs s on s.run_id = r.id and s.step = 'a' where r.workflow = 'lean-root'`,
      );
      const run = rows[0]!.run;
      const { rows: added } = await c.query<{ id: string }>(
        `select id from graphile_worker.add_jobs(array[row('rowflow:step',
           pg_catalog.json_build_object('run', $1::bigint, 'step', 'a', 'attempt', 1), 'q2', $2::timestamptz,
           25, null, 4, null)::graphile_worker.job_spec])`,
        [run, at],
      );
      return [
        (await c.query(shape, [at, [rows[0]!.job]])).rows,
        (await c.query(shape, [at, [added[0]!.id]])).rows,
      ];
    });
    expect(fromStart).toHaveLength(1);
    expect(fromStart).toEqual(fromAddJobs);
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
