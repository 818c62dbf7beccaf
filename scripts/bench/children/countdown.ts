/** Counts calls; `done` resolves at the `count`-th. Tracks the first and last call times. */
export function countdown(count: number) {
  let executed = 0;
  let first = 0;
  let last = 0;
  let resolveDone: () => void = () => {};
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  return {
    done,
    /** Counts `n` executions at once (a batch handler's jobs). */
    tick(n = 1) {
      if (n <= 0) return;
      const now = performance.now();
      if (executed === 0) first = now;
      last = now;
      executed += n;
      if (executed >= count) resolveDone();
    },
    result: () => ({
      executed,
      firstToLastMs: last - first,
      maxRssMb: process.resourceUsage().maxRSS / 1024,
    }),
  };
}
