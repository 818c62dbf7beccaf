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
    "select workflow, status, count(*)::int as n from rowflow.runs where workflow <> 'sales-report' group by 1, 2 order by 1, 2",
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
  // Each payment came from the demo's payment-confirmed signal, delivered to
  // the run's await-payment step, whose output the charge step recorded.
  const paid = await client.query<{ customer: string; reference: string; ok: boolean }>(
    `select o.customer, p.reference, p.amount_cents = o.total_cents as ok
       from shop.payments p join shop.orders o on o.id = p.order_id order by o.id`,
  );
  expect(paid.rows.map((r) => [r.customer, r.ok, r.reference.startsWith("pay-")])).toEqual(
    [
      "ada",
      "grace",
      "alan",
      "edsger",
      "barbara",
      "dennis",
      "margaret",
      "linus",
      "frances",
      "john",
      "radia",
    ].map((customer) => [customer, true, true]),
  );
  const signals = await client.query<{ status: string; n: number }>(
    `select s.status, count(*)::int as n from rowflow.step_runs s
       join rowflow.runs r on r.id = s.run_id
      where r.workflow = 'order-fulfilment' and s.step = 'await-payment' group by 1 order by 1`,
  );
  expect(signals.rows).toEqual([
    { status: "cancelled", n: 1 }, // ken's: his run failed at validation
    { status: "succeeded", n: 11 },
  ]);
  // The large orders' approval tasks: assigned to the managers group, answered by the demo's manager.
  const tasks = await client.query(
    `select o.customer, t.assignee, t.status, t.completed_by, t.answer
       from rowflow.tasks t join rowflow.runs r on r.id = t.run_id
       join shop.orders o on o.id = (r.input #>> '{row,id}')::bigint order by o.id`,
  );
  expect(tasks.rows).toEqual(
    ["alan", "margaret", "radia"].map((customer) => ({
      customer,
      assignee: "managers",
      status: "done",
      completed_by: "mia@example.com",
      answer: { approved: true },
    })),
  );
  // The shop-report schedule is defined (its ticks may or may not fall within the demo).
  const schedules = await client.query(
    "select name, cron, workflow from rowflow.schedules order by name",
  );
  expect(schedules.rows).toEqual([
    { name: "shop-report", cron: "* * * * *", workflow: "sales-report" },
  ]);
  const reports = await client.query<{ status: string }>(
    "select status from rowflow.runs where workflow = 'sales-report'",
  );
  for (const report of reports.rows) expect(report.status).toBe("succeeded");
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

/** What the demo says it does, in order: the schedule, the payments, the approvals, the cancel. */
function expectDemoLines(stdout: string) {
  const lines = [
    "schedule shop-report (* * * * *, UTC) → sales-report",
    "inserting 12 orders with plain INSERTs…",
    "11 orders wait for their payment (step await-payment); the payment provider confirms them in 2 s…",
    "signal payment-confirmed sent to 11 runs: delivered; they charge and go on",
    "3 orders over $500 wait for a manager's approval (npx rowflow tasks); mia@example.com approves them in 2 s…",
    "mia@example.com approved 3 tasks (rowflow.complete_task); they ship",
    "cancelling grace's order with an UPDATE…",
  ];
  const at = lines.map((line) => stdout.indexOf(line));
  expect(
    at.every((i) => i >= 0),
    stdout,
  ).toBe(true);
  expect([...at].sort((a, b) => a - b)).toEqual(at);
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
      expectDemoLines(result.stdout);
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
    expectDemoLines(result.stdout);
    await expectDemoOutcome(db.pool);
  });
});
