// A run's life tied to its business row (sql/schema/50_attach/runs_for.sql,
// _cancel_source_runs.sql): every attached run records its source row,
// runs_for lists a row's runs, on_delete cancels or compensates them when
// the row goes, supersede cancels a row's older unfinished runs, and none of
// it can fail the business write.
import { describe, expect, it } from "vitest";

import { useTestDatabase } from "../../helpers/db.js";
import { useLoginRoles } from "../../helpers/roles.js";
import { claimAll, clock, define, expectSqlError, type Queryable, runStep } from "../support.js";

const db = useTestDatabase();
const loginRole = useLoginRoles(db);

const saga = {
  steps: [
    { name: "a", task: "t", compensate: "undo-a" },
    { name: "b", task: "t", dependsOn: ["a"] },
  ],
};

/** A session that runs a query: a test connection or a login role's pool. */
interface Session {
  query(text: string, values: unknown[]): Promise<{ rows: unknown[] }>;
}

async function runsOf(q: Session, table: string, ...key: string[]) {
  const { rows } = (await q.query(
    `select r.id, r.status, r.input->>'op' as op, r.workflow
     from rowflow.runs_for($1::regclass, variadic $2::text[]) as r`,
    [table, key],
  )) as { rows: Array<{ id: string; status: string; op: string; workflow: string }> };
  return rows.map((r) => ({ id: Number(r.id), status: r.status, op: r.op, workflow: r.workflow }));
}

async function cancelAudit(q: Queryable, run: number) {
  const { rows } = await q.query<{ reason: string; data: Record<string, unknown> }>(
    "select reason, data from rowflow.audit where action = 'cancel_run' and run_id = $1 order by id",
    [run],
  );
  return rows;
}

describe("runs_for", () => {
  it("lists a row's runs oldest first, by a key read as the column's type; composite keys take one value each", async () => {
    await db.rollback(async (c) => {
      await define(c, "w", saga);
      await define(c, "other", saga);
      await c.query(`create table orders (id bigint primary key, n int);
                     create table lines (o bigint, s text, primary key (o, s));
                     create table keyless (n int)`);
      await c.query("select rowflow.attach('orders', 'w', '{insert,update}')");
      await c.query(
        "select rowflow.attach('orders', 'other', '{insert}', \"when\" => 'new.n > 5')",
      );
      await c.query("select rowflow.attach('lines', 'w')");
      await c.query("select rowflow.attach('keyless', 'w')");
      await c.query("insert into orders values (1, 1), (2, 9)");
      await c.query("update orders set n = n + 1");
      await c.query("insert into lines values (7, 'x'), (7, 'y,z')");
      await c.query("insert into keyless values (1)");
      await c.query("select rowflow.start_run('w', '{}')"); // no source row

      const one = await runsOf(c, "orders", "1");
      expect(one.map((r) => r.op)).toEqual(["insert", "update"]);
      expect(one[0]!.id).toBeLessThan(one[1]!.id);
      expect(await runsOf(c, "orders", "0002")).toHaveLength(3); // w insert, other insert, w update
      expect(await runsOf(c, "orders", "3")).toEqual([]);
      expect(await runsOf(c, "lines", "7", "y,z")).toHaveLength(1);
      expect(await runsOf(c, "lines", "007", "x")).toHaveLength(1);
      const { rows: src } = await c.query(
        "select source_relid::regclass::text as t, source_key as k from rowflow.runs where workflow = 'w' order by id",
      );
      expect(src).toEqual([
        { t: "orders", k: "1" },
        { t: "orders", k: "2" },
        { t: "orders", k: "1" },
        { t: "orders", k: "2" },
        { t: "lines", k: '["7", "x"]' },
        { t: "lines", k: '["7", "y,z"]' },
        { t: "keyless", k: null }, // no primary key: the table, no key
        { t: null, k: null }, // start_run
      ]);

      const refused: Array<[string[], string, RegExp]> = [
        [["keyless", "1"], "RF032", /has no primary key/],
        [["lines", "7"], "22023", /primary key is \(o, s\); pass 2/],
        [["orders", "x"], "22P02", /'x' is not a valid bigint for column id/],
      ];
      for (const [[table, ...key], code, message] of refused) {
        await c.query("savepoint refused");
        await expectSqlError(runsOf(c, table!, ...key), code, message);
        await c.query("rollback to savepoint refused");
      }
    });
  });

  it("shows an app the runs its own writes started, and no other app's", async () => {
    await define(db.pool, "apps", saga);
    await db.query(`create table shared_orders (id bigint primary key);
                    select rowflow.attach('shared_orders', 'apps')`);
    const first = await loginRole("app1", { memberOf: ["rowflow_app"] });
    const second = await loginRole("app2", { memberOf: ["rowflow_app"] });
    const viewer = await loginRole("viewer", { memberOf: ["rowflow_viewer"] });
    for (const app of [first, second]) {
      await db.query(
        `grant insert on shared_orders to ${app.name}; grant usage on schema rowflow to ${app.name}`,
      );
    }
    await db.query(`grant usage on schema rowflow to ${viewer.name}`);
    await first.query("insert into shared_orders values (1)");
    await second.query("insert into shared_orders values (2)");
    expect(await runsOf(first, "shared_orders", "1")).toHaveLength(1);
    expect(await runsOf(first, "shared_orders", "2")).toEqual([]);
    expect(await runsOf(second, "shared_orders", "2")).toHaveLength(1);
    expect(await runsOf(viewer, "shared_orders", "1")).toHaveLength(1);
    expect(await runsOf(viewer, "shared_orders", "2")).toHaveLength(1);
  });
});

describe("on_delete", () => {
  it("cancel: deleting rows cancels their unfinished runs of that workflow, and nothing else", async () => {
    await db.rollback(async (c) => {
      await define(c, "w", saga);
      await define(c, "other", saga);
      await c.query("create table orders (id bigint primary key, n int)");
      await c.query("select rowflow.attach('orders', 'w', on_delete => 'cancel')");
      await c.query("select rowflow.attach('orders', 'other')"); // on_delete ignore
      await c.query("insert into orders values (1, 0), (2, 0), (3, 0)");
      await claimAll(c); // every run running, its root job queued
      const t = clock();
      const done = (await runsOf(c, "orders", "3")).find((r) => r.workflow === "w");
      await runStep(c, done!.id, "a", null, t);
      await runStep(c, done!.id, "b", null, t); // finished before the delete

      await c.query("delete from orders where id in (1, 3)");
      const byWorkflow = async (key: string) =>
        (await runsOf(c, "orders", key)).sort((x, y) => x.workflow.localeCompare(y.workflow));
      const gone = await byWorkflow("1");
      expect(gone.map((r) => [r.workflow, r.status])).toEqual([
        ["other", "running"],
        ["w", "cancelled"],
      ]);
      expect(await cancelAudit(c, gone[1]!.id)).toEqual([
        {
          reason: "its source row was deleted",
          data: { from: "running", via: "on_delete", compensate: false, compensations: 0 },
        },
      ]);
      const { rows: jobs } = await c.query(
        "select count(*)::int as n from graphile_worker._private_jobs where (payload->>'run')::bigint = $1",
        [gone[1]!.id],
      );
      expect(jobs).toEqual([{ n: 0 }]);
      expect((await byWorkflow("2")).map((r) => r.status)).toEqual(["running", "running"]);
      expect((await byWorkflow("3")).map((r) => r.status)).toEqual(["running", "succeeded"]);
    });
  });

  it("compensate: a deleted row's running run undoes its succeeded steps; with delete among the events, the delete's own run starts after", async () => {
    await db.rollback(async (c) => {
      await define(c, "w", saga);
      await c.query("create table orders (id bigint primary key)");
      await c.query(
        "select rowflow.attach('orders', 'w', '{insert,delete}', on_delete => 'compensate')",
      );
      await c.query("insert into orders values (1)");
      await claimAll(c);
      const [run] = await runsOf(c, "orders", "1");
      await runStep(c, run!.id, "a", { charged: 1 }, clock());
      await c.query("delete from orders where id = 1");
      const runs = await runsOf(c, "orders", "1");
      expect(runs.map((r) => [r.op, r.status])).toEqual([
        ["insert", "compensating"],
        ["delete", "queued"],
      ]);
      const { rows: chain } = await c.query(
        "select step, status from rowflow.step_runs where run_id = $1 and kind = 'compensation'",
        [run!.id],
      );
      expect(chain).toEqual([{ step: "compensate:a", status: "queued" }]);
      expect((await cancelAudit(c, run!.id))[0]!.data).toEqual({
        from: "running",
        via: "on_delete",
        compensate: true,
        compensations: 1,
      });
    });
  });

  it("ignore (the default) leaves the runs; 'suppress' mode leaves them too", async () => {
    await db.rollback(async (c) => {
      await define(c, "w", saga);
      await c.query(
        `create table a_orders (id bigint primary key); create table b_orders (id bigint primary key)`,
      );
      await c.query("select rowflow.attach('a_orders', 'w')");
      await c.query("select rowflow.attach('b_orders', 'w', on_delete => 'cancel')");
      await c.query("insert into a_orders values (1); insert into b_orders values (1)");
      await c.query("delete from a_orders");
      await c.query("set local rowflow.mode = 'suppress'");
      await c.query("delete from b_orders");
      expect((await runsOf(c, "a_orders", "1")).map((r) => r.status)).toEqual(["queued"]);
      expect((await runsOf(c, "b_orders", "1")).map((r) => r.status)).toEqual(["queued"]);
    });
  });

  it("never fails the delete: a run it cannot lock in time stays, with a warning", async () => {
    await define(db.pool, "locked", saga);
    await db.query(`create table locked_orders (id bigint primary key);
                    select rowflow.attach('locked_orders', 'locked', on_delete => 'cancel');
                    insert into locked_orders values (1)`);
    const [run] = await runsOf(db.pool, "locked_orders", "1");
    const holder = await db.pool.connect();
    const writer = await db.pool.connect();
    try {
      await holder.query("begin");
      await holder.query("select 1 from rowflow.runs where id = $1 for update", [run!.id]);
      const warnings: string[] = [];
      writer.on("notice", (n) => warnings.push(`${n.severity}: ${n.message}`));
      await writer.query("set lock_timeout = '100ms'");
      const deleted = await writer.query("delete from locked_orders where id = 1");
      expect(deleted.rowCount).toBe(1);
      expect(warnings).toEqual([
        expect.stringMatching(
          /^WARNING: rowflow: on_delete of workflow locked could not cancel the runs of 1 row\(s\) of public.locked_orders: .*lock timeout.* \(55P03\); they go on$/,
        ),
      ]);
    } finally {
      await holder.query("rollback");
      holder.release();
      writer.release();
    }
    const { rows } = await db.query("select count(*)::int as n from locked_orders");
    expect(rows).toEqual([{ n: 0 }]);
    expect((await runsOf(db.pool, "locked_orders", "1")).map((r) => r.status)).toEqual(["queued"]);
  });
});

describe("supersede", () => {
  it("a newer run of a row cancels its older unfinished runs, naming the new run; other rows and finished runs stay", async () => {
    await db.rollback(async (c) => {
      await define(c, "w", saga);
      await c.query("create table orders (id bigint primary key, n int)");
      await c.query(
        "select rowflow.attach('orders', 'w', '{insert,update}', \"when\" => 'new.n > 0', supersede => true)",
      );
      await c.query("insert into orders values (1, 1), (2, 1)");
      await claimAll(c);
      const [first] = await runsOf(c, "orders", "1");
      await c.query("update orders set n = 2 where id = 1"); // the running run is superseded
      await c.query("update orders set n = 3 where id = 1"); // and the queued one
      await c.query("update orders set n = 0 where id = 1"); // does not qualify: starts and cancels nothing
      const runs = await runsOf(c, "orders", "1");
      expect(runs.map((r) => r.status)).toEqual(["cancelled", "cancelled", "queued"]);
      expect((await cancelAudit(c, first!.id))[0]).toEqual({
        reason: `superseded by run ${runs[1]!.id} (a newer change of its source row)`,
        data: { from: "running", via: "supersede", compensate: false, compensations: 0 },
      });
      expect((await cancelAudit(c, runs[1]!.id))[0]!.reason).toBe(
        `superseded by run ${runs[2]!.id} (a newer change of its source row)`,
      );
      expect((await runsOf(c, "orders", "2")).map((r) => r.status)).toEqual(["running"]);
    });
  });

  it("works through the keyed path too: a repeated key supersedes nothing, a new key supersedes the row's older run", async () => {
    await db.rollback(async (c) => {
      await define(c, "w", saga);
      await c.query("create table orders (id bigint primary key, n int)");
      await c.query(
        "select rowflow.attach('orders', 'w', '{insert,update}', idempotency_key => '''o'' || new.id || '':'' || new.n', supersede => true)",
      );
      await c.query("insert into orders values (1, 1)");
      await c.query("update orders set n = 1 where id = 1"); // same key: the same run
      expect((await runsOf(c, "orders", "1")).map((r) => r.status)).toEqual(["queued"]);
      await c.query("update orders set n = 2 where id = 1");
      expect((await runsOf(c, "orders", "1")).map((r) => r.status)).toEqual([
        "cancelled",
        "queued",
      ]);
    });
  });
});

describe("attach's source-row options", () => {
  it("refuses a bad on_delete (RF034) and on_delete or supersede on a table without a primary key (RF032)", async () => {
    const cases: Array<[string, string, RegExp]> = [
      [
        "select rowflow.attach('orders', 'w', on_delete => 'drop')",
        "RF034",
        /^attach: on_delete must be cancel, compensate or ignore, got 'drop'$/,
      ],
      [
        "select rowflow.attach('keyless', 'w', on_delete => 'cancel')",
        "RF032",
        /has no primary key; on_delete finds a row's runs/,
      ],
      [
        "select rowflow.attach('keyless', 'w', supersede => true)",
        "RF032",
        /has no primary key; supersede finds a row's runs/,
      ],
    ];
    for (const [sql, code, message] of cases) {
      await db.rollback(async (c) => {
        await define(c, "w", saga);
        await c.query("create table orders (id bigint primary key); create table keyless (n int)");
        await c.query("savepoint refused");
        await expectSqlError(c.query(sql), code, message);
        await c.query("rollback to savepoint refused");
        const { rows } = await c.query(
          "select count(*)::int as n from rowflow.table_attachments where relid in ('orders'::regclass, 'keyless'::regclass)",
        );
        expect(rows).toEqual([{ n: 0 }]);
      });
    }
  });

  it("on_delete adds a delete trigger when the events omit delete; detach removes it", async () => {
    await db.rollback(async (c) => {
      await define(c, "w", saga);
      await c.query("create table orders (id bigint primary key)");
      await c.query("select rowflow.attach('orders', 'w', on_delete => 'cancel')");
      const triggers = async () =>
        (
          await c.query<{ t: string }>(
            "select tgname as t from pg_trigger where tgrelid = 'orders'::regclass and not tgisinternal order by 1",
          )
        ).rows.map((r) => r.t);
      expect(await triggers()).toEqual([
        expect.stringMatching(/^_900_rowflow_w_delete_\d+$/),
        expect.stringMatching(/^_900_rowflow_w_insert_\d+$/),
      ]);
      await c.query("select rowflow.detach('orders', 'w')");
      expect(await triggers()).toEqual([]);
    });
  });
});
