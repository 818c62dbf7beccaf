// sql/schema/50_attach/_attachment_body.sql: an attachment without an idempotency key inserts its statement's
// runs straight from the transition table (one INSERT … SELECT in the
// generated trigger function; an input that is not a small plain object is
// checked by rowflow._run_input; then one rowflow._runs_started call, none
// for a single run nobody waits for), when the workflow exists, is not
// paused or not, and rowflow.mode is valid. Everything else (a key, an
// unknown workflow, an invalid mode) goes through rowflow._start_attached as
// before, which raises only when rows qualify. Either way a start is the run
// row only: queued, no step rows, no jobs, no events.
import { beforeAll, describe, expect, it } from "vitest";

import { useTestDatabase } from "../../helpers/db.js";
import { define, eventTypes, expectSqlError, jobKeys, type Queryable } from "../support.js";

const db = useTestDatabase();

beforeAll(async () => {
  await define(db.pool, "chain", {
    steps: [
      { name: "a", task: "t", attempts: 7, priority: -3 },
      { name: "b", task: "t", dependsOn: ["a"] },
      { name: "c", task: "t", dependsOn: ["b"] },
    ],
  });
  await db.query(`
    create table plain (id bigint primary key, n int not null default 0);
    select rowflow.attach('plain', 'chain', '{insert,update,delete}', "when" => 'new.n > 0 or old.n > 0');
    create table keyed (id bigint primary key, n int not null default 0);
    select rowflow.attach('keyed', 'chain', idempotency_key => '''k:'' || new.n');
    create table shaped (id bigint primary key, input jsonb);
    select rowflow.attach('shaped', 'chain', '{insert,update}', input => 'new.input');
    create table gated (id bigint primary key, n int not null default 0);
    select rowflow.attach('gated', 'chain', "when" => 'new.n > 0');
    create table gated_keyed (id bigint primary key, n int not null default 0);
    select rowflow.attach('gated_keyed', 'chain', "when" => 'new.n > 0', idempotency_key => 'new.id');
    create table constant (id bigint primary key, n int not null default 0);
    select rowflow.attach('constant', 'chain', "when" => 'new.n > 0', input => '''[1]''::jsonb');
  `);
});

const counted = [
  "start_runs",
  "_start_attached",
  "_queue_runs",
  "_runs_started",
  "_run_input",
  "_wake_all",
] as const;
type Calls = Record<(typeof counted)[number], number>;

/**
 * Calls of rowflow functions in this transaction (needs `set local
 * track_functions = 'all'`); compare differences within one transaction.
 */
async function calls(q: Queryable): Promise<Calls> {
  const { rows } = await q.query<{ f: string; n: number }>(
    `select p.proname as f, coalesce(sum(pg_stat_get_xact_function_calls(p.oid)), 0)::int as n
     from pg_catalog.pg_proc p
     where p.pronamespace = 'rowflow'::regnamespace and p.proname = any($1::text[])
     group by p.proname`,
    [counted],
  );
  const out = Object.fromEntries(counted.map((f) => [f, 0])) as Calls;
  for (const r of rows) out[r.f as keyof Calls] = r.n;
  return out;
}

/** What `fn` called, as differences of calls(). */
async function callsOf(q: Queryable, fn: () => Promise<unknown>): Promise<Calls> {
  const before = await calls(q);
  await fn();
  const after = await calls(q);
  return Object.fromEntries(counted.map((f) => [f, after[f] - before[f]])) as Calls;
}

/** Runs of this transaction's attached statements (rowflow.pending_runs()), by id. */
async function pending(q: Queryable): Promise<string[]> {
  const { rows } = await q.query<{ run_id: string }>(
    "select run_id from rowflow.pending_runs() order by run_id",
  );
  return rows.map((r) => r.run_id);
}

/**
 * The run rows of `ids` in that order, without id and timestamps;
 * `at_now`: created_at and updated_at are the transaction's time.
 */
async function runRows(q: Queryable, ids: string[]): Promise<Array<Record<string, unknown>>> {
  const { rows } = await q.query<{ run: Record<string, unknown>; at_now: boolean }>(
    // The source row (source_relid, source_key) is what start_runs cannot
    // write; sources() reads it.
    `select to_jsonb(r) - 'id' - 'created_at' - 'updated_at' - 'source_relid' - 'source_key' as run,
            r.created_at = now() and r.updated_at = now() as at_now
     from unnest($1::bigint[]) with ordinality as t(id, o) join rowflow.runs r on r.id = t.id
     order by t.o`,
    [ids],
  );
  expect(rows, `runs ${ids.join(",")}`).toHaveLength(ids.length);
  return rows.map((r) => ({ ...r.run, at_now: r.at_now }));
}

/** The source rows of runs `ids` (in that order): table and key. */
async function sources(q: Queryable, ids: string[]) {
  const { rows } = await q.query<{ source: string | null; key: string | null }>(
    `select r.source_relid::regclass::text as source, r.source_key as key
     from unnest($1::bigint[]) with ordinality as t(id, o) join rowflow.runs r on r.id = t.id order by t.o`,
    [ids],
  );
  return rows;
}

/** What rowflow.start_runs writes for the inputs of runs `ids` (in that order). */
async function viaStartRuns(q: Queryable, ids: string[], priority: number, keys?: string[]) {
  const { rows } = await q.query<{ id: string }>(
    `select rowflow.start_runs('chain', array(select r.input from unnest($1::bigint[]) with ordinality as t(id, o)
       join rowflow.runs r on r.id = t.id order by t.o), $2::text[], $3) as id`,
    [ids, keys ?? null, priority],
  );
  return runRows(
    q,
    rows.map((r) => r.id),
  );
}

/** Step rows, jobs and events of runs `ids`. */
async function around(q: Queryable, ids: string[]) {
  const { rows } = await q.query<{ steps: number; jobs: number; events: number }>(
    `select (select count(*) from rowflow.step_runs where run_id = any($1::bigint[]))::int as steps,
            (select count(*) from graphile_worker._private_jobs
             where (payload->>'run')::bigint = any($1::bigint[]))::int as jobs,
            (select count(*) from rowflow.events where run_id = any($1::bigint[]))::int as events`,
    [ids],
  );
  return rows[0]!;
}

const queued = {
  started_by: "postgres",
  workflow: "chain",
  version: 1,
  status: "queued",
  idempotency_key: null,
  error: null,
  started_at: null,
  finished_at: null,
  rerun_of: null,
  traceparent: null,
  tracestate: null,
  at_now: true,
};
/** runRows ordered by the business row's id (input.key.id). */
async function byRow(q: Queryable, ids: string[]) {
  const key = (r: Record<string, unknown>) => (r.input as { key: { id: number } }).key.id;
  return (await runRows(q, ids)).sort((x, y) => key(x) - key(y));
}

const inlineCalls = (runsStarted: number, inputs: number): Calls => ({
  start_runs: 0,
  _start_attached: 0,
  _queue_runs: 0,
  _runs_started: runsStarted,
  _run_input: inputs,
  _wake_all: 0, // nobody waits in this file (quiet-enqueue.test.ts has the wake-ups)
});
const row = (op: string, id: number, n: number) => ({
  schema: "public",
  table: "plain",
  op,
  key: { id },
  row: { id, n },
});

describe("an unkeyed attachment inserts its runs from the transition table", () => {
  it("one row: the run start_runs writes for its input, in each normal mode and in backfill", async () => {
    for (const mode of [null, "", "normal", "backfill"]) {
      const priority = mode === "backfill" ? 1000 : 0;
      await db.rollback(async (c) => {
        await c.query("set local track_functions = 'all'");
        if (mode !== null) await c.query("select set_config('rowflow.mode', $1, true)", [mode]);
        expect(
          await callsOf(c, () => c.query("insert into plain (id, n) values (1, 5)")),
          `mode ${mode}`,
        ).toEqual(inlineCalls(0, 0)); // one run, nobody waiting: no call at all
        const ids = await pending(c);
        const inline = await runRows(c, ids);
        expect(inline).toEqual([{ ...queued, input: row("insert", 1, 5), priority }]);
        expect(await sources(c, ids)).toEqual([{ source: "plain", key: "1" }]);
        expect(inline).toEqual(await viaStartRuns(c, ids, priority));
        expect(await around(c, ids)).toEqual({ steps: 0, jobs: 0, events: 0 });
      });
    }
  });

  it("a statement of several rows: one INSERT … SELECT of the qualifying rows, as start_runs writes them", async () => {
    for (const mode of ["normal", "backfill"]) {
      const priority = mode === "backfill" ? 1000 : 0;
      await db.rollback(async (c) => {
        await c.query("set local track_functions = 'all'");
        await c.query("select set_config('rowflow.mode', $1, true)", [mode]);
        // Four rows, three qualify (n > 0): one _runs_started call; small object inputs pass as is.
        expect(
          await callsOf(c, () =>
            c.query("insert into plain (id, n) values (1, 1), (2, 0), (3, 3), (4, 4)"),
          ),
        ).toEqual(inlineCalls(1, 0));
        const inserted = await pending(c);
        expect(await byRow(c, inserted)).toEqual([
          { ...queued, priority, input: row("insert", 1, 1) },
          { ...queued, priority, input: row("insert", 3, 3) },
          { ...queued, priority, input: row("insert", 4, 4) },
        ]);
        expect(await runRows(c, inserted)).toEqual(await viaStartRuns(c, inserted, priority));
        expect(await around(c, inserted)).toEqual({ steps: 0, jobs: 0, events: 0 });

        // UPDATE and DELETE take the same path, with their own inputs.
        const update = await callsOf(c, () => c.query("update plain set n = n + 10 where id <= 2"));
        const updated = (await pending(c)).filter((id) => !inserted.includes(id));
        const del = await callsOf(c, () => c.query("delete from plain where id in (3, 4)"));
        const deleted = (await pending(c)).filter(
          (id) => !inserted.includes(id) && !updated.includes(id),
        );
        expect([update, del]).toEqual([inlineCalls(1, 0), inlineCalls(1, 0)]);
        expect(await byRow(c, updated)).toEqual([
          { ...queued, priority, input: { ...row("update", 1, 11), old: { id: 1, n: 1 } } },
          { ...queued, priority, input: { ...row("update", 2, 10), old: { id: 2, n: 0 } } },
        ]);
        expect(await byRow(c, deleted)).toEqual([
          { ...queued, priority, input: row("delete", 3, 3) },
          { ...queued, priority, input: row("delete", 4, 4) },
        ]);
        expect(await runRows(c, updated)).toEqual(await viaStartRuns(c, updated, priority));
        expect(await runRows(c, deleted)).toEqual(await viaStartRuns(c, deleted, priority));
        expect(await around(c, [...updated, ...deleted])).toEqual({
          steps: 0,
          jobs: 0,
          events: 0,
        });
        // No row qualifies: no run, no further call.
        expect(await callsOf(c, () => c.query("insert into plain (id, n) values (9, 0)"))).toEqual(
          inlineCalls(0, 0),
        );
        expect(await pending(c)).toHaveLength(7);
      });
    }
  });

  it("starts the workflow's latest version, like start_runs", async () => {
    await db.rollback(async (c) => {
      await define(c, "chain", { steps: [{ name: "only", task: "t" }] });
      await c.query("insert into plain (id, n) values (1, 1)");
      const ids = await pending(c);
      const inline = await runRows(c, ids);
      expect(inline).toEqual([{ ...queued, version: 2, priority: 0, input: row("insert", 1, 1) }]);
      expect(inline).toEqual(await viaStartRuns(c, ids, 0));
    });
  });

  it("'suppress' starts nothing and calls nothing", async () => {
    await db.rollback(async (c) => {
      await c.query("set local track_functions = 'all'");
      await c.query("set local rowflow.mode = 'suppress'");
      expect(
        await callsOf(c, () => c.query("insert into plain (id, n) values (1, 1), (2, 2)")),
      ).toEqual(inlineCalls(0, 0));
      expect(await pending(c)).toEqual([]);
      expect(
        (await c.query("select count(*)::int as n from rowflow.runs where workflow = 'chain'"))
          .rows[0]!.n,
      ).toBe(0);
    });
  });
});

describe("a keyed attachment goes through _start_attached", () => {
  it("a key starts one run; a repeated key finds it, and pending_runs lists that run", async () => {
    await db.rollback(async (c) => {
      await c.query("set local track_functions = 'all'");
      const keyed = (sql: string) => callsOf(c, () => c.query(sql));
      const through: Calls = {
        start_runs: 0,
        _start_attached: 1,
        _queue_runs: 1,
        _runs_started: 0,
        _run_input: 0,
        _wake_all: 1, // _queue_runs' own probe (it finds nobody waiting)
      };
      expect(await keyed("insert into keyed (id, n) values (1, 7)")).toEqual(through);
      const [first] = await pending(c);
      expect(await keyed("insert into keyed (id, n) values (2, 7)")).toEqual(through);
      // The second statement found the first run: pending_runs lists it once.
      expect(await pending(c)).toEqual([first]);
      expect(await keyed("insert into keyed (id, n) values (3, 8), (5, 9)")).toEqual(through);
      const ids = await pending(c);
      expect(ids).toHaveLength(3);
      expect(ids[0]).toBe(first);
      const { rows } = await c.query(
        `select idempotency_key as key, count(*)::int as runs, min(input->'row'->>'id') as row
         from rowflow.runs where workflow = 'chain' group by idempotency_key order by 1`,
      );
      expect(rows).toEqual([
        { key: "k:7", runs: 1, row: "1" },
        { key: "k:8", runs: 1, row: "3" },
        { key: "k:9", runs: 1, row: "5" },
      ]);
      const keyedRuns = await runRows(c, ids);
      expect(keyedRuns.map((r) => r.idempotency_key)).toEqual(["k:7", "k:8", "k:9"]);
      // The keyed path (_queue_runs) records the source rows too.
      expect(await sources(c, ids)).toEqual([
        { source: "keyed", key: "1" },
        { source: "keyed", key: "3" },
        { source: "keyed", key: "5" },
      ]);
      expect(keyedRuns[0]).toEqual({
        ...queued,
        idempotency_key: "k:7",
        priority: 0,
        input: {
          schema: "public",
          table: "keyed",
          op: "insert",
          key: { id: 1 },
          row: { id: 1, n: 7 },
        },
      });
      expect(await around(c, ids)).toEqual({ steps: 0, jobs: 0, events: 0 });
      // start_runs writes the same rows for the same inputs and keys (other
      // keys, so that they do not find these runs).
      const fresh = ["x:7", "x:8", "x:9"];
      expect(await viaStartRuns(c, ids, 0, fresh)).toEqual(
        keyedRuns.map((r, i) => ({ ...r, idempotency_key: fresh[i] })),
      );
      // And start_runs finds the attachment's run for its key.
      const again = await c.query<{ id: string }>(
        "select rowflow.start_runs('chain', array['{}'::jsonb], array['k:7']) as id",
      );
      expect(again.rows[0]!.id).toBe(first);
    });
  });

  it("a key repeated within a statement: one run, listed once by pending_runs, and no other run", async () => {
    await db.rollback(async (c) => {
      // k:2 has a run; then a run that no attachment started.
      const { rows: before } = await c.query<{ id: string }>(
        `select rowflow.start_run('chain', '{}', idempotency_key => 'k:2') as id
         union all select rowflow.start_run('chain', '{}')`,
      );
      const [existing, other] = before.map((r) => r.id);
      // Rows 2 and 3 both have key k:2; row 1 starts a new run.
      await c.query("insert into keyed (id, n) values (1, 1), (2, 2), (3, 2)");
      const { rows } = await c.query<{ id: string }>(
        "select id from rowflow.runs where idempotency_key = 'k:1'",
      );
      expect(rows).toHaveLength(1);
      expect(await pending(c)).toEqual([existing, rows[0]!.id]);
      expect(await pending(c)).not.toContain(other);
    });
  });

  it("backfill mode: the keyed run gets priority 1000", async () => {
    await db.rollback(async (c) => {
      await c.query("set local rowflow.mode = 'backfill'");
      await c.query("insert into keyed (id, n) values (1, 1)");
      const ids = await pending(c);
      expect(await runRows(c, ids)).toEqual([
        expect.objectContaining({ ...queued, idempotency_key: "k:1", priority: 1000 }),
      ]);
    });
  });
});

describe("bad inputs: RF022, no run", () => {
  /** Runs `sql` in a savepoint, expecting RF022 with `message`; then no run exists. */
  async function refused(c: Queryable, sql: string, values: unknown[], message: RegExp) {
    await c.query("savepoint bad");
    await expectSqlError(c.query(sql, values), "RF022", message);
    await c.query("rollback to savepoint bad");
    expect(await pending(c)).toEqual([]);
    expect(
      (await c.query("select count(*)::int as n from rowflow.runs where workflow = 'chain'"))
        .rows[0]!.n,
    ).toBe(0);
  }
  const notObject = (type: string) =>
    new RegExp(
      `^run input is ${type}, not a JSON object; wrap values in an object like \\{"value": …\\}$`,
    );

  it("an input that is not a JSON object", async () => {
    await db.rollback(async (c) => {
      const insert = "insert into shaped (id, input) values (1, $1::jsonb)";
      await refused(c, insert, ["[1]"], notObject("array"));
      await refused(c, insert, ['"text"'], notObject("string"));
      await refused(c, insert, ["3"], notObject("number"));
      await refused(c, insert, ["null"], notObject("null"));
      await refused(c, insert, [null], notObject("null"));
      // One bad row fails the whole statement.
      await refused(
        c,
        "insert into shaped (id, input) values (1, '{}'), (2, $1::jsonb), (3, '{}')",
        ["[2]"],
        notObject("array"),
      );
      // On UPDATE too.
      await c.query("set local rowflow.mode = 'suppress'");
      await c.query("insert into shaped (id, input) values (1, '{}')");
      await c.query("set local rowflow.mode = ''");
      await refused(c, "update shaped set input = $1::jsonb", ["[]"], notObject("array"));
    });
  });

  it("an input over 1 MiB of JSON text (the limit itself is accepted)", async () => {
    await db.rollback(async (c) => {
      // {"b": "x…x"}: the string plus 9 bytes.
      const blob = (bytes: number) => JSON.stringify({ b: "x".repeat(bytes - 9) });
      await refused(
        c,
        "insert into shaped (id, input) values (1, $1::jsonb)",
        [blob(1048577)],
        /^run input is 1048577 bytes of JSON; the limit is 1 MiB \(1048576 bytes\): store large data in a table and pass its key$/,
      );
      await c.query("insert into shaped (id, input) values (2, $1::jsonb)", [blob(1048576)]);
      const { rows } = await c.query(
        "select octet_length(input::text) as bytes from rowflow.pending_runs()",
      );
      expect(rows).toEqual([{ bytes: 1048576 }]);
    });
  });

  it("an input over 1 MiB read from a stored (compressed) column is refused too, as start_runs refuses it", async () => {
    await db.rollback(async (c) => {
      // 2,000,009 bytes of JSON that compress to a few kB on disk.
      await c.query("set local rowflow.mode = 'suppress'");
      await c.query(
        "insert into shaped (id, input) values (1, jsonb_build_object('b', repeat('x', 2000000)))",
      );
      await c.query("set local rowflow.mode = ''");
      const { rows } = await c.query(
        "select octet_length(input::text) as bytes, pg_column_size(input) < 174762 as compressed from shaped",
      );
      expect(rows).toEqual([{ bytes: 2000009, compressed: true }]);
      const tooBig =
        /^run input (#1 )?is 2000009 bytes of JSON; the limit is 1 MiB \(1048576 bytes\): store large data in a table and pass its key$/;
      await c.query("savepoint s");
      await expectSqlError(
        c.query("select rowflow.start_runs('chain', array(select input from shaped))"),
        "RF022",
        tooBig,
      );
      await c.query("rollback to savepoint s");
      // The row's stored value, unchanged by the UPDATE, and copied by INSERT … SELECT.
      await refused(c, "update shaped set id = id", [], tooBig);
      await refused(c, "insert into shaped (id, input) select 2, input from shaped", [], tooBig);
    });
  });
});

describe("paused workflow: the write succeeds and its runs wait", () => {
  it("starts queued runs for a paused workflow (unkeyed and keyed), which no claim takes until it is resumed", async () => {
    await db.rollback(async (c) => {
      await c.query("update rowflow.workflows set paused = true where name = 'chain'");
      for (const table of ["gated", "gated_keyed"]) {
        await c.query(`insert into ${table} (id, n) values (2, 0), (3, 1)`);
      }
      const runs = await pending(c);
      expect(runs).toHaveLength(2);
      const { rows: states } = await c.query<{ status: string }>(
        "select status from rowflow.runs where id = any ($1::bigint[]) order by id",
        [runs],
      );
      expect(states).toEqual([{ status: "queued" }, { status: "queued" }]);
      const claimed = await c.query<{ r: { runs: number } }>(
        "select rowflow.claim_runs(max_runs => 10) as r",
      );
      expect(claimed.rows[0]!.r.runs).toBe(0);
      await c.query("update rowflow.workflows set paused = false where name = 'chain'");
      const resumed = await c.query<{ r: { runs: number } }>(
        "select rowflow.claim_runs(max_runs => 10) as r",
      );
      expect(resumed.rows[0]!.r.runs).toBe(2);
    });
  });
});

describe("unknown workflow, invalid mode: errors only when a row qualifies", () => {
  const qualifying = "insert into gated (id, n) values (2, 0), (3, 1)";
  const none = "insert into gated (id, n) values (1, 0)";

  it("unknown (its row gone, as a broken restore could leave it): RF020", async () => {
    await db.rollback(async (c) => {
      // table_attachments references the workflow; replica mode skips the check.
      await c.query("set local session_replication_role = replica");
      await c.query("delete from rowflow.workflows where name = 'chain'");
      await c.query("set local session_replication_role = origin");
      await c.query(none);
      await expectSqlError(
        c.query(qualifying),
        "RF020",
        /^unknown workflow "chain"; define it first with rowflow.define_workflow$/,
      );
    });
  });

  it("invalid mode: RF039", async () => {
    await db.rollback(async (c) => {
      await c.query("set local rowflow.mode = 'supress'");
      await c.query(none);
      await expectSqlError(
        c.query(qualifying),
        "RF039",
        /^rowflow.mode is 'supress', expected 'normal', 'suppress' or 'backfill'$/,
      );
    });
  });

  it("a constant input that is not an object fails only the statements in which a row qualifies", async () => {
    await db.rollback(async (c) => {
      await c.query("savepoint s");
      await expectSqlError(
        c.query("insert into constant (id, n) values (1, 1)"),
        "RF022",
        /^run input is array, not a JSON object/,
      );
      await c.query("rollback to savepoint s");
      // No row qualifies (n = 0), or none at all: nothing to refuse.
      await c.query("insert into constant (id, n) values (2, 0)");
      await c.query("insert into constant (id, n) select 3, 1 where false");
      expect(await pending(c)).toEqual([]);
    });
  });
});

describe("the generated function", () => {
  it("is two functions per attachment: the trigger function (the table owner's) and the start function (rowflow's)", async () => {
    const { rows } = await db.query(
      `select c.relname as table,
              tg.prosrc = rowflow._attachment_body(a) as trigger_current,
              st.prosrc = rowflow._attachment_start_body(a) as start_current,
              tg.prosecdef and st.prosecdef as definers,
              tg.proowner = c.relowner as trigger_owned_by_table_owner,
              st.proowner = (select nspowner from pg_namespace where nspname = 'rowflow') as start_owned_by_rowflow,
              tg.prosrc like '%insert into%' as trigger_writes,
              st.prosrc like '%rowflow._run_input(rf_q.input)%' and st.prosrc like '%:= rowflow._start_attached(%'
                as start_inline_and_slow_path
       from rowflow.table_attachments a join pg_catalog.pg_class c on c.oid = a.relid
       join pg_catalog.pg_proc tg on tg.proname = a.function_name and tg.pronamespace = 'rowflow'::regnamespace
       join pg_catalog.pg_proc st on st.proname = 'st_' || substr(a.function_name, 4)
                                 and st.pronamespace = 'rowflow'::regnamespace
       order by a.id`,
    );
    const expected = {
      trigger_current: true,
      start_current: true,
      definers: true,
      trigger_owned_by_table_owner: true,
      start_owned_by_rowflow: true,
      trigger_writes: false,
      start_inline_and_slow_path: true,
    };
    expect(rows).toEqual(
      ["plain", "keyed", "shaped", "gated", "gated_keyed", "constant"].map((table) => ({
        table,
        ...expected,
      })),
    );
  });

  it("leaves jobs and events to claim_runs: none before, the root job after", async () => {
    await db.rollback(async (c) => {
      await c.query("insert into plain (id, n) values (1, 1)");
      const [run] = await pending(c);
      expect(await jobKeys(c, Number(run))).toEqual([]);
      expect(await eventTypes(c, Number(run))).toEqual([]);
      await c.query("select rowflow.claim_runs(take => 0, max_runs => 1000)");
      expect(await jobKeys(c, Number(run))).toEqual([`rowflow:${run}:a:1`]);
    });
  });
});
