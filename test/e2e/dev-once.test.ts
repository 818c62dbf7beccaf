import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import pg from "pg";
import { describe, expect, it } from "vitest";

import { startEmbeddedPostgres } from "../../src/embedded/embedded-postgres.js";
import { useTestDatabase } from "../helpers/db.js";
import { runCli } from "../helpers/run-cli.js";

const db = useTestDatabase();
const config = fileURLToPath(new URL("../../examples/orders/rowflow.config.ts", import.meta.url));

/** What the example shop must look like after `rowflow dev --once` (see examples/orders/demo.ts). */
async function expectDemoOutcome(client: pg.Client | pg.Pool) {
  const runs = await client.query<{ workflow: string; status: string; n: number }>(
    "select workflow, status, count(*)::int as n from rowflow.runs group by 1, 2 order by 1, 2",
  );
  expect(runs.rows).toEqual([
    { workflow: "order-cancellation", status: "succeeded", n: 1 },
    { workflow: "order-fulfilment", status: "failed", n: 2 },
    { workflow: "order-fulfilment", status: "succeeded", n: 10 },
  ]);
  const orders = await client.query<{ customer: string; status: string; review: string | null }>(
    "select customer, status, review from shop.orders order by id",
  );
  expect(orders.rows).toEqual([
    { customer: "ada", status: "shipped", review: null },
    { customer: "grace", status: "refunded", review: null }, // cancelled after shipping
    { customer: "alan", status: "shipped", review: "approved" },
    { customer: "edsger", status: "shipped", review: null },
    { customer: "barbara", status: "shipped", review: null },
    { customer: "ken", status: "rejected", review: null }, // unknown product
    { customer: "dennis", status: "shipped", review: null },
    { customer: "margaret", status: "shipped", review: "approved" },
    { customer: "linus", status: "refunded", review: null }, // out of stock → compensation
    { customer: "frances", status: "shipped", review: null },
    { customer: "john", status: "shipped", review: null },
    { customer: "radia", status: "shipped", review: "approved" },
  ]);
  const payments = await client.query<{ status: string; n: number }>(
    "select status, count(*)::int as n from shop.payments group by 1 order by 1",
  );
  expect(payments.rows).toEqual([
    { status: "captured", n: 9 },
    { status: "refunded", n: 2 },
  ]);
  const shipments = await client.query<{ n: number }>(
    "select count(*)::int as n from shop.shipments",
  );
  expect(shipments.rows[0]?.n).toBe(10);
  const inventory = await client.query(
    "select sku, in_stock, reserved from shop.inventory order by sku",
  );
  expect(inventory.rows).toEqual([
    { sku: "gadget", in_stock: 3, reserved: 2 },
    { sku: "gizmo", in_stock: 46, reserved: 4 },
    { sku: "widget", in_stock: 90, reserved: 10 },
  ]);
  // Every fourth order's confirmation failed once on purpose and succeeded on attempt 2.
  const retried = await client.query<{ customer: string; attempt: number }>(
    `select o.customer, s.attempt from rowflow.step_runs s
       join rowflow.runs r on r.id = s.run_id
       join shop.orders o on o.id = (r.input #>> '{row,id}')::bigint
      where r.workflow = 'order-fulfilment' and s.step = 'confirm' and s.status = 'succeeded' and s.attempt > 1
      order by o.id`,
  );
  expect(retried.rows).toEqual([
    { customer: "edsger", attempt: 2 },
    { customer: "margaret", attempt: 2 },
    { customer: "radia", attempt: 2 },
  ]);
  const compensation = await client.query<{ step: string; status: string }>(
    `select s.step, s.status from rowflow.step_runs s join rowflow.runs r on r.id = s.run_id
      where s.kind = 'compensation' order by s.step`,
  );
  expect(compensation.rows).toEqual([{ step: "compensate:charge", status: "succeeded" }]);
}

describe("rowflow dev --once (the quickstart)", () => {
  it("runs the example shop on the embedded default and leaves it in the expected state", async () => {
    const cwd = await mkdtemp(path.join(tmpdir(), "rowflow-dev-"));
    // As root, the embedded server runs as the OS user postgres, which must be able to enter it.
    await chmod(cwd, 0o755);
    try {
      const result = await runCli(["dev", "--once", "--config", config], {
        cwd,
        env: { DATABASE_URL: undefined },
      });
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
      expect(result.stdout).toContain("demo finished: every run reached a final state");
      expect(result.stdout).toMatch(
        /order-fulfilment +█+ started 12 {2}queued 0 {2}running 0 {2}succeeded 10 {2}failed 2/,
      );
      // The data persisted in .rowflow/pgdata: start that server again and look.
      const server = await startEmbeddedPostgres({ dataDir: path.join(cwd, ".rowflow/pgdata") });
      const client = new pg.Client({ connectionString: server.connectionString() });
      try {
        await client.connect();
        await expectDemoOutcome(client);
      } finally {
        await client.end();
        await server.stop();
      }
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  });

  it("uses --database-url instead of the embedded Postgres when given", async () => {
    const result = await runCli(["dev", "--once", "--config", config, "--database-url", db.url]);
    expect(result.code).toBe(0);
    expect(result.stdout).not.toContain("embedded Postgres");
    await expectDemoOutcome(db.pool);
  });
});
