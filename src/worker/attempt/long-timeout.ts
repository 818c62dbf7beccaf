/**
 * `setTimeout` for any delay. Node's timers hold at most 2^31 − 1 ms
 * (24.8 days); a longer delay fires after 1 ms with a TimeoutOverflowWarning,
 * which would abort a step with a 30-day timeout at once. A long delay is
 * waited out in chunks instead.
 */
const maxDelay = 2 ** 31 - 1;

/** Calls `fn` once after `ms`; the returned function cancels it. */
export function setLongTimeout(fn: () => void, ms: number): () => void {
  let timer: NodeJS.Timeout | undefined;
  const due = Date.now() + ms;
  const arm = (left: number) => {
    timer = setTimeout(
      () => {
        const remaining = due - Date.now();
        if (remaining > 0) arm(remaining);
        else fn();
      },
      Math.min(Math.max(left, 0), maxDelay),
    );
  };
  arm(ms);
  return () => clearTimeout(timer);
}
