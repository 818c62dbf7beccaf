// What `rowflow dev` does with the example shop: reset its tables, then act
// like the app — plain INSERTs of orders (the attached trigger starts a run
// for each); a few seconds later, as the payment provider's webhook would,
// a "payment-confirmed" signal to each run waiting for one (rowflow.signal);
// as a manager would, the answers to the approval tasks of the large orders
// (rowflow.complete_task); and one UPDATE that cancels a shipped order.
import { readFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";

import type pg from "pg";

import type { DevHooks } from "../../src/config/dev-hooks.js";
import { managersGroup, reviewThresholdCents } from "./order-input.js";

const schema = new URL("./schema.sql", import.meta.url);

/** The demo's orders: [customer, sku, quantity, total in cents]. */
export const demoOrders: ReadonlyArray<[string, string, number, number]> = [
  ["ada", "widget", 1, 1_999],
  ["grace", "widget", 2, 3_998],
  ["alan", "gizmo", 1, 89_900], // above the review threshold: manual review
  ["edsger", "widget", 3, 5_997],
  ["barbara", "gadget", 2, 4_400],
  ["ken", "unobtainium", 1, 100], // unknown product: rejected at validation
  ["dennis", "widget", 1, 1_999],
  ["margaret", "gizmo", 2, 179_800], // review
  ["linus", "gadget", 10, 22_000], // not enough in stock: charge refunded (compensation)
  ["frances", "widget", 1, 1_999],
  ["john", "widget", 4, 7_996],
  ["radia", "gizmo", 1, 89_900], // review
];

/** The order the demo cancels once it has shipped (its cancellation workflow refunds and restocks). */
export const cancelledOrderCustomer = "grace";

/** Who approves the large orders in the demo (a member of the managers group). */
export const demoManager = "mia@example.com";

/** How long the demo lets the payments and approvals wait before it ends them, so they can be seen. */
const pauseMs = 2_000;

/** The orders that reach a step: all but the one with an unknown product. */
const payable = demoOrders.filter(([, sku]) => sku !== "unobtainium");
const large = payable.filter(([, , , total]) => total > reviewThresholdCents);

/** The runs whose step `step` is waiting now (rowflow.step_waits), with their order. */
async function waiting(pool: pg.Pool, step: string) {
  const { rows } = await pool.query<{ run: string; order: string; total: number; task: string }>(
    `select w.run_id::text as run, r.input #>> '{row,id}' as order,
            (r.input #>> '{row,total_cents}')::int as total, w.task_id::text as task
       from rowflow.step_waits as w join rowflow.runs as r on r.id = w.run_id
      where r.workflow = 'order-fulfilment' and w.step = $1
      order by w.run_id`,
    [step],
  );
  return rows;
}

export const orderDemo: DevHooks = {
  async setup(pool) {
    // Each `rowflow dev` starts the shop afresh; rowflow's own history stays.
    await pool.query("drop schema if exists shop cascade");
    await pool.query(await readFile(schema, "utf8"));
    await pool.query(
      `insert into shop.inventory (sku, name, in_stock) values
         ('widget', 'Widget', 100), ('gadget', 'Gadget', 5), ('gizmo', 'Gizmo', 50)`,
    );
  },

  async demo(pool, tools) {
    tools.log(`inserting ${demoOrders.length} orders with plain INSERTs…`);
    for (const [customer, sku, quantity, total] of demoOrders) {
      await pool.query(
        `insert into shop.orders (customer, email, sku, quantity, total_cents)
         values ($1, $1 || '@example.com', $2, $3, $4)`,
        [customer, sku, quantity, total],
      );
    }

    await tools.until(
      async () => (await waiting(pool, "await-payment")).length === payable.length,
      "the orders to wait for their payment",
    );
    tools.log(
      `${payable.length} orders wait for their payment (step await-payment); the payment provider confirms them in ${pauseMs / 1000} s…`,
    );
    await sleep(pauseMs);
    let delivered = 0;
    for (const { run, order, total } of await waiting(pool, "await-payment")) {
      // What the app's payment webhook would do, in its own transaction.
      const { rows } = await pool.query<{ r: { status: string } }>(
        "select rowflow.signal($1::bigint, 'payment-confirmed', $2::jsonb) as r",
        [
          run,
          JSON.stringify({ provider: "demo-pay", reference: `pay-${order}`, amountCents: total }),
        ],
      );
      if (rows[0]?.r.status === "delivered") delivered++;
    }
    tools.log(
      `signal payment-confirmed sent to ${delivered} runs: delivered; they charge and go on`,
    );

    await tools.until(
      async () => (await waiting(pool, "approve")).length === large.length,
      "the large orders' approval tasks",
    );
    tools.log(
      `${large.length} orders over $${reviewThresholdCents / 100} wait for a manager's approval (npx rowflow tasks); ${demoManager} approves them in ${pauseMs / 1000} s…`,
    );
    await sleep(pauseMs);
    for (const { task } of await waiting(pool, "approve")) {
      await pool.query(
        "select rowflow.complete_task($1::bigint, $2, $3::jsonb, groups => $4::text[])",
        [task, demoManager, JSON.stringify({ approved: true }), [managersGroup]],
      );
    }
    tools.log(`${demoManager} approved ${large.length} tasks (rowflow.complete_task); they ship`);

    await tools.until(async () => {
      const { rows } = await pool.query(
        "select 1 from shop.orders where customer = $1 and status = 'shipped'",
        [cancelledOrderCustomer],
      );
      return rows.length === 1;
    }, `${cancelledOrderCustomer}'s order to ship`);
    tools.log(`cancelling ${cancelledOrderCustomer}'s order with an UPDATE…`);
    await pool.query(
      "update shop.orders set status = 'cancelled', updated_at = now() where customer = $1",
      [cancelledOrderCustomer],
    );
  },

  tryInPsql: [
    "select id, customer, sku, status, review from shop.orders order by id;",
    "select id, workflow, status from rowflow.runs order by id desc limit 15;",
    "select run_id, step, status, attempt from rowflow.step_runs where status <> 'succeeded' order by run_id;",
    "insert into shop.orders (customer, email, sku, quantity, total_cents) values ('you', 'you@example.com', 'gizmo', 1, 89900);",
    "-- your order waits for its payment: confirm it as the payment provider would",
    `select rowflow.signal(run_id, 'payment-confirmed', '{"provider": "psql", "reference": "mine", "amountCents": 89900}') from rowflow.step_waits where step = 'await-payment';`,
    "-- then for a manager: npx rowflow tasks, and npx rowflow task complete <id> --as you --group managers --answer '{\"approved\": true}'",
    "select * from shop.reports order by id desc limit 3; -- the shop-report schedule's, every minute",
  ],
};
