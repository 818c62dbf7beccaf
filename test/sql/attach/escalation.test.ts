// An attachment trigger cannot escalate (docs/security.md,
// sql/schema/50_attach/_install_attachment.sql). The report: a non-superuser
// table owner adds a column whose type has a cast to json implemented by
// their own function; the default input's to_jsonb(new.*) then called it as
// the superuser who ran attach, and `alter role … superuser` succeeded from a
// plain INSERT. Here the owner's functions try exactly that, from the default
// input, from a `when` and at attach time (planning folds constants); they
// run as the owner, so the attempt fails and nobody gains a right. And a
// writer with INSERT on the table alone starts runs it cannot read.
import { beforeAll, describe, expect, it } from "vitest";

import { useTestDatabase } from "../../helpers/db.js";
import { type LoginRole, useLoginRoles } from "../../helpers/roles.js";
import { define, expectSqlError } from "../support.js";

const db = useTestDatabase();
const loginRole = useLoginRoles(db);

let owner: LoginRole;
let writer: LoginRole;

beforeAll(async () => {
  owner = await loginRole("owner");
  writer = await loginRole("writer");
  await define(db.pool, "shipping", { steps: [{ name: "ship", task: "t" }] });
  // The table owner's schema: an enum whose cast to json is their function,
  // and a boolean function for `when`. Both try to make the owner superuser
  // and record who they ran as.
  await db.query(`create schema shop authorization ${owner.name}`);
  await owner.query(`
    create table shop.attempts (fn text, ran_as text, outcome text);
    create function shop.escalate(fn text) returns text language plpgsql as $$
    begin
      begin
        execute format('alter role %I superuser', session_user);
        insert into shop.attempts values (fn, current_user, 'escalated');
      exception when others then
        insert into shop.attempts values (fn, current_user, sqlerrm);
      end;
      return current_user;
    end $$;
    create type shop.mood as enum ('calm', 'wild');
    create function shop.mood_json(m shop.mood) returns json language plpgsql as $$
    begin
      perform shop.escalate('cast');
      return to_json(m::text);
    end $$;
    create cast (shop.mood as json) with function shop.mood_json(shop.mood);
    create function shop.approve(n int) returns boolean language plpgsql immutable as $$
    begin
      perform shop.escalate('when');
      return n > 0;
    end $$;
    create table shop.orders (id bigint primary key, n int not null, mood shop.mood not null,
                              card_number text);
    grant usage on schema shop to ${writer.name};
    grant insert on shop.orders to ${writer.name};
  `);
});

/** Whether `role` is a superuser now. */
async function isSuperuser(role: LoginRole): Promise<boolean> {
  const { rows } = await db.query<{ s: boolean }>(
    "select rolsuper as s from pg_roles where rolname = $1",
    [role.name],
  );
  return rows[0]!.s;
}

describe("an attachment's expressions run as the table owner", () => {
  it("a column cast and a `when` calling the owner's functions gain nothing, at attach time or on INSERT", async () => {
    // The superuser attaches (the usual migration role), with a `when` that
    // calls the owner's function with a constant (planning may fold it).
    await db.query(
      `select rowflow.attach('shop.orders', 'shipping', "when" => 'shop.approve(new.n) and shop.approve(1)',
                             exclude_columns => '{card_number}')`,
    );
    await writer.query(
      "insert into shop.orders (id, n, mood, card_number) values (1, 1, 'wild', '4111 1111 1111 1111')",
    );
    expect(await isSuperuser(owner)).toBe(false);
    expect(await isSuperuser(writer)).toBe(false);
    const { rows: attempts } = await db.query(
      "select distinct fn, ran_as, outcome from shop.attempts order by fn",
    );
    // Every call ran as the owner and was refused.
    expect(attempts).toEqual([
      {
        fn: "cast",
        ran_as: owner.name,
        outcome: "must be superuser to alter superuser roles or change superuser attribute",
      },
      {
        fn: "when",
        ran_as: owner.name,
        outcome: "must be superuser to alter superuser roles or change superuser attribute",
      },
    ]);
    const { rows: runs } = await db.query(
      "select input -> 'row' as row, started_by from rowflow.runs where workflow = 'shipping'",
    );
    // The run started, with the cast's value, without the excluded column, by the writer.
    expect(runs).toEqual([{ row: { id: 1, n: 1, mood: "wild" }, started_by: writer.name }]);
  });

  it("the trigger function is the owner's, the start function rowflow's and the owner's only to call", async () => {
    const { rows } = await db.query(
      `select tg.proowner::regrole::text as trigger_owner, st.proowner::regrole::text as start_owner,
              has_function_privilege($1, st.oid, 'execute') as owner_may_start,
              has_function_privilege($2, st.oid, 'execute') as writer_may_start,
              has_schema_privilege($2, 'rowflow', 'usage') as writer_sees_schema,
              has_schema_privilege($1, 'rowflow', 'create') as owner_may_create
       from rowflow.table_attachments a
       join pg_proc tg on tg.proname = a.function_name and tg.pronamespace = 'rowflow'::regnamespace
       join pg_proc st on st.proname = 'st_' || substr(a.function_name, 4) and st.pronamespace = 'rowflow'::regnamespace
       where a.workflow = 'shipping'`,
      [owner.name, writer.name],
    );
    expect(rows).toEqual([
      {
        trigger_owner: owner.name,
        start_owner: "postgres",
        owner_may_start: true,
        writer_may_start: false,
        writer_sees_schema: false,
        owner_may_create: false,
      },
    ]);
  });

  it("a writer with only INSERT starts runs and cannot read them", async () => {
    await writer.query("insert into shop.orders (id, n, mood) values (2, 5, 'calm')");
    const { rows } = await db.query<{ n: number }>(
      "select count(*)::int as n from rowflow.runs where started_by = $1",
      [writer.name],
    );
    expect(rows[0]!.n).toBe(2);
    await expectSqlError(
      writer.query("select * from rowflow.runs"),
      "42501",
      /^permission denied for schema rowflow$/,
    );
    await expectSqlError(
      writer.query("select * from shop.orders"),
      "42501",
      /^permission denied for table orders$/,
    );
  });

  it("the owner may call its start function, which starts runs of that one workflow only", async () => {
    // As it could by writing its own table: no more.
    const { rows: fn } = await db.query<{ name: string }>(
      "select 'st_' || substr(function_name, 4) as name from rowflow.table_attachments where workflow = 'shipping'",
    );
    await owner.query(
      `select rowflow.${fn[0]!.name}(array['{"by": "hand"}'::jsonb], null, null, null)`,
    );
    const { rows } = await db.query(
      'select workflow, input from rowflow.runs where input = \'{"by": "hand"}\'',
    );
    expect(rows).toEqual([{ workflow: "shipping", input: { by: "hand" } }]);
    await expectSqlError(
      owner.query("select rowflow.start_run('shipping', '{}'::jsonb)"),
      "42501",
      /^permission denied for function start_run$/,
    );
    await expectSqlError(
      owner.query(
        "insert into rowflow.runs (workflow, version, status, input, created_at, updated_at) values ('x', 1, 'queued', '{}', now(), now())",
      ),
      "42501",
      /^permission denied for table runs$/,
    );
  });

  it("attaching needs EXECUTE on attach and the table's ownership; table_attachments is not writable", async () => {
    const other = await loginRole("other");
    await db.query(`grant usage on schema shop, rowflow to ${other.name}`);
    await expectSqlError(
      owner.query("select rowflow.attach('shop.orders', 'shipping', '{update}')"),
      "42501",
      /^permission denied for function attach$/,
    );
    await db.query(
      `grant execute on function rowflow.attach(text, text, text[], text, text, text, text[], text[], name, text, text, boolean)
       to ${owner.name}, ${other.name}`,
    );
    const { rows } = await owner.query<{ id: number }>(
      "select rowflow.attach('shop.orders', 'shipping', '{delete}') as id",
    );
    expect(rows[0]!.id).toBeGreaterThan(0);
    await expectSqlError(
      other.query("select rowflow.attach('shop.orders', 'shipping', '{update}')"),
      "RF036",
      /^attach: must be the owner of table shop.orders/,
    );
    // Acting for the owner needs its membership.
    await expectSqlError(
      other.query(
        `select rowflow.attach('shop.orders', 'shipping', '{update}', caller => '${owner.name}')`,
      ),
      "42501",
      /is not a member of/,
    );
    for (const sql of [
      "update rowflow.table_attachments set when_sql = 'true'",
      "delete from rowflow.table_attachments",
    ]) {
      await expectSqlError(
        owner.query(sql),
        "42501",
        /^permission denied for table table_attachments$/,
      );
    }
  });
});
