// What attached triggers start: one queued run per matching row, in the
// business transaction (the run row only; a worker's claim_runs makes
// its step rows and jobs); modes; preview.
import { beforeAll, describe, expect, it } from "vitest";

import { useTestDatabase } from "../../helpers/db.js";
import { claimAll, define, expectSqlError, type Queryable } from "../support.js";

const db = useTestDatabase();

const diamond = {
  steps: [
    { name: "a", task: "t" },
    { name: "b", task: "t", dependsOn: ["a"] },
    { name: "c", task: "t", dependsOn: ["a"] },
    { name: "d", task: "t", dependsOn: ["b", "c"] },
  ],
};

beforeAll(async () => {
  await define(db.pool, "paid", diamond);
  await define(db.pool, "gone", { steps: [{ name: "a", task: "t" }] });
  await db.query(`
    create table orders (id bigint primary key, status text not null default 'new', total numeric not null default 0);
    select rowflow.attach('orders', 'paid', '{insert,update}',
      "when" => 'new.status = ''paid'' and old.status is distinct from ''paid''',
      input => 'jsonb_build_object(''order'', new.id, ''total'', new.total, ''was'', old.status)',
      idempotency_key => '''order-paid:'' || new.id');
    select rowflow.attach('orders', 'gone', '{delete}');
    create table bulk (id bigint primary key, n int not null);
    select rowflow.attach('bulk', 'paid');
  `);
});

async function counts(q: Queryable) {
  const { rows } = await q.query<{ runs: number; steps: number; jobs: number; events: number }>(
    `select (select count(*)::int from rowflow.runs) as runs,
            (select count(*)::int from rowflow.step_runs) as steps,
            (select count(*)::int from graphile_worker._private_jobs) as jobs,
            (select count(*)::int from rowflow.events) as events`,
  );
  return rows[0]!;
}

/** The graphile jobs of run `id` as `rowflow:<run>:<step>:<attempt>`, sorted. */
const jobsOf = `(select array_agg('rowflow:' || (j.payload->>'run') || ':' || (j.payload->>'step') || ':'
                   || (j.payload->>'attempt') order by j.payload->>'step')
                 from graphile_worker._private_jobs j where (j.payload->>'run')::bigint = r.id)`;

describe("runs start in the business transaction", () => {
  it("an INSERT writes the run row only; rolled back, it leaves no run", async () => {
    const before = await counts(db.pool);
    await db.rollback(async (c) => {
      await c.query("insert into orders (id, status) values (1, 'paid')");
      expect(await counts(c)).toEqual({ ...before, runs: before.runs + 1 });
    });
    expect(await counts(db.pool)).toEqual(before);
  });

  it("INSERT and UPDATE start a run only where `when` holds; the input and key are as configured, and claim_runs queues the root job", async () => {
    await db.rollback(async (c) => {
      await c.query(
        "insert into orders (id, status, total) values (10, 'paid', 5), (11, 'new', 6), (12, 'new', 7)",
      );
      await c.query("update orders set status = 'paid' where id = 11"); // matches: new → paid
      await c.query("update orders set total = 99 where id in (10, 12)"); // 10 was already paid, 12 is not paid
      const started = async () =>
        (
          await c.query(
            `select r.id, r.workflow, r.input, r.idempotency_key, r.priority, r.status, ${jobsOf} as jobs,
                    (select count(*)::int from rowflow.step_runs s where s.run_id = r.id) as steps
             from rowflow.pending_runs() p join rowflow.runs r on r.id = p.run_id order by r.id`,
          )
        ).rows;
      const rows = await started();
      const queued = { workflow: "paid", priority: 0, status: "queued", jobs: null, steps: 0 };
      expect(rows).toEqual([
        {
          ...queued,
          id: expect.any(String),
          input: { order: 10, total: 5, was: null },
          idempotency_key: "order-paid:10",
        },
        {
          ...queued,
          id: expect.any(String),
          input: { order: 11, total: 6, was: "new" },
          idempotency_key: "order-paid:11",
        },
      ]);
      await claimAll(c);
      expect(
        (await started()).map((r) => ({ status: r.status, jobs: r.jobs, steps: r.steps })),
      ).toEqual(rows.map((r) => ({ status: "running", jobs: [`rowflow:${r.id}:a:1`], steps: 4 })));
    });
  });

  it("DELETE starts a run with the default input: schema, table, op, key and the old row", async () => {
    await db.rollback(async (c) => {
      await c.query("set local rowflow.mode = 'suppress'");
      await c.query("insert into orders (id, status, total) values (20, 'new', 3)");
      await c.query("set local rowflow.mode = ''");
      await c.query("delete from orders where id = 20");
      const { rows } = await c.query("select workflow, input from rowflow.pending_runs()");
      expect(rows).toEqual([
        {
          workflow: "gone",
          input: {
            schema: "public",
            table: "orders",
            op: "delete",
            key: { id: 20 },
            row: { id: 20, status: "new", total: 3 },
          },
        },
      ]);
    });
  });

  it("a matching row whose idempotency key already has a run does not start a second one", async () => {
    await db.rollback(async (c) => {
      await c.query("insert into orders (id, status) values (30, 'paid')");
      await c.query("update orders set status = 'new' where id = 30");
      await c.query("update orders set status = 'paid' where id = 30"); // same key order-paid:30
      const { rows } = await c.query(
        "select count(*)::int as n from rowflow.runs where idempotency_key = 'order-paid:30'",
      );
      expect(rows[0]!.n).toBe(1);
    });
  });
});

describe("rowflow.mode", () => {
  it("'suppress' starts nothing in that transaction only", async () => {
    await db.rollback(async (c) => {
      const before = await counts(c);
      await c.query("set local rowflow.mode = 'suppress'");
      await c.query("insert into bulk select i, i from generate_series(1, 50) i");
      expect(await counts(c)).toEqual(before);
      expect(
        (await c.query("select count(*)::int as n from rowflow.pending_runs()")).rows[0]!.n,
      ).toBe(0);
    });
    await db.rollback(async (c) => {
      await c.query("insert into bulk values (1, 1)");
      expect(
        (await c.query("select count(*)::int as n from rowflow.pending_runs()")).rows[0]!.n,
      ).toBe(1);
    });
  });

  it("'backfill' starts runs with priority 1000: claimed after live ones, their jobs sort after live ones", async () => {
    await db.rollback(async (c) => {
      await claimAll(c); // runs other tests committed
      await c.query("set local rowflow.mode = 'backfill'");
      await c.query("insert into bulk values (2, 2)");
      await c.query("set local rowflow.mode = 'normal'");
      await c.query("insert into bulk values (1, 1)");
      const { rows: runs } = await c.query(
        "select input->'row'->>'id' as id, priority, status from rowflow.pending_runs() order by run_id",
      );
      expect(runs).toEqual([
        { id: "2", priority: 1000, status: "queued" },
        { id: "1", priority: 0, status: "queued" },
      ]);
      // claim_runs takes the live run first, although the backfill run is older.
      const claimed = async () =>
        (
          await c.query(
            "select input->'row'->>'id' as id from rowflow.pending_runs() where status = 'running'",
          )
        ).rows.map((r) => r.id);
      await c.query("select rowflow.claim_runs(take => 0, max_runs => 1)");
      expect(await claimed()).toEqual(["1"]);
      await c.query("select rowflow.claim_runs(take => 0, max_runs => 1)");
      expect(await claimed()).toEqual(["2", "1"]);
      const { rows } = await c.query(
        `select r.input->'row'->>'id' as id, r.priority, j.priority as job_priority
         from rowflow.pending_runs() p join rowflow.runs r on r.id = p.run_id
         join rowflow.step_runs s on s.run_id = r.id and s.step = 'a'
         join graphile_worker._private_jobs j on j.id = s.job_id
         order by r.priority`,
      );
      expect(rows).toEqual([
        { id: "1", priority: 0, job_priority: 0 },
        { id: "2", priority: 1000, job_priority: 1000 },
      ]);
      // graphile-worker's fetch order: the live job first.
      const { rows: order } = await c.query(
        `select payload->>'run' as run from graphile_worker._private_jobs
         where task_id = (select id from graphile_worker._private_tasks where identifier = 'rowflow:step')
           and (payload->>'run')::bigint in (select run_id from rowflow.pending_runs())
         order by priority, run_at, id`,
      );
      expect(order.map((r) => Number(r.run))).toEqual(
        (await c.query("select run_id from rowflow.pending_runs() order by priority")).rows.map(
          (r) => Number(r.run_id),
        ),
      );
    });
  });

  it("an unknown mode fails the write with RF039 instead of starting runs", async () => {
    await expectSqlError(
      db.rollback(async (c) => {
        await c.query("set local rowflow.mode = 'supress'");
        return c.query("insert into bulk values (1, 1)");
      }),
      "RF039",
      /^rowflow.mode is 'supress', expected 'normal', 'suppress' or 'backfill'$/,
    );
  });
});

describe("pending_runs() previews a statement", () => {
  it("lists the runs of this transaction only, forgets a rolled-back savepoint, and is empty after rollback", async () => {
    // Another session's committed runs in between must not show up.
    await db.query("insert into bulk values (900, 0)");
    await db.rollback(async (c) => {
      await c.query("insert into bulk select i, i from generate_series(1, 3) i");
      await db.query("insert into bulk values (901, 0)"); // other session, commits
      await c.query("savepoint s");
      await c.query("insert into bulk values (4, 4)");
      await c.query("rollback to savepoint s");
      await c.query("update bulk set n = n where false");
      await c.query("insert into bulk values (5, 5)");
      const { rows } = await c.query(
        "select input->'row'->>'id' as id from rowflow.pending_runs() order by run_id",
      );
      expect(rows.map((r) => r.id)).toEqual(["1", "2", "3", "5"]);
    });
    expect(
      (await db.query("select count(*)::int as n from rowflow.pending_runs()")).rows[0]!.n,
    ).toBe(0);
    await db.query("delete from bulk");
  });
});

describe("bulk statements", () => {
  it("a 100,000-row INSERT … SELECT inserts exactly 100,000 queued runs in the trigger's one INSERT … SELECT", async () => {
    await db.rollback(async (c) => {
      const before = await counts(c);
      await c.query("set local track_functions = 'all'");
      await c.query("insert into bulk select i, i from generate_series(1, 100000) i");
      const { rows: calls } = await c.query(
        `select p.proname as f, coalesce(pg_stat_get_xact_function_calls(p.oid), 0)::int as n
         from pg_catalog.pg_proc p
         where p.pronamespace = 'rowflow'::regnamespace
           and p.proname in ('start_runs', '_start_attached', '_queue_runs', '_runs_started', '_run_input')
         order by 1`,
      );
      // No arrays, no start_runs: the runs straight from the transition table,
      // small object inputs passing as they are, then one call for wake-ups
      // and pending_runs().
      expect(calls).toEqual([
        { f: "_queue_runs", n: 0 },
        { f: "_run_input", n: 0 },
        { f: "_runs_started", n: 1 },
        { f: "_start_attached", n: 0 },
        { f: "start_runs", n: 0 },
      ]);
      const { rows } = await c.query(
        `select count(*)::int as runs, count(distinct run_id)::int as ids,
                count(distinct (input->'row'->>'id'))::int as rows,
                count(*) filter (where status = 'queued' and priority = 0 and workflow = 'paid'
                                 and created_at = now())::int as queued
         from rowflow.pending_runs()`,
      );
      expect(rows[0]).toEqual({ runs: 100000, ids: 100000, rows: 100000, queued: 100000 });
      expect(await counts(c)).toEqual({ ...before, runs: before.runs + 100000 });
    });
  });
});

describe("detach", () => {
  it("stops new runs and leaves the started ones alone", async () => {
    await db.rollback(async (c) => {
      await c.query("insert into bulk values (1, 1)");
      const { rows: started } = await c.query("select run_id from rowflow.pending_runs()");
      await c.query("select rowflow.detach('bulk', 'paid')");
      await c.query("insert into bulk values (2, 2)");
      const { rows } = await c.query("select run_id from rowflow.pending_runs()");
      expect(rows).toEqual(started);
      const run = async () =>
        (
          await c.query(
            `select r.status, ${jobsOf} as jobs from rowflow.runs r where r.id = $1::bigint`,
            [started[0]!.run_id],
          )
        ).rows[0];
      expect(await run()).toEqual({ status: "queued", jobs: null });
      await claimAll(c);
      expect(await run()).toEqual({
        status: "running",
        jobs: [`rowflow:${started[0]!.run_id}:a:1`],
      });
    });
  });
});
