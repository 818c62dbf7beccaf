// A worker's liveness lock (sql/schema/70_workers/hold_worker_lock.sql): a
// worker that holds its session advisory lock is dead as soon as that
// connection closes, whatever its heartbeat; rowflow.disconnected_workers is
// the probe, rowflow.release_dead_workers the release.
import pg from "pg";
import { afterEach, expect, it } from "vitest";

import { useTestDatabase } from "../../helpers/db.js";
import { useLoginRoles } from "../../helpers/roles.js";
import { waitFor } from "../../helpers/wait-for.js";
import { insertRun } from "../factories.js";
import { stepLeases } from "../gate-calls.js";
import { define } from "../support.js";

const db = useTestDatabase();
const loginRole = useLoginRoles(db);
const clients: pg.Client[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) await client.end().catch(() => {});
});

async function connect(url = db.url): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  client.on("error", () => {});
  await client.connect();
  clients.push(client);
  return client;
}

async function register(id: string): Promise<string> {
  const { rows } = await db.query<{ token: string }>(
    "select rowflow.register_worker(id => $1, hostname => 'h', pid => 1, concurrency => 1) as token",
    [id],
  );
  return rows[0]!.token;
}

const hold = async (client: pg.Client | pg.Pool, id: string, token: string) =>
  (
    await client.query<{ held: boolean }>(
      "select rowflow.hold_worker_lock(id => $1, token => $2) as held",
      [id, token],
    )
  ).rows[0]!.held;

const disconnected = async () =>
  (await db.query<{ ids: string[] }>("select rowflow.disconnected_workers() as ids")).rows[0]!.ids;

const release = async () =>
  (
    await db.query<{ ids: string[] }>(
      "select rowflow.release_dead_workers(timeout => '1 hour') as ids",
    )
  ).rows[0]!.ids;

it("a worker whose lock connection closed is released at once, long before its heartbeat timeout", async () => {
  await define(db.pool, "single", { steps: [{ name: "s", task: "t" }] });
  const aToken = await register("a");
  const bToken = await register("b");
  await register("heartbeat-only");
  const a = await connect();
  const b = await connect();
  expect(await hold(a, "a", aToken)).toBe(true);
  expect(await hold(a, "a", aToken)).toBe(true); // idempotent, not stacked
  expect(await hold(b, "b", bToken)).toBe(true);
  // Held elsewhere (the same id live on another connection): refused.
  expect(await hold(b, "a", aToken)).toBe(false);
  // No row: refused, nothing recorded.
  const ghostToken = (
    await db.query<{ t: string }>(
      "select rowflow.register_worker(id => 'ghost', hostname => 'h', pid => 1, concurrency => 1) as t",
    )
  ).rows[0]!.t;
  await db.query("delete from rowflow.workers where id = 'ghost'");
  expect(await hold(b, "ghost", ghostToken)).toBe(false);
  const { rows: keys } = await db.query(
    "select id, lock_key is not null as locked from rowflow.workers order by id",
  );
  expect(keys).toEqual([
    { id: "a", locked: true },
    { id: "b", locked: true },
    { id: "heartbeat-only", locked: false },
  ]);
  const run = await insertRun(db.pool, {
    workflow: "single",
    steps: { s: { status: "running", lockedBy: "a" } },
  });

  // All alive: the probe finds nobody, the sweep releases nobody.
  expect(await disconnected()).toEqual([]);
  expect(await release()).toEqual([]);

  // a's backend is terminated from outside: its lock is free.
  const { rows: pid } = await a.query<{ pid: number }>("select pg_backend_pid() as pid");
  await db.query("select pg_terminate_backend($1)", [pid[0]!.pid]);
  expect(
    await waitFor(async () => {
      const ids = await disconnected();
      return ids.length > 0 && ids;
    }),
  ).toEqual(["a"]);
  expect(await release()).toEqual(["a"]);
  expect(await stepLeases(db.pool, run)).toEqual({ s: "queued - job #2" });
  const { rows: left } = await db.query("select id from rowflow.workers order by id");
  expect(left).toEqual([{ id: "b" }, { id: "heartbeat-only" }]);

  // A blipped worker comes back: registers again and retakes its lock.
  const again = await connect();
  expect(await hold(again, "a", await register("a"))).toBe(true);
  expect(await disconnected()).toEqual([]);
  expect(await release()).toEqual([]);
});

it("the lock and the probe work for a rowflow_worker login; the probe changes nothing", async () => {
  await db.query("delete from rowflow.workers"); // the first test's, whose connections closed
  const worker = await loginRole("liveness", { memberOf: ["rowflow_worker"] });
  const token = await register("c");
  const c = await connect(worker.url);
  expect(await hold(c, "c", token)).toBe(true);
  // The probe's try-lock is transaction-scoped: the worker's own lock is
  // untouched, and a probe inside a transaction leaves nothing behind.
  const probe = await connect(worker.url);
  await probe.query("begin");
  expect((await probe.query("select rowflow.disconnected_workers() as ids")).rows).toEqual([
    { ids: [] },
  ]);
  await probe.query("commit");
  const { rows } = await db.query<{ n: number }>(
    "select count(*)::int as n from pg_locks where locktype = 'advisory' and classid = 1380349803 and granted",
  );
  expect(rows[0]!.n).toBe(1);
  await c.end();
  expect(
    await waitFor(async () => {
      const { rows: ids } = await probe.query<{ ids: string[] }>(
        "select rowflow.disconnected_workers() as ids",
      );
      return ids[0]!.ids.includes("c");
    }),
  ).toBe(true);
});
