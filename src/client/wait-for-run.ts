import type { Kysely } from "kysely";

import { getRun, getRunStatus, type RunInfo, type RunStatus } from "../db/runs/get-run.js";
import type { Database } from "../db/types.js";
import { RowflowSqlError } from "../errors.js";
import type { RunListener } from "./run-listener.js";
import { WaitTimeoutError } from "./wait-timeout-error.js";

/** Options of `waitForRun`. */
export interface WaitForRunOptions {
  /** Give up after this many milliseconds with a `WaitTimeoutError`. (Default: no limit) */
  timeout?: number | undefined;
  /** Abort the wait (rejects with the signal's reason). (Default: none) */
  signal?: AbortSignal | undefined;
}

const terminal: ReadonlySet<RunStatus> = new Set(["succeeded", "failed", "cancelled"]);

/**
 * Waits for a run to end: re-reads its status on every notification that may
 * concern it and, as a fallback for lost notifications, every `pollInterval`.
 */
export async function waitForRun(
  env: { db: Kysely<Database>; listener: RunListener; pollInterval: number },
  runId: string,
  options: WaitForRunOptions,
): Promise<RunInfo> {
  let wake: (() => void) | undefined;
  let woken = false;
  const remove = await env.listener.add((change) => {
    if (change.runId === undefined || change.runId === runId) {
      woken = true;
      wake?.();
    }
  });
  const deadline = options.timeout === undefined ? Infinity : Date.now() + options.timeout;
  let status: RunStatus | undefined;
  try {
    for (;;) {
      options.signal?.throwIfAborted();
      woken = false;
      status = await getRunStatus(env.db, { runId });
      if (status === undefined)
        throw new RowflowSqlError(`unknown run ${runId}`, { code: "RF023" });
      if (terminal.has(status)) {
        const run = await getRun(env.db, { runId });
        if (run) return run;
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new WaitTimeoutError(runId, options.timeout ?? 0, status);
      if (!woken)
        await sleep(Math.min(env.pollInterval, left), options.signal, (fn) => (wake = fn));
      wake = undefined;
    }
  } finally {
    remove();
  }
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
