// What `rowflow dev` does with the example shop: reset its tables, then act
// like the app — plain INSERTs of orders (the attached trigger starts a run
// for each), and one UPDATE that cancels a shipped order.
import { readFile } from "node:fs/promises";

import type { DevHooks } from "../../src/config/dev-hooks.js";

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
    "insert into shop.orders (customer, email, sku, quantity, total_cents) values ('you', 'you@example.com', 'widget', 1, 1999);",
  ],
};
