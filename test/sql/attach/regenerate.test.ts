// 000011 regenerates the trigger function of every attachment made before it
// with rowflow._attachment_body, and 000017 again (rowflow._install_attachment:
// the trigger function evaluates the expressions as the table owner, a new
// start function writes the runs): the same function (oid, owner,
// privileges) and the same triggers, with the current body, so that old
// attachments start queued runs like new ones.
import { copyFile, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { migrate } from "../../../src/db/migrate.js";
import { defaultMigrationsDir } from "../../../src/db/migration-files.js";
import { useTestDatabase } from "../../helpers/db.js";
import { define } from "../support.js";

const db = useTestDatabase({ migrated: false });
let before: string;
let later: string[];

beforeAll(async () => {
  // The migrations before 000011, in a folder of their own.
  before = await mkdtemp(path.join(tmpdir(), "rowflow-before-000011-"));
  const files = (await readdir(defaultMigrationsDir)).filter(
    (f) => f.endsWith(".sql") && f < "000011",
  );
  expect(files).toHaveLength(10);
  later = (await readdir(defaultMigrationsDir))
    .filter((f) => f.endsWith(".sql") && f >= "000011")
    .sort();
  await Promise.all(
    files.map((f) => copyFile(path.join(defaultMigrationsDir, f), path.join(before, f))),
  );
  await migrate({ connectionString: db.url, migrationsDir: before });
});

afterAll(async () => {
  if (before) await rm(before, { recursive: true, force: true });
});

/** Each attachment's trigger function and triggers, as the catalog has them. */
async function functions() {
  const { rows } = await db.query(
    `select c.relname as table, a.function_name, p.oid::int as oid, p.proowner::regrole::text as owner,
            p.proacl::text as acl, p.prosecdef as security_definer,
            pg_catalog.obj_description(p.oid, 'pg_proc') as comment,
            p.prosrc like '%rowflow._run_input(rf_q.input)%' as inline,
            (select array_agg(t.tgname::text || ':' || t.oid order by t.tgname) from pg_catalog.pg_trigger t
             where t.tgfoid = p.oid) as triggers
     from rowflow.table_attachments a join pg_catalog.pg_class c on c.oid = a.relid
     join pg_catalog.pg_proc p on p.proname = a.function_name and p.pronamespace = 'rowflow'::regnamespace
     order by a.id`,
  );
  return rows;
}

describe("000011 and later migrations on a database with attachments", () => {
  it("gives every existing attachment function the new body, and nothing else changes", async () => {
    await define(db.pool, "w", {
      steps: [
        { name: "a", task: "t" },
        { name: "b", task: "t", dependsOn: ["a"] },
      ],
    });
    await db.query(`
      create table plain (id bigint primary key, n int not null default 0);
      select rowflow.attach('plain', 'w', '{insert,update}', "when" => 'new.n > 0');
      create table keyed (id bigint primary key, n int not null default 0);
      select rowflow.attach('keyed', 'w', idempotency_key => '''k:'' || new.n');
      insert into plain values (1, 1);
    `);
    // 000010's trigger path: the run started running, with its root job.
    const { rows: old } = await db.query(
      `select status, (select count(*)::int from graphile_worker._private_jobs
                       where (payload->>'run')::bigint = r.id) as jobs
       from rowflow.runs r`,
    );
    expect(old).toEqual([{ status: "running", jobs: 1 }]);
    const was = await functions();
    expect(was.map((f) => [f.table, f.inline])).toEqual([
      ["plain", false],
      ["keyed", false],
    ]);

    const { applied } = await migrate({ connectionString: db.url });
    expect(applied[0]).toBe("000011_dispatch.sql");
    expect(applied).toEqual(later);

    const now = await functions();
    // The trigger function no longer writes runs (inline: false): its start function does.
    expect(now).toEqual(
      was.map((f) => ({ ...f, comment: expect.stringMatching(/runs as the table owner/) })),
    );
    const { rows: current } = await db.query(
      `select tg.prosrc = rowflow._attachment_body(a) as current,
              st.prosrc = rowflow._attachment_start_body(a) as start_current
       from rowflow.table_attachments a
       join pg_catalog.pg_proc tg on tg.proname = a.function_name and tg.pronamespace = 'rowflow'::regnamespace
       join pg_catalog.pg_proc st on st.proname = 'st_' || substr(a.function_name, 4)
                                 and st.pronamespace = 'rowflow'::regnamespace
       order by a.id`,
    );
    expect(current).toEqual([
      { current: true, start_current: true },
      { current: true, start_current: true },
    ]);
  });

  it("the regenerated functions start queued runs: unkeyed in the start function, keyed through _start_attached", async () => {
    await db.rollback(async (c) => {
      await c.query("set local track_functions = 'all'");
      await c.query("insert into plain values (2, 2)");
      await c.query("update plain set n = 0 where id = 1"); // does not qualify
      await c.query("insert into keyed values (1, 5), (2, 5)");
      const { rows } = await c.query(
        `select r.workflow, r.status, r.idempotency_key, r.input->'row' as row, r.started_at,
                (select count(*)::int from rowflow.step_runs s where s.run_id = r.id) as steps
         from rowflow.pending_runs() p join rowflow.runs r on r.id = p.run_id order by r.id`,
      );
      const queued = { workflow: "w", status: "queued", started_at: null, steps: 0 };
      expect(rows).toEqual([
        { ...queued, idempotency_key: null, row: { id: 2, n: 2 } },
        { ...queued, idempotency_key: "k:5", row: { id: 1, n: 5 } },
      ]);
      const { rows: calls } = await c.query(
        `select p.proname as f, pg_stat_get_xact_function_calls(p.oid)::int as n
         from pg_catalog.pg_proc p
         where p.pronamespace = 'rowflow'::regnamespace
           and p.proname in ('_start_attached', '_runs_started', 'start_runs')
         order by 1`,
      );
      // The unkeyed single-row insert needs no call (one run, nobody waiting).
      expect(calls).toEqual([
        { f: "_runs_started", n: null },
        { f: "_start_attached", n: 1 },
        { f: "start_runs", n: null },
      ]);
    });
  });
});
