/**
 * Follows runs' transitions as they commit (`rowflow tail`, a live view):
 * reads the cursor (transition-cursor.ts) at once on every NOTIFY hint on
 * channel 'rowflow' and, since not every transition sends one, every
 * `interval` too. Gates that begin, complete, fail, cancel, retry or skip a
 * step, and claims of runs (run_started, root steps queued), send a hint
 * while a live view is marked waiting (RunListener does the marking); the
 * release of dependents in other transactions sends none, and a hint is a
 * latency hint only (invariant 5, docs/architecture.md), so polling is what
 * guarantees that everything is seen; the hint makes it prompt.
 */
import type { Queryable } from "../../db/queryable.js";
import type { RunListener } from "../run-listener.js";
import {
  type Transition,
  TransitionCursor,
  type TransitionCursorOptions,
} from "./transition-cursor.js";

export interface TailOptions extends TransitionCursorOptions {
  /** Read every this many ms when no hint comes. (Default: 1000) */
  interval?: number;
  /** Stops following; the promise then resolves. (Default: none: follows until an error) */
  signal?: AbortSignal;
  /** Called with each read's new transitions, in order; the next read waits for it. */
  onTransitions(batch: Transition[]): void | Promise<void>;
}

/**
 * Calls `onTransitions` with every transition committed from now (or
 * `since` ago) on, each once, until `signal` aborts; then resolves. Rejects
 * when a read fails (the database went away). Without `listener` it polls
 * only.
 */
export async function tailTransitions(
  env: { db: Queryable; listener?: RunListener | undefined },
  options: TailOptions,
): Promise<void> {
  const { signal } = options;
  const cursor = await TransitionCursor.open(env.db, options);
  let woken = false;
  let wake: (() => void) | undefined;
  // Added before the first read: a commit after the mark wakes it.
  const remove = await env.listener?.add((change) => {
    if (options.runId && change.runId !== undefined && change.runId !== options.runId) return;
    woken = true;
    wake?.();
  });
  try {
    while (!signal?.aborted) {
      woken = false;
      const batch = await cursor.read();
      if (batch.length > 0) await options.onTransitions(batch);
      if (woken || signal?.aborted) continue;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          signal?.removeEventListener("abort", done);
          wake = undefined;
          resolve();
        };
        const timer = setTimeout(done, options.interval ?? 1000);
        signal?.addEventListener("abort", done, { once: true });
        wake = done;
      });
    }
  } finally {
    remove?.();
  }
}
