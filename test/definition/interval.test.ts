import { describe, expect, test } from "vitest";

import { intervalToMs, isInterval } from "../../src/definition/index.js";

describe("intervals", () => {
  test.each([
    [0, 0],
    [1500, 1500],
    ["500ms", 500],
    ["1 millisecond", 1],
    ["1.5 s", 1500],
    ["2 secs", 2000],
    ["30 seconds", 30_000],
    ["1m", 60_000],
    ["2 mins", 120_000],
    ["1.5h", 5_400_000],
    ["1 day", 86_400_000],
    ["0.0005 s", 0.5],
  ] as const)("%j is %d ms", (value, ms) => {
    expect(isInterval(value)).toBe(true);
    expect(intervalToMs(value)).toBe(ms);
  });

  test.each([-1, 1.5, "1", "5 secnds", "1 S", " 1s", "1s ", "1e3 ms", "-1 s", null, true, {}])(
    "%j is not an interval",
    (value) => {
      expect(isInterval(value)).toBe(false);
    },
  );

  test("intervalToMs throws a RangeError for an invalid interval", () => {
    expect(() => intervalToMs("soon")).toThrow(RangeError);
  });
});
