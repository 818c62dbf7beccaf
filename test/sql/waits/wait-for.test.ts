// Waits on business rows (waitFor: sql/schema/30_define/_compile_row_wait.sql,
// sql/schema/78_waits/arm_step.sql, _row_wait_fired.sql, _check_row_wait.sql):
// the row exists before, appears later in the same or another transaction,
// in a rolled-back one, and for many waiting runs in one bulk UPDATE; the
// writer whose row commits while the wait is being armed; bad conditions.
import { beforeAll, describe, expect, it } from "vitest";

import { useTestDatabase } from "../../helpers/db.js";
import { define, expectSqlError, type Queryable, runStep, startRun, stepRow } from "../support.js";
import { arm, waitEvents } from "./wait-support.js";

const db = useTestDatabase();

const spec = (waitFor: Record<string, unknown> = {}) => ({
  steps: [
    { name: "order", task: "t" },
    {
      name: "paid",
      dependsOn: ["order"],
      waitFor: {
        table: "shop.payments",
        where: "order_id = ($.input.orderId)::bigint and status = 'settled'",
        ...waitFor,
      },
    },
    { name: "ship", task: "t", dependsOn: ["paid"] },
  ],
});

beforeAll(async () => {
  await db.query(`create schema shop;
    create table shop.payments (id bigserial primary key, order_id bigint not null, status text not null, amount int)`);
  await define(db.pool, "pay", spec());
});

/** A committed run of "pay" whose "order" step is done: "paid" is queued (its rowflow:wait job). */
async function readyRun(orderId: number, q: Queryable = db.pool): Promise<number> {
  const run = await startRun(q, "pay", { orderId });
  await runStep(q, run, "order", null);
  return run;
}

async function pay(q: Queryable, orderId: number, status = "settled", amount = 10) {
  await q.query("insert into shop.payments (order_id, status, amount) values ($1, $2, $3)", [
    orderId,
    status,
    amount,
  ]);
}

/** Arms the step and confirms its wait (the next rowflow:wait job, nobody writing meanwhile). */
async function armAndConfirm(run: number) {
  const now = new Date().toISOString();
  expect(await arm(db.pool, run, "paid", now)).toMatchObject({ outcome: "waiting" });
  expect(await arm(db.pool, run, "paid", new Date().toISOString())).toMatchObject({
    outcome: "waiting",
    confirmed: true,
  });
}

describe("waitFor", () => {
  it("a row there already: the step succeeds on arming, with the row as its output", async () => {
    const run = await readyRun(1);
    await pay(db.pool, 1, "settled", 30);
    expect(await arm(db.pool, run, "paid", new Date().toISOString())).toMatchObject({
      ok: true,
      outcome: "succeeded",
      released: ["ship"],
    });
    expect(await stepRow(db.pool, run, "paid")).toMatchObject({
      status: "succeeded",
      output: { order_id: 1, status: "settled", amount: 30 },
    });
  });

  it("a row written later by another transaction completes the step in that transaction; a rollback does not", async () => {
    const run = await readyRun(2);
    await armAndConfirm(run);
    await pay(db.pool, 2, "pending"); // not matching
    const client = await db.pool.connect();
    try {
      await client.query("begin");
      await pay(client, 2);
      expect((await stepRow(client, run, "paid")).status).toBe("succeeded"); // in the writer's transaction
      await client.query("rollback");
    } finally {
      client.release();
    }
    expect((await stepRow(db.pool, run, "paid")).status).toBe("queued");
    await db.query("update shop.payments set status = 'settled' where order_id = 2");
    expect(await stepRow(db.pool, run, "paid")).toMatchObject({
      status: "succeeded",
      output: { order_id: 2 },
    });
    expect(await waitEvents(db.pool, run)).toEqual(["paid step_waiting"]);
    const { rows } = await db.query(
      "select type from rowflow.events where run_id = $1 and type = 'row_matched'",
      [run],
    );
    expect(rows).toHaveLength(1);
  });

  it("in the same transaction as the run: arming and the row, in either order", async () => {
    await db.rollback(async (c) => {
      const run = await readyRun(3, c);
      await arm(c, run, "paid", new Date().toISOString());
      await pay(c, 3);
      expect((await stepRow(c, run, "paid")).status).toBe("succeeded");
    });
  });

  it("one bulk UPDATE resolves many waiting runs, each with its own row", async () => {
    const runs: number[] = [];
    for (let i = 100; i < 140; i++) runs.push(await readyRun(i));
    for (const run of runs) await armAndConfirm(run);
    await db.query(
      "insert into shop.payments (order_id, status, amount) select g, 'pending', g from generate_series(100, 139) as g",
    );
    await db.query(
      "update shop.payments set status = 'settled' where order_id between 100 and 139",
    );
    const { rows } = await db.query<{ status: string; n: number }>(
      `select status, count(*)::int as n from rowflow.step_runs where run_id = any ($1) and step = 'paid' group by status`,
      [runs],
    );
    expect(rows).toEqual([{ status: "succeeded", n: 40 }]);
    expect((await stepRow(db.pool, runs[7]!, "paid")).output).toMatchObject({
      order_id: 107,
      amount: 107,
    });
  });

  it("a writer whose trigger ran before the wait was visible: its row is found once it commits (confirmation)", async () => {
    const run = await readyRun(4);
    const writer = await db.pool.connect();
    try {
      await writer.query("begin");
      await pay(writer, 4); // its trigger sees no wait yet
      expect(await arm(db.pool, run, "paid", new Date().toISOString())).toMatchObject({
        outcome: "waiting",
      });
      // The confirming job: the writer is still running, so the wait stays unconfirmed.
      expect(await arm(db.pool, run, "paid", new Date().toISOString())).toMatchObject({
        outcome: "waiting",
        confirmed: false,
      });
      await writer.query("commit");
    } finally {
      writer.release();
    }
    expect(await arm(db.pool, run, "paid", new Date().toISOString())).toMatchObject({
      outcome: "succeeded",
    });
    expect((await stepRow(db.pool, run, "paid")).status).toBe("succeeded");
  });

  it("a condition that fails for a run's value: arming fails the step; the trigger warns, never failing the write", async () => {
    const run = await startRun(db.pool, "pay", { orderId: "not-a-number" });
    await runStep(db.pool, run, "order", null);
    expect(await arm(db.pool, run, "paid", new Date().toISOString())).toMatchObject({
      outcome: "failed",
    });
    const { rows } = await db.query<{ e: { error: { message: string } } }>(
      "select error as e from rowflow.runs where id = $1",
      [run],
    );
    expect(rows[0]!.e.error.message).toMatch(
      /waitFor condition on shop.payments failed for this run: invalid input syntax for type bigint/,
    );
    // Such a wait, were it there (say, the condition changed meaning with a
    // column type), does not fail the writers of the table.
    const other = await startRun(db.pool, "pay", { orderId: "x" });
    await runStep(db.pool, other, "order", null);
    await db.query(
      "insert into rowflow.step_waits (run_id, step, kind, relid, since) values ($1, 'paid', 'row', 'shop.payments'::regclass, now())",
      [other],
    );
    await pay(db.pool, 5);
    expect((await stepRow(db.pool, other, "paid")).status).toBe("queued");
  });

  it("times out like the other waits", async () => {
    await define(db.pool, "pay-t", { ...spec({ timeout: "1 hour", onTimeout: "skip" }) });
    const run = await startRun(db.pool, "pay-t", { orderId: 6 });
    await runStep(db.pool, run, "order", null);
    await arm(db.pool, run, "paid", "2030-01-01T00:00:00Z");
    await arm(db.pool, run, "paid", "2030-01-01T00:00:01Z"); // confirmed
    expect(await arm(db.pool, run, "paid", "2030-01-01T01:00:00Z")).toMatchObject({
      outcome: "timed_out",
    });
    expect((await stepRow(db.pool, run, "paid")).status).toBe("skipped");
  });
});

describe("waitFor, bad definitions", () => {
  const bad = (name: string, waitFor: Record<string, unknown>) =>
    define(db.pool, name, {
      steps: [{ name: "w", waitFor: { table: "shop.payments", where: "true", ...waitFor } }],
    });

  it("refuses a missing table, a view, an unqualified name (RF011)", async () => {
    await expectSqlError(
      bad("b1", { table: "shop.nope" }),
      "RF011",
      /waitFor.table "shop.nope" is not a table/,
    );
    await expectSqlError(bad("b2", { table: "payments" }), "RF011", /is not a table/);
    await db.query("create or replace view shop.v as select 1 as x");
    await expectSqlError(bad("b3", { table: "shop.v" }), "RF011", /is not a table/);
  });

  it("refuses conditions that are not one expression or do not type-check (RF012), and nothing is defined", async () => {
    for (const [where, message] of [
      ["true; drop table shop.payments", /';', outside quotes, is not allowed/],
      ["true -- comment", /'--', outside quotes/],
      ["status = $$x$$", /dollar quotes/],
      ["status = $1", /dollar quotes and \$n parameters/],
      ["status = E'x'", /E'', U&'' or B'' strings/],
      ["statuz = 'settled'", /column "statuz" does not exist/],
      ["amount = 'abc'", /invalid input syntax for type integer/],
      ["order_id = ($.input.orderId)", /operator does not exist: bigint = text/],
      ["status = 'unterminated", /unterminated ' quote/],
    ] as const) {
      await expectSqlError(bad("b4", { where }), "RF012", message);
    }
    expect((await db.query("select 1 from rowflow.workflows where name = 'b4'")).rows).toEqual([]);
    // Quoted text may hold anything.
    await expectSqlError(
      bad("b5", { where: "status = 'a;b -- $$ /* \\' or \"x\" = 'y'" }),
      "RF012",
      /column "x" does not exist/,
    );
  });
});
