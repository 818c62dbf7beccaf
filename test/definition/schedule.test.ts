// defineSchedule (src/definition/schedule.ts): a bad option is a
// ScheduleError naming the problem, with the SQLSTATE define_schedule
// raises for the same problem.
import { describe, expect, it } from "vitest";

import { defineSchedule, ScheduleError } from "../../src/index.js";

function refusal(options: unknown): { code: string; message: string } {
  try {
    defineSchedule(options as Parameters<typeof defineSchedule>[0]);
  } catch (error) {
    expect(error).toBeInstanceOf(ScheduleError);
    const e = error as ScheduleError;
    return { code: e.code, message: e.message };
  }
  throw new Error("defineSchedule accepted it");
}

describe("defineSchedule", () => {
  it("fills the defaults and takes a workflow object, seconds and nicknames", () => {
    expect(
      defineSchedule({ name: "nightly", cron: " @daily ", workflow: { name: "report" } }),
    ).toEqual({
      name: "nightly",
      cron: "@daily",
      workflow: "report",
      input: {},
      timezone: "UTC",
      catchUp: "latest",
    });
    expect(
      defineSchedule({
        name: "often",
        cron: "*/15 * * * * *",
        workflow: "report",
        input: { kind: "x" },
        timezone: "America/New_York",
        catchUp: "all",
      }),
    ).toMatchObject({ cron: "*/15 * * * * *", timezone: "America/New_York", catchUp: "all" });
  });

  it("names the problem of each bad option", () => {
    const base = { name: "nightly", cron: "0 3 * * *", workflow: "report" };
    expect(refusal({ ...base, cron: "61 * * * *" })).toEqual({
      code: "RF050",
      message:
        'schedule "nightly": invalid cron expression "61 * * * *": CronPattern: Invalid value for minute: 61',
    });
    expect(refusal({ ...base, cron: "* * * *" })).toMatchObject({
      code: "RF050",
      message: expect.stringContaining("exactly five, six, or seven space separated parts"),
    });
    expect(refusal({ ...base, timezone: "Mars/Olympus" })).toEqual({
      code: "RF051",
      message:
        'schedule "nightly": unknown timezone "Mars/Olympus": use an IANA name such as Europe/Berlin',
    });
    expect(refusal({ ...base, catchUp: "some" })).toMatchObject({
      code: "RF052",
      message: expect.stringMatching(/^schedule "nightly": catchUp: /),
    });
    expect(refusal({ ...base, name: "Bad Name" })).toMatchObject({
      code: "RF050",
      message: expect.stringMatching(/^schedule "Bad Name": name: lower-case letters/),
    });
    expect(refusal({ ...base, every: "day" })).toMatchObject({ code: "RF050" });
  });
});
