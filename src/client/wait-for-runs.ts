import type { Queryable } from "../db/queryable.js";
import {
  type RunCounts,
  runCounts,
  type RunCountsFilter,
  runCountsOf,
} from "../db/runs/run-counts.js";
import { RowflowSqlError } from "../errors.js";
import type { RunListener } from "./run-listener.js";
import { WaitTimeoutError } from "./wait-timeout-error.js";

/** Options of `waitForRuns`. */
export interface WaitForRunsOptions {
  /** Give up after this many milliseconds with a `WaitTimeoutError`. (Default: no limit) */
  timeout?: number | undefined;
  /** Abort the wait (rejects with the signal's reason). (Default: none) */
  signal?: AbortSignal | undefined;
  /** Called with the counts each time they are read (progress display). (Default: none) */
  onProgress?: ((counts: RunCounts) => void) | undefined;
}

/** Notifications arrive up to once per committed transaction; re-read at most this often. */
const minReadIntervalMs = 100;

/**
 * Waits until none of the runs is active (queued, running, compensating):
 * the given ids, or those `rowflow.run_counts` counts for a filter. Re-reads
 * the counts on notifications (at most every 100 ms) and every
 * `pollInterval` without one, so lost NOTIFYs only cost latency.
 */
export async function waitForRuns(
  env: { db: Queryable; listener: RunListener; pollInterval: number },
  target: readonly string[] | RunCountsFilter,
  options: WaitForRunsOptions,
): Promise<RunCounts> {
  let wake: (() => void) | undefined;
  let woken = false;
  const remove = await env.listener.add(() => {
    woken = true;
    wake?.();
  });
  const deadline = options.timeout === undefined ? Infinity : Date.now() + options.timeout;
  try {
    for (;;) {
      options.signal?.throwIfAborted();
      woken = false;
      const readAt = Date.now();
      const counts = await read(env.db, target);
      options.onProgress?.(counts);
      if (counts.active === 0) return counts;
      const left = deadline - Date.now();
      if (left <= 0)
        throw new WaitTimeoutError(
          "",
          options.timeout ?? 0,
          `${counts.active} active`,
          describe(target),
        );
      if (!woken)
        await sleep(Math.min(env.pollInterval, left), options.signal, (fn) => (wake = fn));
      wake = undefined;
      const early = minReadIntervalMs - (Date.now() - readAt);
      if (early > 0) await sleep(Math.min(early, left), options.signal, () => {});
    }
  } finally {
    remove();
  }
}

async function read(
  db: Queryable,
  target: readonly string[] | RunCountsFilter,
): Promise<RunCounts> {
  if (!isIds(target)) return runCounts(db, target);
  const { missing, ...counts } = await runCountsOf(db, target);
  if (missing.length > 0) {
    const some = missing.slice(0, 5).join(", ") + (missing.length > 5 ? ", …" : "");
    throw new RowflowSqlError(`unknown run${missing.length > 1 ? "s" : ""} ${some}`, {
      code: "RF023",
    });
  }
  return counts;
}

function isIds(target: readonly string[] | RunCountsFilter): target is readonly string[] {
  return Array.isArray(target);
}

function describe(target: readonly string[] | RunCountsFilter): string {
  if (isIds(target)) return `${target.length} runs`;
  const parts = [target.workflow ? `of ${target.workflow}` : "of every workflow"];
  if (target.since) parts.push(`since ${target.since.toISOString()}`);
  return `runs ${parts.join(" ")}`;
}

function sleep(
  ms: number,
  signal: AbortSignal | undefined,
  setWake: (wake: () => void) => void,
): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
    setWake(done);
  });
}
