// Tick computation (src/worker/schedules/due-ticks.ts, croner): across DST
// changes in two timezones, and which ticks each catch_up mode fires.
import { describe, expect, it } from "vitest";

import { parseCron } from "../../../src/definition/schedule.js";
import { dueTicks, MAX_CATCH_UP_TICKS } from "../../../src/worker/schedules/due-ticks.js";

const iso = (dates: Date[]) => dates.map((d) => d.toISOString());

/** Every tick after `from` up to `to`, as `all` with no bound fires them. */
function ticks(cron: string, timezone: string, from: string, to: string): string[] {
  return iso(
    dueTicks({
      cron: parseCron(cron, timezone, "t"),
      catchUp: "all",
      lastTick: null,
      createdAt: new Date(from),
      now: new Date(to),
      windowMs: 0,
      maxTicks: 1000,
    }),
  );
}

describe("ticks across DST changes", () => {
  it("Europe/Berlin: a skipped 02:30 fires at 03:00 CEST, a repeated one once", () => {
    // 2026-03-29 02:00 CET becomes 03:00 CEST; 2026-10-25 03:00 CEST becomes 02:00 CET.
    expect(
      ticks("30 2 * * *", "Europe/Berlin", "2026-03-27T12:00:00Z", "2026-03-30T12:00:00Z"),
    ).toEqual(["2026-03-28T01:30:00.000Z", "2026-03-29T01:00:00.000Z", "2026-03-30T00:30:00.000Z"]);
    expect(
      ticks("30 2 * * *", "Europe/Berlin", "2026-10-24T00:00:00Z", "2026-10-26T12:00:00Z"),
    ).toEqual(["2026-10-24T00:30:00.000Z", "2026-10-25T00:30:00.000Z", "2026-10-26T01:30:00.000Z"]);
    // Hourly: the local day of the spring change has 23 hours.
    expect(
      ticks("0 * * * *", "Europe/Berlin", "2026-03-28T22:59:00Z", "2026-03-29T21:59:00Z"),
    ).toHaveLength(23);
  });

  it("America/New_York: 09:00 local moves from 14:00 to 13:00 UTC; the repeated 01:30 fires once", () => {
    // 2026-03-08 02:00 EST becomes 03:00 EDT; 2026-11-01 02:00 EDT becomes 01:00 EST.
    expect(
      ticks("0 9 * * *", "America/New_York", "2026-03-07T00:00:00Z", "2026-03-09T23:00:00Z"),
    ).toEqual(["2026-03-07T14:00:00.000Z", "2026-03-08T13:00:00.000Z", "2026-03-09T13:00:00.000Z"]);
    expect(
      ticks("30 1 * * *", "America/New_York", "2026-10-31T00:00:00Z", "2026-11-02T12:00:00Z"),
    ).toEqual(["2026-10-31T05:30:00.000Z", "2026-11-01T05:30:00.000Z", "2026-11-02T06:30:00.000Z"]);
    // Hourly: the local day of the fall change has 25 hours.
    expect(
      ticks("0 * * * *", "America/New_York", "2026-11-01T03:59:00Z", "2026-11-02T04:59:00Z"),
    ).toHaveLength(25);
  });

  it("latest finds the most recent tick across the change, like all", () => {
    const cron = parseCron("30 2 * * *", "Europe/Berlin", "t");
    const args = { cron, lastTick: null, createdAt: new Date("2026-03-27T00:00:00Z"), windowMs: 0 };
    expect(
      iso(dueTicks({ ...args, catchUp: "latest", now: new Date("2026-03-29T01:30:00Z") })),
    ).toEqual(["2026-03-29T01:00:00.000Z"]);
  });
});

describe("catch_up", () => {
  // Every 10 minutes; the worker was down from 00:00 to 01:05.
  const cron = parseCron("*/10 * * * *", "UTC", "t");
  const base = {
    cron,
    lastTick: new Date("2026-01-01T00:00:00Z"),
    createdAt: new Date("2025-12-01T00:00:00Z"),
    windowMs: 60_000,
  };
  const at = (time: string) => new Date(`2026-01-01T${time}Z`);

  it("none fires only a tick that just passed", () => {
    expect(iso(dueTicks({ ...base, catchUp: "none", now: at("01:05:00") }))).toEqual([]);
    expect(iso(dueTicks({ ...base, catchUp: "none", now: at("01:00:30") }))).toEqual([
      "2026-01-01T01:00:00.000Z",
    ]);
    // A tick exactly now is due.
    expect(iso(dueTicks({ ...base, catchUp: "none", now: at("01:00:00") }))).toEqual([
      "2026-01-01T01:00:00.000Z",
    ]);
  });

  it("latest fires the most recent missed tick, all every one", () => {
    expect(iso(dueTicks({ ...base, catchUp: "latest", now: at("01:05:00") }))).toEqual([
      "2026-01-01T01:00:00.000Z",
    ]);
    expect(iso(dueTicks({ ...base, catchUp: "all", now: at("01:05:00") }))).toEqual(
      ["00:10", "00:20", "00:30", "00:40", "00:50", "01:00"].map((t) => `2026-01-01T${t}:00.000Z`),
    );
  });

  it("nothing is due again once the latest tick fired, nor before the first after creation", () => {
    const fired = { ...base, lastTick: at("01:00:00") };
    for (const catchUp of ["none", "latest", "all"] as const) {
      expect(dueTicks({ ...fired, catchUp, now: at("01:09:59") })).toEqual([]);
      expect(
        dueTicks({
          ...base,
          lastTick: null,
          createdAt: at("01:00:01"),
          catchUp,
          now: at("01:09:59"),
        }),
      ).toEqual([]);
    }
  });

  it(`all fires at most ${MAX_CATCH_UP_TICKS} ticks per call, oldest first`, () => {
    const everySecond = parseCron("* * * * * *", "UTC", "t");
    const due = dueTicks({
      ...base,
      cron: everySecond,
      catchUp: "all",
      now: at("00:04:10"),
    });
    expect(due).toHaveLength(MAX_CATCH_UP_TICKS);
    expect(iso([due[0]!, due.at(-1)!])).toEqual([
      "2026-01-01T00:00:01.000Z",
      "2026-01-01T00:01:40.000Z",
    ]);
  });
});
