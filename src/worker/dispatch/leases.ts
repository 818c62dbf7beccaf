/**
 * The steps this worker holds under its lease (step_runs.locked_by): the ones
 * it runs that were handed to it directly, and the ones a completion reserved
 * for it (its local queue, begun later in a free slot). The heartbeat's
 * reconciliation (rowflow.release_leases) keeps exactly these.
 */
import type { ReservedStep } from "../../db/gate/complete-steps.js";

/** `<run id>:<step>`, as rowflow.release_leases takes them. */
export function leaseKey(step: { runId: string; step: string }): string {
  return `${step.runId}:${step.step}`;
}

export class Leases {
  /** Leased steps running now. */
  readonly #running = new Set<string>();
  /** Reserved steps waiting for a slot, oldest first. */
  readonly #queue: ReservedStep[] = [];
  /** How many reserved steps the local queue holds at most. */
  readonly capacity: number;

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  /** Reserved steps waiting. */
  get queued(): number {
    return this.#queue.length;
  }

  /** How many more steps a completion may reserve now. */
  get room(): number {
    return Math.max(0, this.capacity - this.#queue.length);
  }

  /** Every key to keep: running and queued. */
  keys(): string[] {
    return [...this.#running, ...this.#queue.map(leaseKey)];
  }

  run(key: string): void {
    this.#running.add(key);
  }

  done(key: string): void {
    this.#running.delete(key);
  }

  reserve(steps: readonly ReservedStep[]): void {
    this.#queue.push(...steps);
  }

  /** Takes up to `n` reserved steps, oldest first (they stay leased: `run` them or drop them). */
  take(n: number): ReservedStep[] {
    return this.#queue.splice(0, Math.max(0, n));
  }

  /** Puts steps taken from the queue back at its head (not begun after all). */
  putBack(steps: readonly ReservedStep[]): void {
    this.#queue.unshift(...steps);
  }

  /** Forgets every queued step (the worker stops; their leases are released in the database). */
  clearQueue(): void {
    this.#queue.length = 0;
  }
}
