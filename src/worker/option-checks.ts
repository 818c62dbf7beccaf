// The number checks of createWorker's options (worker-options.ts) and of its
// `alerts` (alerts/alert-options.ts): a TypeError naming the option.

export function positiveInt(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1)
    throw new TypeError(`createWorker: ${name} must be a positive integer, got ${value}`);
  return value;
}

export function nonNegativeInt(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 0)
    throw new TypeError(`createWorker: ${name} must be a non-negative integer, got ${value}`);
  return value;
}
