// What attached triggers start: one run per matching row, in the business
// transaction, through one start_runs call per statement; modes; preview.
import { beforeAll, describe, expect, it } from "vitest";

import { useTestDatabase } from "../../helpers/db.js";
import { define, expectSqlError, type Queryable } from "../support.js";

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
  const { rows } = await q.query<{ runs: number; jobs: number }>(
    `select (select count(*)::int from rowflow.runs) as runs,
            (select count(*)::int from graphile_worker._private_jobs) as jobs`,
  );
  return rows[0]!;
}

describe("runs start in the business transaction", () => {
  it("a rolled-back INSERT leaves no run and no job", async () => {
    const before = await counts(db.pool);
    await db.rollback(async (c) => {
      await c.query("insert into orders (id, status) values (1, 'paid')");
      expect((await counts(c)).runs).toBe(before.runs + 1);
      expect((await counts(c)).jobs).toBe(before.jobs + 1);
    });
    expect(await counts(db.pool)).toEqual(before);
  });

  it("INSERT and UPDATE start a run only where `when` holds; the input, key and root job are as configured", async () => {
    await db.rollback(async (c) => {
      await c.query(
        "insert into orders (id, status, total) values (10, 'paid', 5), (11, 'new', 6), (12, 'new', 7)",
      );
      await c.query("update orders set status = 'paid' where id = 11"); // matches: new → paid
      await c.query("update orders set total = 99 where id in (10, 12)"); // 10 was already paid, 12 is not paid
      const { rows } = await c.query(
        `select r.workflow, r.input, r.idempotency_key, r.priority,
                (select array_agg('rowflow:' || (j.payload->>'run') || ':' || (j.payload->>'step') || ':' || (j.payload->>'attempt'))
                 from graphile_worker._private_jobs j
                 where (j.payload->>'run')::bigint = r.id) as jobs
         from rowflow.pending_runs() p join rowflow.runs r on r.id = p.run_id order by r.id`,
      );
      expect(rows).toHaveLength(2);
      expect(rows[0]).toMatchObject({
        workflow: "paid",
        input: { order: 10, total: 5, was: null },
        idempotency_key: "order-paid:10",
        priority: 0,
      });
      expect(rows[1]).toMatchObject({
        input: { order: 11, total: 6, was: "new" },
        idempotency_key: "order-paid:11",
      });
      expect(rows[1]!.jobs).toHaveLength(1);
      expect(rows[1]!.jobs[0]).toMatch(/^rowflow:\d+:a:1$/);
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

  it("'backfill' starts runs with priority 1000, so their jobs sort after live ones", async () => {
    await db.rollback(async (c) => {
      await c.query("insert into bulk values (1, 1)");
      await c.query("set local rowflow.mode = 'backfill'");
      await c.query("insert into bulk values (2, 2)");
      const { rows } = await c.query(
        `select r.input->'row'->>'id' as id, r.priority, j.priority as job_priority
         from rowflow.pending_runs() p join rowflow.runs r on r.id = p.run_id
         join rowflow.step_runs s on s.run_id = r.id and s.step = 'a'
         join graphile_worker._private_jobs j on j.id = s.job_id
         order by r.id`,
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
        (await c.query("select run_id from rowflow.pending_runs() order by run_id")).rows.map((r) =>
          Number(r.run_id),
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
  it("a 100,000-row INSERT … SELECT starts exactly 100,000 runs through one start_runs call", async () => {
    await db.rollback(async (c) => {
      await c.query("set local track_functions = 'all'");
      await c.query("insert into bulk select i, i from generate_series(1, 100000) i");
      const { rows } = await c.query(
        `select pg_stat_get_xact_function_calls('rowflow.start_runs(text,jsonb[],text[],int,timestamptz)'::regprocedure)::int as calls,
                (select count(*)::int from rowflow.pending_runs()) as runs,
                (select count(distinct (input->'row'->>'id'))::int from rowflow.pending_runs()) as rows,
                (select count(*)::int from graphile_worker._private_jobs
                 where (payload->>'run')::bigint in (select run_id from rowflow.pending_runs())) as jobs`,
      );
      expect(rows[0]).toEqual({ calls: 1, runs: 100000, rows: 100000, jobs: 100000 });
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
      const { rows: run } = await c.query(
        "select status, (select count(*)::int from graphile_worker._private_jobs where (payload->>'run')::bigint = $1::bigint) as jobs from rowflow.runs where id = $1::bigint",
        [started[0]!.run_id],
      );
      expect(run[0]).toEqual({ status: "running", jobs: 1 });
    });
  });
});
