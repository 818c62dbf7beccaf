// Schedules fired by the workers (src/worker/schedules/), on real Postgres
// with injected clocks: three workers beating at the same times start one
// run per tick; after a downtime each catch_up mode fires what it says; and
// a running worker syncs its config's schedules and fires them on its
// heartbeat.
import pg from "pg";
import { describe, expect, it } from "vitest";

import { defineSchedule } from "../../../src/definition/schedule.js";
import { createWorker } from "../../../src/worker/create-worker.js";
import { fireDueSchedules } from "../../../src/worker/schedules/fire-due-schedules.js";
import { useTestDatabase } from "../../helpers/db.js";
import { waitFor } from "../../helpers/wait-for.js";
import { define, type Queryable } from "../../sql/support.js";

const db = useTestDatabase();
const one = { steps: [{ name: "a", task: "t" }] };
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

/** One heartbeat's firing at `now`, as a worker does it. */
function beat(q: Queryable, now: Date) {
  return fireDueSchedules(q, {
    now,
    injected: true,
    windowMs: 60_000,
    logger: quiet,
    reported: new Set(),
  });
}

async function schedule(name: string, cron: string, catchUp: string, createdAt: string) {
  await define(db.pool, name, one);
  await db.query(
    `select rowflow.define_schedule(name => $1, cron => $2, workflow => $1, catch_up => $3, now => $4)`,
    [name, cron, catchUp, createdAt],
  );
}

async function runTicks(workflow: string): Promise<string[]> {
  const { rows } = await db.query<{ at: string }>(
    "select input->>'scheduledAt' as at from rowflow.runs where workflow = $1 order by input->>'scheduledAt'",
    [workflow],
  );
  return rows.map((r) => r.at);
}

const t = (time: string) => new Date(`2026-01-01T${time}Z`);
const ticksAt = (...times: string[]) => times.map((time) => `2026-01-01T${time}:00.000Z`);

describe("workers firing schedules", () => {
  it("three workers beating at the same instants start one run per tick", async () => {
    await schedule("race", "*/5 * * * * *", "all", "2026-01-01T00:00:00Z");
    const pools = [0, 1, 2].map(() => new pg.Pool({ connectionString: db.url, max: 1 }));
    try {
      // Ten beats, 20 s apart: each sees four new ticks; all three fire them at once.
      for (let i = 1; i <= 10; i++) {
        const now = new Date(t("00:00:00").getTime() + i * 20_000);
        const results = await Promise.all(pools.map((pool) => beat(pool, now)));
        expect(results.flat().filter((r) => r.started)).toHaveLength(4);
      }
    } finally {
      await Promise.all(pools.map((pool) => pool.end()));
    }
    const ticks = await runTicks("race");
    expect(ticks).toHaveLength(40); // 00:00:05 … 00:03:20
    expect(new Set(ticks).size).toBe(40);
    expect([ticks[0], ticks[39]]).toEqual(["2026-01-01T00:00:05.000Z", "2026-01-01T00:03:20.000Z"]);
  });

  it("after a downtime: none skips the missed ticks, latest runs one, all runs each", async () => {
    // Every 10 minutes, created at 00:00; no worker runs until 01:05.
    for (const mode of ["none", "latest", "all"]) {
      await schedule(`down-${mode}`, "*/10 * * * *", mode, "2026-01-01T00:00:00Z");
    }
    await beat(db.pool, t("01:05:00"));
    expect(await runTicks("down-none")).toEqual([]);
    expect(await runTicks("down-latest")).toEqual(ticksAt("01:00"));
    expect(await runTicks("down-all")).toEqual(
      ticksAt("00:10", "00:20", "00:30", "00:40", "00:50", "01:00"),
    );
    // Back up: the next tick runs in every mode, once, however often the workers beat.
    await beat(db.pool, t("01:10:00"));
    await beat(db.pool, t("01:10:20"));
    await beat(db.pool, t("01:10:40"));
    expect(await runTicks("down-none")).toEqual(ticksAt("01:10"));
    expect(await runTicks("down-latest")).toEqual(ticksAt("01:00", "01:10"));
    expect((await runTicks("down-all")).slice(-2)).toEqual(ticksAt("01:00", "01:10"));
  });

  it("all catches up a long downtime 100 ticks per beat, in order, none lost", async () => {
    await schedule("every-second", "* * * * * *", "all", "2026-01-01T00:00:00Z");
    const now = t("00:04:10"); // 250 missed ticks
    const counts: number[] = [];
    for (let i = 0; i < 4; i++)
      counts.push((await beat(db.pool, now)).filter((r) => r.started).length);
    expect(counts).toEqual([100, 100, 50, 0]);
    const ticks = await runTicks("every-second");
    expect(ticks).toHaveLength(250);
    expect(ticks.at(-1)).toBe("2026-01-01T00:04:10.000Z");
    await db.query("select rowflow.pause_schedule('every-second')");
    const paused = await beat(db.pool, t("00:05:00"));
    expect(paused.filter((r) => r.schedule === "every-second")).toEqual([]);
  });

  it("one schedule's failing fire_schedule does not stop the others'", async () => {
    await db.query("delete from rowflow.schedules");
    await schedule("fails", "*/10 * * * *", "latest", "2026-02-01T00:00:00Z");
    await schedule("works", "*/10 * * * *", "latest", "2026-02-01T00:00:00Z");
    const lines: string[] = [];
    // As if "fails" were dropped between the read and the call (RF053).
    const flaky: Queryable = {
      query: ((text: string, values?: unknown[]) =>
        text.includes("fire_schedule") && values?.[0] === "fails"
          ? Promise.reject(Object.assign(new Error('unknown schedule "fails"'), { code: "RF053" }))
          : db.pool.query(text, values)) as Queryable["query"],
    };
    const fired = await fireDueSchedules(flaky, {
      now: new Date("2026-02-01T00:10:00Z"),
      injected: true,
      windowMs: 60_000,
      logger: { ...quiet, warn: (line: string) => lines.push(line) },
      reported: new Set(),
    });
    expect(fired).toEqual([expect.objectContaining({ schedule: "works", started: true })]);
    expect(lines).toEqual([
      'schedule "fails": firing 2026-02-01T00:10:00.000Z failed: unknown schedule "fails" [RF053]',
    ]);
  });

  it("a worker whose config schedules an unknown workflow refuses to start, writing no schedule", async () => {
    await db.query("delete from rowflow.schedules");
    const worker = createWorker({
      connectionString: db.url,
      concurrency: 1,
      logger: quiet,
      tasks: { t: () => ({}) },
      schedules: [defineSchedule({ name: "orphan", cron: "@daily", workflow: "no-such-workflow" })],
    });
    try {
      await expect(worker.start()).rejects.toMatchObject({
        code: "RF020",
        message: expect.stringContaining('unknown workflow "no-such-workflow" for schedule orphan'),
      });
    } finally {
      await worker.stop();
    }
    const { rows } = await db.query("select count(*)::int as n from rowflow.schedules");
    expect(rows).toEqual([{ n: 0 }]);
  });

  it("a running worker defines its schedules and fires them on its heartbeat", async () => {
    await define(db.pool, "hourly", one);
    // The earlier tests' schedules would catch up a year at this worker's clock.
    await db.query("delete from rowflow.schedules");
    // The injected clock is an hour ahead: the schedule, created now, has one tick due.
    const ahead = () => new Date(Date.now() + 3_600_000);
    const worker = createWorker({
      connectionString: db.url,
      concurrency: 1,
      heartbeatInterval: 50,
      logger: quiet,
      now: ahead,
      tasks: { t: () => ({}) },
      schedules: [
        defineSchedule({ name: "hourly", cron: "@hourly", workflow: "hourly", input: { n: 1 } }),
      ],
    });
    await worker.start();
    try {
      const run = await waitFor(async () => {
        const { rows } = await db.query<{
          input: { scheduledAt: string };
          idempotency_key: string;
        }>("select input, idempotency_key from rowflow.runs where workflow = 'hourly'");
        return rows[0];
      });
      expect(run.idempotency_key).toBe(`schedule:hourly:${run.input.scheduledAt}`);
      expect(run.input).toEqual({
        n: 1,
        scheduledAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:00:00\.000Z$/),
      });
      const { rows } = await db.query(
        "select cron, catch_up, last_tick is not null as fired from rowflow.schedules where name = 'hourly'",
      );
      expect(rows).toEqual([{ cron: "@hourly", catch_up: "latest", fired: true }]);
    } finally {
      await worker.stop();
    }
    const { rows } = await db.query(
      "select count(*)::int as n from rowflow.runs where workflow = 'hourly'",
    );
    expect(rows).toEqual([{ n: 1 }]);
  });
});
