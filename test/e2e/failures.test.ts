import { sql } from "kysely";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";

import { createClient } from "../../src/client/create-client.js";
import type { HandlerContext } from "../../src/definition/handler-context.js";
import { fatal, retryAfter } from "../../src/worker/attempt/outcomes.js";
import type { TaskMap } from "../../src/worker/task-registry.js";
import { useTestDatabase } from "../helpers/db.js";
import { waitFor } from "../helpers/wait-for.js";
import { startTestWorker } from "../helpers/worker.js";

const db = useTestDatabase();
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()?.();
});
beforeAll(async () => {
  await db.query("create table ledger (run_id bigint, step text, attempt int, note text)");
});

async function setup(tasks: TaskMap, workflows: { name: string; spec: object }[]) {
  const worker = await startTestWorker(db.url, { tasks, workflows });
  const client = createClient({ connectionString: db.url, pollInterval: 200 });
  cleanup.push(
    () => client.close(),
    () => worker.stop(),
  );
  return { worker, client };
}

const one = (name: string, task: string, extra: object = {}) => ({
  name,
  spec: { steps: [{ name: "only", task, ...extra }] },
});

type Ctx = HandlerContext;
const ledgerWrite = (ctx: Ctx, note: string) =>
  sql`insert into ledger values (${ctx.run.id}, ${ctx.step.name}, ${ctx.attempt}, ${note})`.execute(
    ctx.tx,
  );

describe("failure paths", () => {
  it("rolls back ctx.tx writes of a handler that throws, retries, and keeps the successful attempt's write only", async () => {
    const { client } = await setup(
      {
        "f.flaky": async (ctx: Ctx) => {
          await ledgerWrite(ctx, "written");
          if (ctx.attempt < 3) throw new Error(`boom ${ctx.attempt}`);
          return { attempt: ctx.attempt };
        },
      },
      [
        one("flaky", "f.flaky", {
          attempts: 3,
          backoff: { type: "fixed", base: "50 ms", jitter: 0 },
        }),
      ],
    );
    const id = await client.startRun("flaky");
    const run = await client.waitForRun(id, { timeout: 20_000 });
    expect(run.status).toBe("succeeded");
    expect(run.steps[0]).toMatchObject({ attempt: 3, output: { attempt: 3 } });
    const { rows } = await db.query("select attempt from ledger where run_id = $1", [id]);
    expect(rows).toEqual([{ attempt: 3 }]);
    const events = await db.query<{ type: string; message: string }>(
      "select type, data -> 'error' ->> 'message' as message from rowflow.events where run_id = $1 and type = 'step_retrying' order by at, id",
      [id],
    );
    expect(events.rows).toEqual([
      { type: "step_retrying", message: "boom 1" },
      { type: "step_retrying", message: "boom 2" },
    ]);
  });

  it("waits the backoff between attempts (exponential, no jitter)", async () => {
    const starts: number[] = [];
    const { client } = await setup(
      {
        "f.slowfail": () => {
          starts.push(Date.now());
          throw new Error("nope");
        },
      },
      [
        one("backoff", "f.slowfail", {
          attempts: 3,
          backoff: { type: "exponential", base: "300 ms", max: "10 s", jitter: 0 },
        }),
      ],
    );
    const id = await client.startRun("backoff");
    const run = await client.waitForRun(id, { timeout: 20_000 });
    expect(run.status).toBe("failed");
    expect(run.steps[0]).toMatchObject({ status: "failed", attempt: 3 });
    // retry_at recorded by the engine: 300 ms after attempt 1, 600 ms after attempt 2
    const { rows } = await db.query<{ delay_ms: number }>(
      `select round(extract(epoch from ((data ->> 'retryAt')::timestamptz - at)) * 1000)::int as delay_ms
       from rowflow.events where run_id = $1 and type = 'step_retrying' order by attempt`,
      [id],
    );
    expect(rows.map((r) => r.delay_ms)).toEqual([300, 600]);
    expect(starts).toHaveLength(3);
    expect(starts[1]! - starts[0]!).toBeGreaterThanOrEqual(290);
    expect(starts[2]! - starts[1]!).toBeGreaterThanOrEqual(590);
  });

  it("fatal() fails without retry; retryAfter() retries at the requested time", async () => {
    const { client } = await setup(
      {
        "f.fatal": () => fatal("card declined"),
        "f.later": (ctx: Ctx) =>
          ctx.attempt === 1 ? retryAfter(200, "rate limited") : { ok: true },
      },
      [
        one("fatal", "f.fatal", { attempts: 5 }),
        one("later", "f.later", { attempts: 2, backoff: { type: "fixed", base: "1 hour" } }),
      ],
    );
    const [fatalRun, laterRun] = await Promise.all([
      client.startRun("fatal").then((id) => client.waitForRun(id, { timeout: 20_000 })),
      client.startRun("later").then((id) => client.waitForRun(id, { timeout: 20_000 })),
    ]);
    expect(fatalRun.status).toBe("failed");
    expect(fatalRun.steps[0]).toMatchObject({
      status: "failed",
      attempt: 1,
      error: { kind: "fatal", message: "card declined", code: "RF_FATAL" },
    });
    expect(laterRun.status).toBe("succeeded");
    expect(laterRun.steps[0]).toMatchObject({ attempt: 2, output: { ok: true } });
  });

  it("times out a handler that ignores its signal, rolls back its writes, and records a timeout", async () => {
    let sawAbort = false;
    const { client } = await setup(
      {
        "f.hang": async (ctx: Ctx) => {
          ctx.signal.addEventListener("abort", () => (sawAbort = true));
          await ledgerWrite(ctx, "before hang");
          if (ctx.attempt === 1) {
            await sql`select pg_sleep(30)`.execute(ctx.tx); // cancelled by the timeout
          }
          return { attempt: ctx.attempt };
        },
        "f.ignore": async (ctx: Ctx) => {
          await ledgerWrite(ctx, "before forever");
          await new Promise(() => {}); // never settles, ignores the signal
        },
      },
      [
        one("hang", "f.hang", {
          attempts: 2,
          timeout: "300 ms",
          backoff: { type: "fixed", base: "10 ms", jitter: 0 },
        }),
        one("ignore", "f.ignore", { attempts: 1, timeout: "200 ms" }),
      ],
    );
    const started = Date.now();
    const [hang, ignore] = await Promise.all([
      client.startRun("hang").then((id) => client.waitForRun(id, { timeout: 20_000 })),
      client.startRun("ignore").then((id) => client.waitForRun(id, { timeout: 20_000 })),
    ]);
    expect(Date.now() - started).toBeLessThan(10_000); // nowhere near pg_sleep(30)
    expect(sawAbort).toBe(true);
    expect(hang.status).toBe("succeeded");
    expect(hang.steps[0]).toMatchObject({ attempt: 2, output: { attempt: 2 } });
    expect(ignore.status).toBe("failed");
    expect(ignore.steps[0]).toMatchObject({
      status: "failed",
      error: { kind: "timeout", code: "RF_TIMEOUT" },
    });
    const { rows } = await db.query(
      "select step, attempt, note from ledger where run_id in ($1, $2) order by run_id",
      [hang.id, ignore.id],
    );
    expect(rows).toEqual([{ step: "only", attempt: 2, note: "before hang" }]);
    const active = await db.query(
      "select count(*)::int as n from pg_stat_activity where query like '%pg_sleep(30)%' and state = 'active' and pid <> pg_backend_pid()",
    );
    expect(active.rows[0]).toEqual({ n: 0 });
  });

  it("keeps a timeout beyond setTimeout's 24.8 days: the attempt is not aborted", async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let aborted = false;
    const { client } = await setup(
      {
        "f.slow": async (ctx: Ctx) => {
          ctx.signal.addEventListener("abort", () => (aborted = true));
          await released;
          return { aborted };
        },
      },
      [one("long-timeout", "f.slow", { attempts: 1, timeout: "30 days" })],
    );
    const id = await client.startRun("long-timeout");
    // The handler is running (and a round trip or more has passed) before it is let go.
    await waitFor(
      async () =>
        (
          await db.query(
            "select 1 from rowflow.step_runs where run_id = $1 and status = 'running'",
            [id],
          )
        ).rows.length === 1,
    );
    release();
    const run = await client.waitForRun(id, { timeout: 20_000 });
    expect(run.status).toBe("succeeded");
    expect(run.steps[0]).toMatchObject({ attempt: 1, output: { aborted: false } });
  });

  it("records unknown task, invalid input and non-JSON output as non-retryable failures and keeps working", async () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const { client } = await setup(
      {
        "f.typed": {
          input: z.object({ amount: z.number() }),
          handler: (ctx: HandlerContext<{ amount: number }>) => ({ doubled: ctx.input.amount * 2 }),
        },
        "f.bigint": () => ({ n: 10n }),
        "f.function": () => ({ f: () => 1 }),
        "f.cycle": () => cyclic,
      },
      [
        one("unknown", "f.not-registered", { attempts: 5 }),
        one("typed", "f.typed", { attempts: 5 }),
        one("bigint", "f.bigint", { attempts: 5 }),
        one("function", "f.function", { attempts: 5 }),
        one("cycle", "f.cycle", { attempts: 5 }),
      ],
    );
    const outcome = async (workflow: string, input: Record<string, unknown> = {}) => {
      const run = await client.waitForRun(await client.startRun(workflow, input), {
        timeout: 20_000,
      });
      return {
        status: run.status,
        attempt: run.steps[0]?.attempt,
        error: run.steps[0]?.error as { kind: string; message: string } | null,
      };
    };
    const unknown = await outcome("unknown");
    expect(unknown).toMatchObject({
      status: "failed",
      attempt: 1,
      error: { kind: "unknown_task" },
    });
    expect(unknown.error?.message).toContain('no handler for task "f.not-registered"');
    const bad = await outcome("typed", { amount: "ten" });
    expect(bad).toMatchObject({ status: "failed", attempt: 1, error: { kind: "invalid_input" } });
    expect(bad.error?.message).toContain("amount");
    expect(await outcome("typed", { amount: 21 })).toMatchObject({ status: "succeeded" });
    for (const [workflow, problem] of [
      ["bigint", "$.n is a BigInt"],
      ["function", "$.f is a function"],
      ["cycle", "$.self is a circular reference"],
    ] as const) {
      const result = await outcome(workflow);
      expect(result).toMatchObject({
        status: "failed",
        attempt: 1,
        error: { kind: "invalid_output" },
      });
      expect(result.error?.message).toContain(problem);
    }
  });

  it("compensates completed steps in reverse completion order, then runs onFailure once", async () => {
    const order: string[] = [];
    const record = (label: string) => (ctx: Ctx) => {
      order.push(`${label}:${ctx.step.name}`);
      return { done: label };
    };
    const { client } = await setup(
      {
        "c.reserve": record("do"),
        "c.charge": record("do"),
        "c.ship": () => fatal("no courier"),
        "c.undo-reserve": record("undo"),
        "c.undo-charge": record("undo"),
        "c.alert": record("alert"),
      },
      [
        {
          name: "order",
          spec: {
            onFailure: "c.alert",
            steps: [
              { name: "reserve", task: "c.reserve", compensate: "c.undo-reserve" },
              {
                name: "charge",
                task: "c.charge",
                dependsOn: ["reserve"],
                compensate: "c.undo-charge",
              },
              { name: "ship", task: "c.ship", dependsOn: ["charge"], compensate: "c.undo-charge" },
            ],
          },
        },
      ],
    );
    const run = await client.waitForRun(await client.startRun("order"), { timeout: 20_000 });
    expect(run.status).toBe("failed");
    expect(order).toEqual([
      "do:reserve",
      "do:charge",
      "undo:compensate:charge",
      "undo:compensate:reserve",
      "alert:on-failure",
    ]);
    expect(run.error).toMatchObject({
      step: "ship",
      compensation: {
        "compensate:charge": "succeeded",
        "compensate:reserve": "succeeded",
        "on-failure": "succeeded",
      },
    });
  });
});
