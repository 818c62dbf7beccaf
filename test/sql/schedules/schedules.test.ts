// Schedules in SQL (sql/schema/75_schedules/): define_schedule is an
// idempotent upsert that refuses bad arguments and writes nothing then;
// fire_schedule starts one run per (schedule, tick) however many callers
// race, through the unique idempotency index of rowflow.runs.
import { describe, expect, it } from "vitest";

import { useTestDatabase } from "../../helpers/db.js";
import { useLoginRoles } from "../../helpers/roles.js";
import { define, expectSqlError, type Queryable } from "../support.js";

const db = useTestDatabase();
const loginRole = useLoginRoles(db);
const one = { steps: [{ name: "a", task: "t" }] };

async function defineSchedule(q: Queryable, args: Record<string, unknown>): Promise<unknown> {
  const { rows } = await q.query<{ r: unknown }>(
    `select rowflow.define_schedule(name => $1, cron => $2, workflow => $3, input => $4::jsonb,
       timezone => $5, catch_up => $6) as r`,
    [
      args.name ?? "nightly",
      args.cron ?? "0 3 * * *",
      args.workflow ?? "report",
      JSON.stringify(args.input ?? {}),
      args.timezone ?? "UTC",
      args.catchUp ?? "latest",
    ],
  );
  return rows[0]!.r;
}

async function fire(
  q: Queryable,
  tick: string,
  name = "nightly",
): Promise<Record<string, unknown>> {
  const { rows } = await q.query<{ r: Record<string, unknown> }>(
    "select rowflow.fire_schedule(name => $1, tick => $2::timestamptz) as r",
    [name, tick],
  );
  return rows[0]!.r;
}

describe("define_schedule", () => {
  it("creates, changes and leaves unchanged, auditing each change", async () => {
    await db.rollback(async (c) => {
      await define(c, "report", one);
      expect(await defineSchedule(c, {})).toEqual({
        schedule: "nightly",
        changed: true,
        created: true,
      });
      expect(await defineSchedule(c, {})).toEqual({
        schedule: "nightly",
        changed: false,
        created: false,
      });
      expect(await defineSchedule(c, { timezone: "Europe/Berlin", catchUp: "all" })).toEqual({
        schedule: "nightly",
        changed: true,
        created: false,
      });
      const { rows } = await c.query(
        "select name, cron, timezone, workflow, input, catch_up, paused, last_tick from rowflow.schedules",
      );
      expect(rows).toEqual([
        {
          name: "nightly",
          cron: "0 3 * * *",
          timezone: "Europe/Berlin",
          workflow: "report",
          input: {},
          catch_up: "all",
          paused: false,
          last_tick: null,
        },
      ]);
      const audit = await c.query(
        "select action, workflow, data->>'schedule' as schedule from rowflow.audit order by id",
      );
      expect(audit.rows.filter((r) => r.action === "define_schedule")).toEqual([
        { action: "define_schedule", workflow: "report", schedule: "nightly" },
        { action: "define_schedule", workflow: "report", schedule: "nightly" },
      ]);
    });
  });

  it("refuses a bad cron, timezone, catch_up, workflow, name or input, writing nothing", async () => {
    await db.rollback(async (c) => {
      await define(c, "report", one);
      const cases: [Record<string, unknown>, string, RegExp][] = [
        [{ cron: "* * * *" }, "RF050", /invalid cron expression "\* \* \* \*"/],
        [{ cron: "0 3 * * * ; drop table x" }, "RF050", /invalid cron expression/],
        [{ cron: "" }, "RF050", /invalid cron expression/],
        [{ timezone: "Mars/Olympus" }, "RF051", /unknown timezone "Mars\/Olympus"/],
        [{ catchUp: "some" }, "RF052", /catch_up must be none, latest or all, got "some"/],
        [{ workflow: "nope" }, "RF020", /unknown workflow "nope" for schedule nightly/],
        [{ name: "Bad Name" }, "RF050", /invalid schedule name "Bad Name"/],
        [{ input: [1] }, "RF022", /input must be a JSON object/],
      ];
      for (const [args, code, message] of cases) {
        await c.query("savepoint s");
        await expectSqlError(defineSchedule(c, args), code, message);
        await c.query("rollback to savepoint s");
      }
      const { rows } = await c.query(
        "select (select count(*)::int from rowflow.schedules) as schedules, (select count(*)::int from rowflow.audit where action = 'define_schedule') as audit",
      );
      expect(rows).toEqual([{ schedules: 0, audit: 0 }]);
    });
  });
});

describe("fire_schedule", () => {
  it("starts one run per tick with the tick in its input and key, and records last_tick", async () => {
    await db.rollback(async (c) => {
      await define(c, "report", one);
      await defineSchedule(c, { input: { kind: "daily", scheduledAt: "overwritten" } });
      const first = await fire(c, "2026-03-29T03:00:00+02");
      expect(first).toMatchObject({
        schedule: "nightly",
        tick: "2026-03-29T01:00:00.000Z",
        started: true,
      });
      const again = await fire(c, "2026-03-29T01:00:00Z");
      expect(again).toEqual({ ...first, started: false });
      // An older tick fired late starts its run but leaves last_tick alone.
      expect(await fire(c, "2026-03-28T01:00:00Z")).toMatchObject({ started: true });
      const { rows } = await c.query(
        "select input, idempotency_key, status from rowflow.runs order by id",
      );
      expect(rows).toEqual([
        {
          input: { kind: "daily", scheduledAt: "2026-03-29T01:00:00.000Z" },
          idempotency_key: "schedule:nightly:2026-03-29T01:00:00.000Z",
          status: "queued",
        },
        {
          input: { kind: "daily", scheduledAt: "2026-03-28T01:00:00.000Z" },
          idempotency_key: "schedule:nightly:2026-03-28T01:00:00.000Z",
          status: "queued",
        },
      ]);
      const s = await c.query("select last_tick from rowflow.schedules");
      expect(s.rows[0].last_tick).toEqual(new Date("2026-03-29T01:00:00Z"));
    });
  });

  it("a paused schedule starts nothing; an unknown one is RF053", async () => {
    await db.rollback(async (c) => {
      await define(c, "report", one);
      await defineSchedule(c, {});
      const paused = await c.query("select rowflow.pause_schedule('nightly', 'maintenance') as r");
      expect(paused.rows[0].r).toEqual({ schedule: "nightly", paused: true, changed: true });
      expect(await fire(c, "2026-01-01T03:00:00Z")).toEqual({
        schedule: "nightly",
        tick: "2026-01-01T03:00:00.000Z",
        run: null,
        started: false,
        reason: "paused",
      });
      const resumed = await c.query("select rowflow.resume_schedule('nightly') as r");
      expect(resumed.rows[0].r).toEqual({ schedule: "nightly", paused: false, changed: true });
      expect(await fire(c, "2026-01-01T03:00:00Z")).toMatchObject({ started: true });
      await c.query("savepoint s");
      await expectSqlError(
        fire(c, "2026-01-01T03:00:00Z", "other"),
        "RF053",
        'unknown schedule "other"',
      );
      await c.query("rollback to savepoint s");
      await expectSqlError(
        c.query("select rowflow.pause_schedule('other')"),
        "RF053",
        'unknown schedule "other"',
      );
      await c.query("rollback to savepoint s");
      expect((await c.query("select rowflow.drop_schedule('nightly') as r")).rows[0].r).toEqual({
        schedule: "nightly",
        dropped: true,
      });
      expect((await c.query("select rowflow.drop_schedule('nightly') as r")).rows[0].r).toEqual({
        schedule: "nightly",
        dropped: false,
      });
      const audit = await c.query(
        "select action from rowflow.audit where action like '%schedule' order by id",
      );
      expect(audit.rows.map((r) => r.action)).toEqual([
        "define_schedule",
        "pause_schedule",
        "resume_schedule",
        "drop_schedule",
      ]);
    });
  });

  it("three connections racing on the same ticks start exactly one run per tick", async () => {
    await define(db.pool, "race", one);
    await defineSchedule(db.pool, { name: "race", workflow: "race", cron: "* * * * * *" });
    const worker = await loginRole("w", { memberOf: ["rowflow_worker"] });
    const ticks = Array.from({ length: 20 }, (_, i) =>
      new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
    );
    const clients = await Promise.all([0, 1, 2].map(() => worker.pool.connect()));
    try {
      // Each connection fires every tick in its own transaction, the three at once.
      const answers = await Promise.all(
        clients.map(async (client, k) => {
          const started: boolean[] = [];
          for (const tick of k === 1 ? [...ticks].reverse() : ticks) {
            await client.query("begin");
            const r = await fire(client, tick, "race");
            await client.query("commit");
            started.push(r.started as boolean);
          }
          return started.filter(Boolean).length;
        }),
      );
      expect(answers.reduce((a, b) => a + b, 0)).toBe(ticks.length);
    } finally {
      for (const client of clients) client.release();
    }
    const { rows } = await db.query(
      "select count(*)::int as runs, count(distinct idempotency_key)::int as keys from rowflow.runs where workflow = 'race'",
    );
    expect(rows).toEqual([{ runs: 20, keys: 20 }]);
    const s = await db.query<{ last_tick: Date }>(
      "select last_tick from rowflow.schedules where name = 'race'",
    );
    expect(s.rows[0]?.last_tick).toEqual(new Date(ticks[19]!));
    // An app may not fire a schedule, nor a worker define one.
    const app = await loginRole("a", { memberOf: ["rowflow_app"] });
    await expectSqlError(fire(app.pool, ticks[0]!, "race"), "42501", /permission denied/);
    await expectSqlError(
      defineSchedule(worker.pool, { name: "x", workflow: "race" }),
      "42501",
      /permission denied/,
    );
  });
});
