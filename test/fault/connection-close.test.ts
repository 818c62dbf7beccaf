// Crash recovery by connection close (docs/architecture.md, "Crash
// recovery"): a worker holds its liveness lock on a connection of its own,
// and a worker whose lock connection closed is dead at once for every live
// worker's probe, long before the heartbeat timeout (60 s here, so that the
// timeout cannot be what released anything). A live worker whose connection
// only blipped is released too, but cannot double-run: its late completion
// is refused by the lease token, and it registers and locks again. Lost
// attempts do not use up the step's attempts (attempts: 1 here).
import { sql } from "kysely";
import { afterEach, expect, it } from "vitest";

import { createClient } from "../../src/client/create-client.js";
import type { HandlerContext } from "../../src/definition/handler-context.js";
import type { Logger } from "../../src/definition/logger.js";
import { useTestDatabase } from "../helpers/db.js";
import { waitFor } from "../helpers/wait-for.js";
import { startTestWorker } from "../helpers/worker.js";

const db = useTestDatabase();
const heartbeatTimeout = 60_000;

/** Attempt 1 of every step writes its ledger row, then waits here until the test lets it go. */
let gates: Map<string, () => void>;
afterEach(() => {
  for (const open of gates.values()) open();
});

async function step(ctx: HandlerContext) {
  await sql`insert into ledger (run_id, step, attempt) values (${ctx.run.id}, ${ctx.step.name}, ${ctx.attempt})`.execute(
    ctx.tx,
  );
  if (ctx.attempt === 1) {
    await new Promise<void>((resolve) => gates.set(`${ctx.run.id}:${ctx.step.name}`, resolve));
    // After a blip the connection may be gone: touching it then is what a real handler does.
    await sql`select 1`.execute(ctx.tx);
  }
  return { attempt: ctx.attempt };
}

function capturingLogger(lines: string[]): Logger {
  const push = (message: string) => void lines.push(message);
  return { debug: push, info: push, warn: push, error: push };
}

const counters = async (run: string) =>
  (
    await db.query<{ attempt: number; max: number; lost: number; status: string }>(
      `select status, attempt, max_attempts as max, lost_attempts as lost
       from rowflow.step_runs where run_id = $1 and step = 'only'`,
      [run],
    )
  ).rows[0];

async function setUp() {
  gates = new Map();
  await db.query(
    "create table if not exists ledger (run_id bigint not null, step text not null, attempt int not null)",
  );
  await db.query("truncate ledger");
  const lines: string[] = [];
  const worker = await startTestWorker(db.url, {
    tasks: { "cc.step": step },
    workflows: [
      { name: "once", spec: { steps: [{ name: "only", task: "cc.step", attempts: 1 }] } },
    ],
    heartbeatInterval: 1_000,
    heartbeatTimeout,
    livenessCheckInterval: 50,
    logger: capturingLogger(lines),
  });
  const client = createClient({ connectionString: db.url, pollInterval: 100 });
  const id = await waitFor(
    async () =>
      (await db.query<{ id: string }>("select id from rowflow.workers where lock_key is not null"))
        .rows[0]?.id,
    { message: "the worker never took its liveness lock" },
  );
  return { worker, client, id, lines };
}

it("a blipped worker's steps are released at once and its late completion is refused: no double run", async () => {
  const { worker, client, id, lines } = await setUp();
  try {
    const run = await client.startRun("once", {});
    await waitFor(() => gates.has(`${run}:only`), { message: "attempt 1 never started" });
    // Only the liveness lock's connection goes (a blip): the worker lives on.
    const { rows: killed } = await db.query<{ n: number }>(
      `select count(pg_terminate_backend(pid))::int as n from pg_stat_activity
       where datname = current_database() and application_name = 'rowflow worker (liveness lock)'`,
    );
    expect(killed).toEqual([{ n: 1 }]);
    // Released by the probe (its own, here), and attempt 2 runs and succeeds
    // while attempt 1 still waits: the lost attempt used up nothing.
    const done = await client.waitForRun(run, { timeout: 15_000 });
    expect(done.status).toBe("succeeded");
    expect(await counters(run)).toEqual({ status: "succeeded", attempt: 2, max: 2, lost: 1 });
    // Attempt 1 finishes late: refused, its ledger write rolled back.
    gates.get(`${run}:only`)!();
    await waitFor(() => lines.some((l) => l.startsWith("completion refused")), {
      message: () => `attempt 1's completion was not refused; log:\n${lines.join("\n")}`,
    });
    const { rows: ledger } = await db.query("select attempt from ledger where run_id = $1", [run]);
    expect(ledger).toEqual([{ attempt: 2 }]);
    // It registered again under the same id and holds its lock again.
    await waitFor(
      async () =>
        (
          await db.query("select 1 from rowflow.workers where id = $1 and lock_key is not null", [
            id,
          ])
        ).rowCount === 1,
      { message: "the worker did not register and lock again" },
    );
    expect(lines.filter((l) => l.startsWith("released the jobs of 1 dead worker(s)"))).toEqual([
      `released the jobs of 1 dead worker(s): ${id}`,
    ]);
  } finally {
    await client.close();
    await worker.stop();
  }
});

it("all of a worker's connections terminated during a step (what a restart does): the attempt is lost, not used up", async () => {
  const { worker, client, lines } = await setUp();
  try {
    const run = await client.startRun("once", {});
    await waitFor(() => gates.has(`${run}:only`), { message: "attempt 1 never started" });
    const { rows: killed } = await db.query<{ n: number }>(
      `select count(pg_terminate_backend(pid))::int as n from pg_stat_activity
       where datname = current_database() and application_name like 'rowflow worker%'`,
    );
    expect(killed[0]!.n).toBeGreaterThanOrEqual(3); // the step's transaction, LISTEN, the lock
    gates.get(`${run}:only`)!();
    const done = await client.waitForRun(run, { timeout: 20_000 });
    expect({
      status: done.status,
      log: done.status === "succeeded" ? "" : lines.join("\n"),
    }).toEqual({ status: "succeeded", log: "" });
    const c = (await counters(run))!;
    // Attempts used by the handler: still one (attempt minus lost attempts).
    expect(c.attempt - c.lost).toBe(1);
    expect(c.lost).toBeGreaterThanOrEqual(1);
    expect(c.max).toBe(1 + c.lost);
    const { rows: ledger } = await db.query(
      "select count(*)::int as n from ledger where run_id = $1",
      [run],
    );
    expect(ledger).toEqual([{ n: 1 }]);
  } finally {
    await client.close();
    await worker.stop();
  }
});
