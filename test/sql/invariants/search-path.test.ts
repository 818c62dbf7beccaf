// Invariant 6 (docs/architecture.md): every rowflow function pins search_path.
import { describe, expect, it } from "vitest";

import { useTestDatabase } from "../../helpers/db.js";

const db = useTestDatabase();

describe("search_path", () => {
  it("is pinned by every function in the rowflow schema", async () => {
    const { rows } = await db.query<{ fn: string }>(
      `select p.oid::regprocedure::text as fn
         from pg_proc as p
        where p.pronamespace = 'rowflow'::regnamespace
          and not exists (select 1 from unnest(p.proconfig) as c where c like 'search_path=%')
        order by 1`,
    );
    expect(rows).toEqual([]);
    const { rows: count } = await db.query<{ n: number }>(
      "select count(*)::int as n from pg_proc where pronamespace = 'rowflow'::regnamespace",
    );
    expect(count[0]?.n).toBeGreaterThan(30);
  });

  it("attach(text) still resolves the table name with the caller's search_path", async () => {
    await db.rollback(async (client) => {
      await client.query("create schema app; create table app.things (id int primary key)");
      await client.query(
        `select rowflow.define_workflow('things', '{"steps":[{"name":"a","task":"t"}]}')`,
      );
      await client.query("set local search_path = app, public");
      await client.query("select rowflow.attach('things', 'things')");
      const { rows } = await client.query<{ same: boolean }>(
        "select table_name = 'app.things'::regclass as same from rowflow.attachments where workflow = 'things'",
      );
      expect(rows).toEqual([{ same: true }]);
      const { rows: path } = await client.query<{ search_path: string }>("show search_path");
      expect(path[0]?.search_path).toBe("app, public");
      await client.query("select rowflow.detach('things', 'things')");
      const { rows: after } = await client.query(
        "select 1 from rowflow.attachments where workflow = 'things'",
      );
      expect(after).toEqual([]);
    });
  });
});
