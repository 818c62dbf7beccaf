/**
 * Keeps one row of `rowflow.waiters` in line with whether its owner (a
 * worker out of jobs, a client listening for run changes) wants NOTIFYs.
 *
 * Writers NOTIFY only while a live row exists (sql/schema/80_wake/), and
 * NOTIFYing commits serialise through the WAL flush, so the row must exist
 * only while somebody actually waits: a worker that is busy has no use for
 * `jobs:insert` (it fetches again as soon as a handler frees up). The owner
 * says what it wants with `set()`; one write at a time brings the row there,
 * and changes that arrive during a write are coalesced into the next one, so
 * flapping between idle and busy costs at most one write in flight.
 *
 * NOTIFY stays a hint (invariant 5, docs/architecture.md): a failed write is logged and
 * retried on the next `set()`/`refresh()`; the owner keeps polling anyway.
 */
import type { Waiters, WakeChannel } from "../db/waiters/waiters.js";
import type { Logger } from "../definition/logger.js";

export interface WaitingMarkOptions {
  /** Where the row is written (rowflow.waiters). */
  waiters: Waiters;
  /** `rowflow.waiters.id`: the graphile-worker pool id, or a client's random id. */
  id: string;
  channel: WakeChannel;
  /** The row expires this long after its last write (a crashed owner stops costing NOTIFYs then). */
  ttlMs: number;
  logger: Logger;
  /**
   * Waits this long before removing the row (default 0: at once); a `set(true)`
   * meanwhile keeps it. A worker flips between "out of work" and "busy" many
   * times a second under a light steady load; each flip would be a write.
   */
  unmarkDelayMs?: number;
  /**
   * Called after the row was written (not waiting → waiting). A write that
   * committed between the owner's last look and the mark woke nobody, so the
   * owner should look once more.
   */
  onMarked?: () => void;
}

export class WaitingMark {
  readonly #options: WaitingMarkOptions;
  #desired = false;
  #applied = false;
  #refreshDue = false;
  #closed = false;
  #failing = false;
  #touched = false;
  #writing: Promise<void> | undefined;
  #unmarkTimer: NodeJS.Timeout | undefined;

  constructor(options: WaitingMarkOptions) {
    this.#options = options;
  }

  /** Whether the row is (as far as this process knows) in place. */
  get marked(): boolean {
    return this.#applied;
  }

  /**
   * Wait (true) or stop waiting (false). The write happens in the background;
   * the promise resolves when the row matches (or the write failed, which is
   * logged; or at once for a removal delayed by `unmarkDelayMs`), and never
   * rejects.
   */
  set(waiting: boolean): Promise<void> {
    if (this.#closed) return Promise.resolve();
    const delay = this.#options.unmarkDelayMs ?? 0;
    if (waiting) {
      clearTimeout(this.#unmarkTimer);
      this.#unmarkTimer = undefined;
    } else if (delay > 0 && this.#desired) {
      // Stays marked for `delay` (resolves at once; the removal follows).
      this.#unmarkTimer ??= setTimeout(() => {
        this.#unmarkTimer = undefined;
        this.#desired = false;
        void this.#kick();
      }, delay);
      this.#unmarkTimer.unref();
      return Promise.resolve();
    }
    if (this.#desired === waiting) return this.#writing ?? Promise.resolve();
    this.#desired = waiting;
    return this.#kick();
  }

  /** Rewrites the row with a fresh expiry if it is in place (call well within `ttlMs`). */
  refresh(): Promise<void> {
    if (this.#closed || !this.#desired) return this.#writing ?? Promise.resolve();
    this.#refreshDue = true;
    return this.#kick();
  }

  /** Removes the row (if any write was tried: its outcome may be unknown) and stops. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#desired = false;
    clearTimeout(this.#unmarkTimer);
    await this.#writing?.catch(() => {});
    if (!this.#touched) return;
    await this.#options.waiters
      .unmark({
        id: this.#options.id,
        channel: this.#options.channel,
      })
      .catch((error: unknown) =>
        this.#options.logger.warn(
          `could not remove the waiter row (it expires by itself): ${(error as Error).message}`,
        ),
      );
    this.#applied = false;
  }

  #kick(): Promise<void> {
    this.#writing ??= this.#loop().finally(() => {
      this.#writing = undefined;
    });
    return this.#writing;
  }

  async #loop(): Promise<void> {
    while (
      !this.#closed &&
      (this.#desired !== this.#applied || (this.#refreshDue && this.#desired))
    ) {
      const target = this.#desired;
      const fresh = target && !this.#applied;
      this.#refreshDue = false;
      const { waiters, id, channel, ttlMs } = this.#options;
      this.#touched = true;
      try {
        if (target) await waiters.mark({ id, channel, ttlMs });
        else await waiters.unmark({ id, channel });
      } catch (error) {
        if (!this.#failing) {
          this.#options.logger.warn(
            `could not ${target ? "mark" : "unmark"} waiting on "${channel}" (wake-ups may take a poll interval): ${(error as Error).message}`,
          );
        }
        this.#failing = true;
        return; // the next set()/refresh() tries again
      }
      if (this.#failing) this.#options.logger.info(`waiting on "${channel}" recorded again`);
      this.#failing = false;
      this.#applied = target;
      if (fresh && !this.#closed) this.#options.onMarked?.();
    }
  }
}
