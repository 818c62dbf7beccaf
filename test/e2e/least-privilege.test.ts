// A deployment with least privilege (docs/security.md, "Typical grants"): the
// owner (here the superuser migration role) defines the workflow and attaches
// it; the app logs in as a member of rowflow_app and writes its business
// table; the worker logs in as a member of rowflow_worker, with the grants
// its handlers need on the business tables. Runs start from a plain INSERT
// and from start_run, the worker runs them under its own login, the app
// follows its own runs (and only those) with the client. One step goes
// through graphile-worker's job tables (a named queue), the other is handed
// over directly under a lease.
import { beforeAll, describe, expect, it } from "vitest";

import { createClient } from "../../src/client/create-client.js";
import { defineWorkflow } from "../../src/definition/index.js";
import { useTestDatabase } from "../helpers/db.js";
import { type LoginRole, useLoginRoles } from "../helpers/roles.js";
import { startTestWorker } from "../helpers/worker.js";

const db = useTestDatabase();
const loginRole = useLoginRoles(db);

let app: LoginRole;
let otherApp: LoginRole;
let workerLogin: LoginRole;

const workflow = defineWorkflow({ name: "fulfil" })
  .step("reserve", { task: "lp.reserve" }, async (ctx) => {
    // The handler's writes run as the worker's login, in the step's transaction.
    const id = (ctx.input as { key?: { id?: number } }).key?.id ?? 0;
    await ctx.tx
      .insertInto("shop.reservations" as never)
      .values({ order_id: id } as never)
      .execute();
    return { reserved: id };
  })
  // A named queue: this step always goes through a graphile-worker job (fetched under RLS).
  .step("ship", { task: "lp.ship", dependsOn: ["reserve"], queue: "lp-ship" }, (ctx) => ({
    shipped: ctx.deps.reserve,
  }));

beforeAll(async () => {
  app = await loginRole("app", { memberOf: ["rowflow_app"] });
  otherApp = await loginRole("app2", { memberOf: ["rowflow_app"] });
  workerLogin = await loginRole("worker", { memberOf: ["rowflow_worker"] });
  await db.query(
    `
    create schema shop;
    create table shop.orders (id bigint primary key, status text not null);
    create table shop.reservations (order_id bigint not null);
    grant usage on schema shop to ${app.name}, ${workerLogin.name};
    grant insert on shop.orders to ${app.name};
    grant insert on shop.reservations to ${workerLogin.name};
    select rowflow.define_workflow('fulfil', $1::jsonb);
    select rowflow.attach('shop.orders', 'fulfil');
  `.replace("$1::jsonb", `'${JSON.stringify(workflow.spec).replace(/'/g, "''")}'::jsonb`),
  );
});

describe("least privilege", () => {
  it("the worker, logged in as a rowflow_worker member, runs the app's runs", async () => {
    const worker = await startTestWorker(workerLogin.url, { workflows: [workflow] });
    const client = createClient({ connectionString: app.url });
    const other = createClient({ connectionString: otherApp.url });
    try {
      await app.query("insert into shop.orders values (7, 'paid')");
      const started = await client.startRun("fulfil", { key: { id: 8 } });
      const { rows } = await db.query<{ id: string }>(
        "select id::text from rowflow.runs where workflow = 'fulfil' order by id",
      );
      expect(rows).toHaveLength(2);
      expect(rows[1]!.id).toBe(started);
      for (const { id } of rows) {
        const run = await client.waitForRun(id, { timeout: 20_000 });
        expect(run.status).toBe("succeeded");
        expect(run.steps.map((s) => [s.step, s.status])).toEqual([
          ["reserve", "succeeded"],
          ["ship", "succeeded"],
        ]);
      }
      const { rows: reserved } = await db.query(
        "select order_id::int from shop.reservations order by 1",
      );
      expect(reserved).toEqual([{ order_id: 7 }, { order_id: 8 }]);
      // The worker registered under its own login and holds a token.
      const { rows: workers } = await db.query("select count(*)::int as n from rowflow.workers");
      expect(workers).toEqual([{ n: 1 }]);
      // Another app sees neither run, and may not cancel them.
      expect(await other.getRun(started)).toBeUndefined();
      await expect(other.cancelRun(started)).rejects.toThrow(/was not started by/);
      // The app cannot read rowflow's tables directly.
      await expect(app.query("select * from rowflow.runs")).rejects.toThrow(
        /permission denied for table runs/,
      );
    } finally {
      await other.close();
      await client.close();
      await worker.stop();
    }
  });

  it("a worker whose definition differs from the database's refuses to start (it may not define)", async () => {
    const changed = defineWorkflow({ name: "fulfil" }).step(
      "reserve",
      { task: "lp.reserve", attempts: 9 },
      () => ({}),
    );
    const error = await startTestWorker(workerLogin.url, { workflows: [changed] }).then(
      async (w) => {
        await w.stop();
        return undefined;
      },
      (e: unknown) => e,
    );
    expect((error as Error).message).toMatch(
      /^workflow "fulfil" differs from its latest version in the database \(1\), and this role may not define workflows/,
    );
    expect(error).toMatchObject({ code: "RF095" });
  });
});
