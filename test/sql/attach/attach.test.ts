// rowflow.attach / detach / attachments: options, bad input (each with its
// RF SQLSTATE), ownership, hostile names.
import { randomBytes } from "node:crypto";

import { beforeAll, describe, expect, it } from "vitest";

import { useTestDatabase } from "../../helpers/db.js";
import { define, expectSqlError } from "../support.js";

const db = useTestDatabase();

beforeAll(async () => {
  await define(db.pool, "wf", { steps: [{ name: "a", task: "t" }] });
  await db.query(`
    create table orders (id bigint primary key, status text not null default 'new', total numeric);
    create table nopk (id bigint, status text);
    create view orders_v as select * from orders;
  `);
});

const attach = (args: string) => db.rollback((c) => c.query(`select rowflow.attach(${args})`));

describe("attach refuses bad input with an RF03x SQLSTATE", () => {
  it.each([
    [
      "missing table",
      `'no_such_table', 'wf'`,
      "RF030",
      /^attach: table 'no_such_table' does not exist$/,
    ],
    ["malformed table name", `'bad"name', 'wf'`, "RF030", /does not exist/],
    ["a view", `'orders_v', 'wf'`, "RF031", /^attach: public.orders_v is a view, not a table/],
    ["a rowflow table", `'rowflow.runs', 'wf'`, "RF031", /is in schema rowflow/],
    ["undefined workflow", `'orders', 'nope'`, "RF020", /^attach: unknown workflow 'nope'$/],
    ["empty events", `'orders', 'wf', '{}'`, "RF033", /non-empty subset/],
    ["unknown event", `'orders', 'wf', '{insert,truncate}'`, "RF033", /non-empty subset/],
    ["event twice", `'orders', 'wf', '{insert,INSERT}'`, "RF033", /lists an event twice/],
    ["update without primary key", `'nopk', 'wf', '{update}'`, "RF032", /has no primary key/],
    [
      "key-only input without primary key",
      `'nopk', 'wf', columns => '{}'`,
      "RF034",
      /^attach: columns => '\{\}' makes the input the row's key only, and table public.nopk has no primary key$/,
    ],
    [
      "columns and exclude_columns",
      `'orders', 'wf', columns => '{id}', exclude_columns => '{total}'`,
      "RF034",
      /^attach: give columns or exclude_columns, not both$/,
    ],
    [
      "columns with input",
      `'orders', 'wf', columns => '{id}', input => 'jsonb_build_object(''a'', 1)'`,
      "RF034",
      /^attach: columns and exclude_columns shape the default input/,
    ],
    [
      "an unknown column",
      `'orders', 'wf', exclude_columns => '{total,nope}'`,
      "RF034",
      /^attach: table public.orders has no column nope$/,
    ],
    [
      "when does not parse",
      `'orders', 'wf', '{insert}', 'new.status = '`,
      "RF034",
      /when expression is invalid for insert rows: syntax error/,
    ],
    ["when not boolean", `'orders', 'wf', '{insert}', 'new.total'`, "RF034", /must be boolean/],
    [
      "when on unknown column",
      `'orders', 'wf', '{update}', 'old.nope > 1'`,
      "RF034",
      /column old.nope does not exist/,
    ],
    [
      "input is text",
      `'orders', 'wf', '{insert}', null, 'new.status'`,
      "RF034",
      /input expression is invalid for insert rows: it must produce jsonb/,
    ],
    [
      "input is json",
      `'orders', 'wf', '{insert}', null, 'json_build_object(''a'', 1)'`,
      "RF034",
      /must produce jsonb/,
    ],
    [
      "key on unknown column",
      `'orders', 'wf', '{delete}', null, null, 'new.nope'`,
      "RF034",
      /idempotency_key expression is invalid for delete rows/,
    ],
    [
      "an expression smuggling a second statement",
      `'orders', 'wf', '{insert}', E'true\n); drop table orders; select (true'`,
      "RF034",
      /one SQL expression|syntax error/,
    ],
  ])("%s", async (_name, args, code, message) => {
    await expectSqlError(attach(args), code, message);
    // Nothing was created, and the table survived the smuggling attempt.
    const { rows } = await db.query<{ n: number; t: string | null }>(
      "select (select count(*)::int from rowflow.table_attachments) as n, to_regclass('orders')::text as t",
    );
    expect(rows[0]).toEqual({ n: 0, t: "orders" });
  });

  it("attaching the same workflow twice with overlapping events is RF035; disjoint events are fine", async () => {
    await db.rollback(async (c) => {
      await c.query(`select rowflow.attach('orders', 'wf', '{insert,update}')`);
      await expectSqlError(
        c.query(`select rowflow.attach('orders', 'wf', '{update,delete}')`),
        "RF035",
        /^attach: workflow "wf" is already attached to public.orders for \{update\}$/,
      );
      await c.query("rollback; begin");
      await c.query(`select rowflow.attach('orders', 'wf', '{insert}')`);
      await c.query(`select rowflow.attach('orders', 'wf', '{delete}', 'old.status = ''x''')`);
      const { rows } = await c.query("select events from rowflow.attachments order by id");
      expect(rows.map((r) => r.events)).toEqual([["insert"], ["delete"]]);
    });
  });

  it("detach of a workflow that is not attached is RF037; of a missing table RF030", async () => {
    await expectSqlError(
      db.rollback((c) => c.query(`select rowflow.detach('orders', 'wf')`)),
      "RF037",
      /^detach: workflow 'wf' is not attached to public.orders$/,
    );
    await expectSqlError(
      db.rollback((c) => c.query(`select rowflow.detach('gone', 'wf')`)),
      "RF030",
      /^detach: table 'gone' does not exist$/,
    );
  });

  it("a role that does not own the table gets RF036 (attach and detach)", async () => {
    const role = `rf_t_${randomBytes(4).toString("hex")}`;
    await db.query(`create role ${role}`);
    try {
      await db.query(`grant usage on schema rowflow to ${role}`);
      await expectSqlError(
        db.rollback(async (c) => {
          await c.query(`set local role ${role}`);
          return c.query(`select rowflow.attach('public.orders', 'wf')`);
        }),
        "42501",
        /^permission denied for function attach$/,
      );
      // With the attach privilege, still not the table's owner.
      await db.query(
        `grant execute on function rowflow.attach(text, text, text[], text, text, text, text[], text[], name, text, text, boolean),
                                   rowflow.detach(text, text, name, text) to ${role}`,
      );
      await expectSqlError(
        db.rollback(async (c) => {
          await c.query(`set local role ${role}`);
          return c.query(`select rowflow.attach('public.orders', 'wf')`);
        }),
        "RF036",
        new RegExp(
          `^attach: must be the owner of table public.orders \\(owner: postgres, you: ${role}\\)$`,
        ),
      );
      await expectSqlError(
        db.rollback(async (c) => {
          await c.query(`select rowflow.attach('orders', 'wf')`);
          await c.query(`set local role ${role}`);
          return c.query(`select rowflow.detach('public.orders', 'wf')`);
        }),
        "RF036",
        /^detach: must be the owner/,
      );
    } finally {
      await db.query(`drop owned by ${role}; drop role ${role}`);
    }
  });
});

describe("attach installs one trigger per event and one function; detach removes them", () => {
  it("lists the attachment with its options, names and firing-order prefix", async () => {
    await db.rollback(async (c) => {
      const { rows: idRows } = await c.query<{ id: number }>(
        `select rowflow.attach(table_name => 'orders'::regclass, workflow => 'wf', events => '{update,insert}',
           "when" => 'new.status = ''paid''', input => 'jsonb_build_object(''id'', new.id)',
           idempotency_key => '''order:'' || new.id') as id`,
      );
      const id = idRows[0]!.id;
      const { rows } = await c.query("select * from rowflow.attachments");
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        id,
        table_name: "orders",
        workflow: "wf",
        events: ["insert", "update"],
        when_sql: "new.status = 'paid'",
        input_sql: "jsonb_build_object('id', new.id)",
        idempotency_key_sql: "'order:' || new.id",
        trigger_function: `rowflow.tg_orders__wf_${id}`,
        triggers: [`_900_rowflow_wf_insert_${id}`, `_900_rowflow_wf_update_${id}`],
        created_by: "postgres",
      });
      const { rows: fn } = await c.query(
        `select prosecdef, proconfig from pg_proc where oid = 'rowflow.tg_orders__wf_${id}'::regproc`,
      );
      expect(fn[0]).toEqual({ prosecdef: true, proconfig: ['search_path=""'] });

      expect((await c.query(`select rowflow.detach('orders', 'wf') as n`)).rows[0]!.n).toBe(1);
      const { rows: left } = await c.query(
        `select (select count(*)::int from pg_trigger where tgrelid = 'orders'::regclass) as triggers,
                (select count(*)::int from pg_proc where proname like 'tg_orders%') as functions,
                (select count(*)::int from rowflow.table_attachments) as rows`,
      );
      expect(left[0]).toEqual({ triggers: 0, functions: 0, rows: 0 });
    });
  });

  it("forgets an attachment whose table was dropped, so the name can be attached again", async () => {
    await db.rollback(async (c) => {
      await c.query("create table tmp_t (id int primary key)");
      await c.query(`select rowflow.attach('tmp_t', 'wf')`);
      await c.query("drop table tmp_t");
      expect((await c.query("select count(*)::int as n from rowflow.attachments")).rows[0]!.n).toBe(
        0,
      );
      await c.query("create table tmp_t (id int primary key)");
      await c.query(`select rowflow.attach('tmp_t', 'wf')`);
      const { rows } = await c.query(
        "select (select count(*)::int from rowflow.table_attachments) as rows, (select count(*)::int from pg_proc where proname like 'tg_tmp_t%') as fns",
      );
      expect(rows[0]).toEqual({ rows: 1, fns: 1 });
    });
  });
});

describe("hostile names neither break nor inject", () => {
  const schema = `we"ird; sch%ma`;
  const table = `o'rd"ers; drop table orders; -- %s %I ünï côdé`;
  const column = `st"at'us; %L`;
  const q = (s: string) => `"${s.replaceAll('"', '""')}"`;

  it("attaches, fires and detaches on a table, schema and columns with quotes, semicolons, % and unicode", async () => {
    await db.rollback(async (c) => {
      await c.query(`create schema ${q(schema)}`);
      await c.query(
        `create table ${q(schema)}.${q(table)} (${q("i d")} int primary key, ${q(column)} text)`,
      );
      const qualified = `${q(schema)}.${q(table)}`;
      await c.query(`select rowflow.attach($1, 'wf', '{insert,update,delete}', $2)`, [
        qualified,
        `new.${q(column)} is distinct from 'skip''me'`,
      ]);
      await c.query(`insert into ${qualified} values (1, 'a'), (2, 'skip''me')`);
      await c.query(`update ${qualified} set ${q(column)} = 'b'`);
      await c.query(`delete from ${qualified} where ${q("i d")} = 1`);
      const { rows } = await c.query(`select input from rowflow.pending_runs() order by run_id`);
      expect(rows.map((r) => [r.input.op, r.input.key, r.input.schema, r.input.table])).toEqual([
        ["insert", { "i d": 1 }, schema, table],
        ["update", { "i d": 1 }, schema, table],
        ["update", { "i d": 2 }, schema, table],
        ["delete", { "i d": 1 }, schema, table],
      ]);
      expect(rows[0]!.input.row).toEqual({ "i d": 1, [column]: "a" });
      const { rows: fn } = await c.query<{ f: string }>(
        "select trigger_function as f from rowflow.attachments",
      );
      expect(fn[0]!.f).toMatch(/^rowflow\.tg_o_rd_ers_drop_table_or__wf_\d+$/);
      await c.query(`select rowflow.detach($1, 'wf')`, [qualified]);
      expect(
        (await c.query("select to_regclass('public.orders') is not null as ok")).rows[0]!.ok,
      ).toBe(true);
    });
  });
});

describe("what the default input holds", () => {
  it("the whole row, only some columns, all but some, or the key only", async () => {
    const inputs = await db.rollback(async (c) => {
      const out: Record<string, unknown> = {};
      for (const [label, options] of [
        ["whole", ""],
        ["columns", ", columns => '{status}'"],
        ["exclude", ", exclude_columns => '{total}'"],
        ["key only", ", columns => '{}'"],
      ] as const) {
        await c.query("savepoint s");
        await c.query(`select rowflow.attach('orders', 'wf', '{insert,update}'${options})`);
        await c.query("insert into orders values (1, 'new', 9.5)");
        await c.query("update orders set status = 'paid' where id = 1");
        const { rows } = await c.query<{ input: Record<string, unknown> }>(
          "select r.input - 'schema' - 'table' as input from rowflow.pending_runs() p join rowflow.runs r on r.id = p.run_id order by r.id",
        );
        out[label] = rows.map((r) => r.input);
        await c.query("rollback to savepoint s");
      }
      return out;
    });
    expect(inputs).toEqual({
      whole: [
        { op: "insert", key: { id: 1 }, row: { id: 1, status: "new", total: 9.5 } },
        {
          op: "update",
          key: { id: 1 },
          row: { id: 1, status: "paid", total: 9.5 },
          old: { id: 1, status: "new", total: 9.5 },
        },
      ],
      columns: [
        { op: "insert", key: { id: 1 }, row: { status: "new" } },
        { op: "update", key: { id: 1 }, row: { status: "paid" }, old: { status: "new" } },
      ],
      exclude: [
        { op: "insert", key: { id: 1 }, row: { id: 1, status: "new" } },
        {
          op: "update",
          key: { id: 1 },
          row: { id: 1, status: "paid" },
          old: { id: 1, status: "new" },
        },
      ],
      "key only": [
        { op: "insert", key: { id: 1 } },
        { op: "update", key: { id: 1 } },
      ],
    });
  });
});
