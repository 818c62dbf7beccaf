/**
 * Intervals in a spec: milliseconds as a non-negative integer, or `"<number> <unit>"`.
 * Same pattern and range as the SQL engine's `rowflow._parse_interval`.
 */
import { describeValue } from "./describe-value.js";

/** Units accepted in an interval string. */
export type IntervalUnit =
  | "ms"
  | "millisecond"
  | "milliseconds"
  | "s"
  | "sec"
  | "secs"
  | "second"
  | "seconds"
  | "m"
  | "min"
  | "mins"
  | "minute"
  | "minutes"
  | "h"
  | "hour"
  | "hours"
  | "d"
  | "day"
  | "days";

/**
 * An interval: milliseconds (a non-negative integer) or a string such as `"30 seconds"`,
 * `"1.5 h"` or `"500ms"`.
 */
export type Interval = number | `${number} ${IntervalUnit}` | `${number}${IntervalUnit}`;

/** The interval string pattern, identical to the SQL engine's. */
export const INTERVAL_PATTERN =
  /^(\d+(?:\.\d+)?)\s*(ms|milliseconds?|s|secs?|seconds?|m|mins?|minutes?|h|hours?|d|days?)$/;

/** The rule in words, for error messages. */
export const INTERVAL_RULE =
  'must be a non-negative integer (milliseconds) or a string "<number> <unit>" with unit ms, s, m, h or d (e.g. "30 seconds")';

const MICROS_PER_MS = 1_000;
const MICROS: Readonly<Record<string, number>> = {
  ms: 1_000,
  s: 1_000_000,
  m: 60_000_000,
  h: 3_600_000_000,
};
// Postgres intervals keep days in an int32 and the time part in int64 microseconds.
const MAX_DAYS = 2_147_483_647;
const MICROS_LIMIT = 2 ** 63; // exclusive

type Parsed = { readonly micros: number } | { readonly problem: string };

function parse(value: unknown): Parsed {
  if (typeof value === "number") {
    if (!Number.isInteger(value) || value < 0)
      return { problem: `${INTERVAL_RULE}, got ${describeValue(value)}` };
    const micros = value * MICROS_PER_MS;
    return micros >= MICROS_LIMIT ? { problem: `out of range: ${value}` } : { micros };
  }
  const match = typeof value === "string" ? INTERVAL_PATTERN.exec(value) : null;
  const [, amount, unit] = match ?? [];
  if (amount === undefined || unit === undefined) {
    return { problem: `${INTERVAL_RULE}, got ${describeValue(value)}` };
  }
  const n = Number.parseFloat(amount);
  // "ms"/"millisecond(s)" before the one-letter prefixes ("m" is minutes).
  const key = unit.startsWith("ms") || unit.startsWith("milli") ? "ms" : unit.charAt(0);
  if (key === "d") {
    if (n > MAX_DAYS) return { problem: `out of range: ${describeValue(value)}` };
    return { micros: Math.round(n * 86_400_000_000) };
  }
  const micros = Math.round(n * (MICROS[key] ?? 0));
  return micros >= MICROS_LIMIT ? { problem: `out of range: ${describeValue(value)}` } : { micros };
}

/**
 * Returns why `value` is not a valid interval (`"… , got …"`, to be prefixed with
 * the field), or `undefined`. With `positive`, zero is rejected too (`timeout`).
 */
export function intervalProblem(
  value: unknown,
  options: { positive?: boolean } = {},
): string | undefined {
  const parsed = parse(value);
  if ("problem" in parsed) return parsed.problem;
  if (options.positive === true && parsed.micros <= 0) return "must be greater than zero";
  return undefined;
}

/** Returns whether `value` is a valid interval (number or string form). */
export function isInterval(value: unknown): value is Interval {
  return intervalProblem(value) === undefined;
}

/**
 * Converts an interval to milliseconds (fractional below 1 ms, at microsecond
 * precision like Postgres). Throws a `RangeError` when `value` is not a valid interval.
 */
export function intervalToMs(value: Interval | string): number {
  const parsed = parse(value);
  if ("problem" in parsed) throw new RangeError(`interval ${parsed.problem}`);
  return parsed.micros / MICROS_PER_MS;
}
