// aborts: N business transactions insert an order into an attached table
// (each committed order starts one diamond run in its transaction,
// invariant 1); 30 % end without committing, in four ways: ROLLBACK, a
// constraint error (a duplicate key), the client killed before COMMIT (its
// socket destroyed), and the backend terminated during COMMIT (a deferred
// trigger holds the commit in pg_sleep until pg_terminate_backend ends it).
// Exactly the committed orders must have runs, one each.
import pg from "pg";

import { Harness } from "../harness.js";
import { diamond } from "../workload.js";
import type { Scenario } from "./options.js";

const setup = `
  create table chaos_orders (id bigint primary key, note text not null default '');
  select rowflow.attach('public.chaos_orders'::regclass, 'chaos-diamond', '{insert}');
  create function chaos_hold_commit() returns trigger language plpgsql as $$
  begin
    if current_setting('chaos.hold_commit', true) = 'on' then perform pg_sleep(30); end if;
    return null;
  end $$;
  create constraint trigger chaos_hold_commit after insert on chaos_orders
    deferrable initially deferred for each row execute function chaos_hold_commit();
`;

type Outcome = "commit" | "rollback" | "constraint" | "client-killed" | "terminated-at-commit";
/** Per 20 transactions: 14 commit (70 %), and 6 (30 %) abort in four ways. */
const mix: Outcome[] = [
  ...Array<Outcome>(14).fill("commit"),
  "rollback",
  "rollback",
  "constraint",
  "constraint",
  "client-killed",
  "terminated-at-commit",
];

export const aborts: Scenario = {
  name: "aborts",
  description:
    "business transactions, 30 % aborted four ways: exactly the committed ones have runs",
  async run(env, settings, o) {
    const n = o.transactions ?? 20_000;
    const h = await Harness.open(env, settings, [diamond]);
    try {
      await h.admin.query(setup);
      await h.fleet.start(settings.workers);
      h.startSampling();
      const outcomes = Array.from({ length: n }, (_, i) => mix[i % mix.length]!);
      for (let i = outcomes.length - 1; i > 0; i--) {
        const j = Math.floor(Math.random() * (i + 1));
        [outcomes[i], outcomes[j]] = [outcomes[j]!, outcomes[i]!];
      }
      const tally: Record<string, number> = {};
      const committed = new Set<number>();
      let next = 0;
      const lanes = Array.from({ length: 8 }, async () => {
        let client = await connect(env.url);
        while (next < n) {
          const id = next++;
          const outcome = outcomes[id]!;
          const fresh = await transaction(client, h.admin, id, outcome);
          if (outcome === "commit") committed.add(id);
          else h.fault();
          tally[outcome] = (tally[outcome] ?? 0) + 1;
          if (fresh) client = await connect(env.url);
        }
        await client.end().catch(() => {});
      });
      await Promise.all(lanes);
      const done = await h.waitDone(committed.size);
      const summary = await h.finish("aborts", done);
      const { rows } = await h.admin.query<{
        orders: number;
        runs: number;
        wrong: number;
        orphans: number;
      }>(
        `select (select count(*)::int from chaos_orders) as orders,
                (select count(*)::int from rowflow.runs) as runs,
                (select count(*)::int from chaos_orders as o
                  where (select count(*) from rowflow.runs as r
                         where r.source_relid = 'chaos_orders'::regclass and r.source_key = o.id::text) <> 1) as wrong,
                (select count(*)::int from rowflow.runs as r
                  where not exists (select 1 from chaos_orders as o where o.id::text = r.source_key)) as orphans`,
      );
      const c = rows[0]!;
      const stored = await h.admin.query<{ id: string }>("select id::text from chaos_orders");
      const extra = stored.rows.filter((r) => !committed.has(Number(r.id))).length;
      if (c.orders !== committed.size || extra > 0)
        summary.problems.push(
          `${c.orders} orders stored, ${committed.size} committed (${extra} not committed)`,
        );
      if (c.runs !== committed.size)
        summary.problems.push(`${c.runs} runs for ${committed.size} committed orders`);
      if (c.wrong > 0) summary.problems.push(`${c.wrong} orders without exactly one run`);
      if (c.orphans > 0) summary.problems.push(`${c.orphans} runs without their order`);
      if (summary.runs.failed > 0) summary.problems.push(`${summary.runs.failed} runs failed`);
      h.notes.push(
        `${n} transactions: ${Object.entries(tally)
          .map(([k, v]) => `${v} ${k}`)
          .join(", ")}; ${c.orders} orders and ${c.runs} runs stored`,
      );
      return summary;
    } finally {
      await h.close();
    }
  },
};

async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, application_name: "chaos business" });
  client.on("error", () => {});
  await client.connect();
  return client;
}

/** Runs one business transaction to its outcome; true when the connection is gone (a new one is needed). */
async function transaction(
  client: pg.Client,
  admin: pg.Pool,
  id: number,
  outcome: Outcome,
): Promise<boolean> {
  await client.query("begin");
  await client.query("insert into chaos_orders (id) values ($1)", [id]);
  switch (outcome) {
    case "commit":
      await client.query("commit");
      return false;
    case "rollback":
      await client.query("rollback");
      return false;
    case "constraint":
      await client.query("insert into chaos_orders (id) values ($1)", [id]).then(
        () => {
          throw new Error(`order ${id} inserted twice`);
        },
        (error: { code?: string }) => {
          if (error.code !== "23505") throw error;
        },
      );
      await client.query("rollback");
      return false;
    case "client-killed": {
      // The socket goes without a COMMIT; the server aborts the transaction when it sees it closed.
      (
        client as unknown as { connection: { stream: { destroy(): void } } }
      ).connection.stream.destroy();
      await client.end().catch(() => {});
      return true;
    }
    case "terminated-at-commit": {
      const { rows } = await client.query<{ pid: number }>(
        "select pg_backend_pid() as pid, set_config('chaos.hold_commit', 'on', true)",
      );
      const pid = rows[0]!.pid;
      const commit = client.query("commit").then(
        () => {
          throw new Error(`order ${id}'s commit was not held`);
        },
        () => {},
      );
      // COMMIT runs the deferred trigger, which sleeps: terminate it there.
      for (let tries = 0; ; tries++) {
        const held = await admin.query(
          "select 1 from pg_stat_activity where pid = $1 and wait_event = 'PgSleep'",
          [pid],
        );
        if (held.rowCount) break;
        if (tries > 500) throw new Error(`order ${id}'s commit never reached its trigger`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      await admin.query("select pg_terminate_backend($1)", [pid]);
      await commit;
      await client.end().catch(() => {});
      return true;
    }
  }
}
