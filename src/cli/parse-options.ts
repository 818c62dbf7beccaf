import { InvalidArgumentError } from "commander";

/** commander parser of an option that takes a positive integer (`--concurrency 16`). */
export function positiveInteger(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError("expected a positive integer.");
  }
  return n;
}
