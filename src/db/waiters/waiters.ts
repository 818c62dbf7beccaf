/**
 * Who waits for a NOTIFY (sql/schema/80_wake/, rowflow.waiters), as one small
 * interface: a worker out of work and a client's live view mark themselves
 * waiting, and writers NOTIFY only while somebody does.
 */
import type { Queryable } from "../queryable.js";
import { markWaiting, type WakeChannel } from "./mark-waiting.js";
import { unmarkWaiting } from "./unmark-waiting.js";

export type { WakeChannel };

export interface Waiters {
  /** `rowflow.mark_waiting`: `id` waits on `channel` for `ttlMs`. */
  mark(args: { id: string; channel: WakeChannel; ttlMs: number; now?: Date | null }): Promise<void>;
  /** `rowflow.unmark_waiting`: `id` no longer waits on `channel` (every channel when null). */
  unmark(args: { id: string; channel?: WakeChannel | null }): Promise<void>;
}

/** The waiters table on `db`. */
export function waitersOn(db: Queryable): Waiters {
  return {
    mark: (args) => markWaiting(db, args),
    unmark: (args) => unmarkWaiting(db, args),
  };
}
