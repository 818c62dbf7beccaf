// rowflow.audit records new workflow versions, attaches and detaches
// (sql/schema/30_define/define_workflow.sql, 50_attach/_attach.sql,
// _detach.sql), with the session's rowflow.reason as the reason.
import { describe, expect, it } from "vitest";

import { useTestDatabase } from "../../helpers/db.js";
import { define } from "../support.js";

const db = useTestDatabase();

describe("the audit of definitions and attachments", () => {
  it("records a new version once, an attach and a detach, each with the session's identity", async () => {
    await db.rollback(async (c) => {
      await c.query("set local rowflow.reason = 'release 42'");
      await c.query("set local application_name = 'deploy-script'");
      const one = { steps: [{ name: "a", task: "t" }] };
      expect(await define(c, "audited", one)).toBe(1);
      expect(await define(c, "audited", one)).toBe(1); // the same spec: no new version, no row
      expect(await define(c, "audited", { steps: [{ name: "b", task: "t" }] })).toBe(2);
      await c.query("create table public.audited_orders (id int primary key)");
      const { rows: att } = await c.query<{ id: number }>(
        "select rowflow.attach('public.audited_orders', 'audited') as id",
      );
      await c.query("select rowflow.detach('public.audited_orders', 'audited')");
      const { rows } = await c.query(
        `select action, workflow, reason, data, session_user_name = session_user as by_me, application_name
         from rowflow.audit order by id`,
      );
      const who = { reason: "release 42", by_me: true, application_name: "deploy-script" };
      expect(rows).toEqual([
        {
          action: "define_workflow",
          workflow: "audited",
          data: { version: 1, owner: expect.any(String), steps: 1 },
          ...who,
        },
        {
          action: "define_workflow",
          workflow: "audited",
          data: { version: 2, owner: expect.any(String), steps: 1 },
          ...who,
        },
        {
          action: "attach",
          workflow: "audited",
          data: {
            attachment: att[0]!.id,
            table: "public.audited_orders",
            events: ["insert"],
            when: null,
            caller: expect.any(String),
            on_delete: "ignore",
            supersede: false,
          },
          ...who,
        },
        {
          action: "detach",
          workflow: "audited",
          data: { table: "public.audited_orders", removed: 1, caller: expect.any(String) },
          ...who,
        },
      ]);
    });
  });
});
