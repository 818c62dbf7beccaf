import { InvalidArgumentError } from "commander";

/** commander parser of an option that takes a positive integer (`--concurrency 16`). */
export function positiveInteger(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError("expected a positive integer.");
  }
  return n;
}

/** commander parser of a TCP port (`--metrics-port 9464`): 0 (any free one) to 65535. */
export function portNumber(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n > 65535) {
    throw new InvalidArgumentError("expected a port number from 0 to 65535.");
  }
  return n;
}

const durationUnits: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * commander parser of a duration (`--wait-for-database 30s`): a number with
 * `ms`, `s`, `m` or `h`, or a bare number of seconds; returns milliseconds.
 */
export function duration(value: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/.exec(value.trim());
  const ms = match ? Math.round(Number(match[1]) * (durationUnits[match[2] ?? "s"] ?? 1000)) : NaN;
  if (!Number.isSafeInteger(ms)) {
    throw new InvalidArgumentError("expected a duration such as 500ms, 30s, 2m or 1h.");
  }
  return ms;
}
