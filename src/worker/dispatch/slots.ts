/**
 * The worker's handler slots: `concurrency` of them, shared by the two ways a
 * step reaches this worker.
 *
 * - graphile-worker's handler loops fetch jobs (retries, delayed and queued
 *   steps, steps released while this worker had no slot); each loop waits for
 *   a slot (`acquire`, first come first served) before it begins the step.
 * - Steps handed to this worker directly — root steps of runs it claims,
 *   dependents its own completions release — run in slots it already holds
 *   (`tryAcquire` for free ones; a finishing step passes its slot on).
 *
 * So at most `concurrency` handlers run, whichever way their steps came.
 */
import { ErrorCodes, RowflowError } from "../../errors.js";

/** One held slot; `release()` gives it back (idempotent). */
export interface Slot {
  release(): void;
}

interface Waiter {
  resolve(slot: Slot): void;
  reject(error: unknown): void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

export class SlotPool {
  readonly size: number;
  #free: number;
  readonly #waiters: Waiter[] = [];
  readonly #idleListeners = new Set<() => void>();
  #closed: Error | undefined;

  constructor(size: number) {
    this.size = size;
    this.#free = size;
  }

  /** Slots free for the taking: none while a loop waits for one. */
  get idle(): number {
    return this.#waiters.length > 0 ? 0 : this.#free;
  }

  /** Handler loops waiting for a slot. */
  get waiting(): number {
    return this.#waiters.length;
  }

  /** Slots held. */
  get busy(): number {
    return this.size - this.#free;
  }

  /**
   * Waits for a slot, first come first served. Rejects when `signal` aborts
   * or the pool is closed.
   */
  acquire(signal?: AbortSignal): Promise<Slot> {
    if (this.#closed) return Promise.reject(this.#closed);
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#free > 0 && this.#waiters.length === 0) {
      this.#free--;
      return Promise.resolve(this.#slot());
    }
    return new Promise<Slot>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, signal, onAbort: undefined };
      if (signal) {
        waiter.onAbort = () => {
          const i = this.#waiters.indexOf(waiter);
          if (i >= 0) this.#waiters.splice(i, 1);
          reject(signal.reason);
        };
        signal.addEventListener("abort", waiter.onAbort, { once: true });
      }
      this.#waiters.push(waiter);
    });
  }

  /** Takes up to `n` idle slots at once (none while a loop waits). */
  tryAcquire(n: number): Slot[] {
    if (this.#closed) return [];
    const count = Math.max(0, Math.min(n, this.idle));
    this.#free -= count;
    return Array.from({ length: count }, () => this.#slot());
  }

  /** Called whenever a released slot stays idle (nobody waited for it). Returns an unsubscribe function. */
  onIdle(listener: () => void): () => void {
    this.#idleListeners.add(listener);
    return () => this.#idleListeners.delete(listener);
  }

  /** Fails every waiting and future `acquire` (the worker stops); held slots stay valid. */
  close(): void {
    this.#closed ??= new RowflowError("the worker is stopping", {
      code: ErrorCodes.workerStopping,
    });
    for (const waiter of this.#waiters.splice(0)) {
      if (waiter.onAbort) waiter.signal?.removeEventListener("abort", waiter.onAbort);
      waiter.reject(this.#closed);
    }
  }

  #slot(): Slot {
    let held = true;
    return {
      release: () => {
        if (!held) return;
        held = false;
        this.#release();
      },
    };
  }

  #release(): void {
    const waiter = this.#waiters.shift();
    if (waiter) {
      if (waiter.onAbort) waiter.signal?.removeEventListener("abort", waiter.onAbort);
      waiter.resolve(this.#slot());
      return;
    }
    this.#free++;
    for (const listener of this.#idleListeners) listener();
  }
}
