/**
 * Fills this worker's idle handler slots without graphile-worker: first with
 * the steps its completions reserved for it (its local queue: begun with
 * begin_steps(reserved => true)), then with root steps of queued runs it
 * claims (rowflow.claim_runs). Either way a step starts with one statement
 * and no job fetch.
 *
 * When to look: at start; when a slot goes idle while reserved steps wait or
 * the last claim found as many runs as it asked for (more may wait); on a
 * NOTIFY that says runs were started (a writer sends one only while this
 * worker is marked waiting, wake-ups.ts); and every `pollInterval` otherwise
 * (NOTIFY is a hint, invariant 5). One look is in flight at a time; slots
 * freed meanwhile are taken by the next one.
 */
import type { ClaimRunsResult } from "../../db/gate/claim-runs.js";
import type { ReservedStep } from "../../db/gate/complete-steps.js";
import type { BeginStepResult, BeginStepStarted } from "../../db/gate/step-context.js";
import type { Logger } from "../../definition/logger.js";
import { leaseKey, type Leases } from "./leases.js";
import type { Slot, SlotPool } from "./slots.js";

export interface DispatcherOptions {
  slots: SlotPool;
  leases: Leases;
  /** begin_steps(reserved => true) for reserved steps of this worker. */
  begin: (steps: ReservedStep[]) => Promise<BeginStepResult[]>;
  /** claim_runs for this worker: take `take` root steps of at most `take` runs. */
  claim: (take: number) => Promise<ClaimRunsResult>;
  /** Starts steps, one per slot (the slots are theirs now). */
  start: (slots: Slot[], contexts: BeginStepStarted[]) => void;
  /** How often to look when nothing says runs are waiting, in ms. */
  pollInterval: number;
  logger: Logger;
  /** Called when the dispatcher finds no more queued runs (true) or is told some wait (false). */
  onDrained?: (drained: boolean) => void;
}

export class Dispatcher {
  readonly #options: DispatcherOptions;
  #drained = false;
  // A NOTIFY, the poll timer or a fresh waiting mark asks for one look even
  // while drained (without leaving the waiting state: a worker with idle
  // slots stays marked, so starts keep waking it without mark/unmark writes).
  #hinted = true;
  #looking: Promise<void> | undefined;
  #again = false;
  #stopped = false;
  #timer: NodeJS.Timeout | undefined;
  #unsubscribe: (() => void) | undefined;
  #failing = false;

  constructor(options: DispatcherOptions) {
    this.#options = options;
  }

  /** Whether the last claim found fewer runs than it asked for. */
  get drained(): boolean {
    return this.#drained;
  }

  start(): void {
    // A hint that found every slot busy (a completion holds spare slots for
    // the dependents it may take) is acted on when one frees up, not lost
    // until the next NOTIFY or poll.
    this.#unsubscribe = this.#options.slots.onIdle(() => {
      if (!this.#drained || this.#hinted || this.#options.leases.queued > 0) this.#kick();
    });
    this.#schedule();
    this.#kick();
  }

  /** Runs may be waiting (a NOTIFY, or this worker was just marked waiting). */
  notify(): void {
    this.#hinted = true;
    this.#kick();
  }

  /** A completion claimed runs for its leftover slots and left `left` slots unused (no more queued runs). */
  claimed(left: number): void {
    this.#setDrained(left > 0);
  }

  /** Stops looking; resolves when no look is in flight. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#unsubscribe?.();
    await this.#looking;
  }

  #schedule(): void {
    if (this.#stopped) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#hinted = true;
      this.#kick();
      this.#schedule();
    }, this.#options.pollInterval);
    this.#timer.unref();
  }

  #setDrained(drained: boolean): void {
    if (this.#drained === drained) return;
    this.#drained = drained;
    this.#options.onDrained?.(drained);
  }

  #kick(): void {
    if (this.#stopped) return;
    if (this.#looking) {
      this.#again = true;
      return;
    }
    const claiming = !this.#drained || this.#hinted;
    const wanted = this.#options.leases.queued + (claiming ? this.#options.slots.size : 0);
    const slots = this.#options.slots.tryAcquire(wanted);
    if (slots.length === 0) return;
    this.#looking = this.#look(slots, claiming).finally(() => {
      this.#looking = undefined;
      const again = this.#again;
      this.#again = false;
      if (again) this.#kick();
    });
  }

  async #look(slots: Slot[], claiming: boolean): Promise<void> {
    const started: BeginStepStarted[] = [];
    let free = slots;
    try {
      // Reserved steps first: they are this worker's already.
      const reserved = this.#options.leases.take(free.length);
      if (reserved.length > 0) {
        for (const step of reserved) this.#options.leases.run(leaseKey(step));
        let answers: BeginStepResult[];
        try {
          answers = await this.#options.begin(reserved);
        } finally {
          // Not begun (refused, or the call failed): no longer this worker's
          // to run; a lease still held is reconciled with the heartbeat.
          reserved.forEach((step, i) => {
            if (!answers?.[i]?.ok) this.#options.leases.done(leaseKey(step));
          });
        }
        for (const answer of answers) if (answer.ok) started.push(answer);
        this.#run(free.slice(0, started.length), started);
        free = free.slice(started.length);
      }
      if (free.length > 0 && claiming) {
        this.#hinted = false;
        const result = await this.#options.claim(free.length);
        this.#setDrained(result.runs < free.length);
        this.#run(free.slice(0, result.taken.length), result.taken);
        free = free.slice(result.taken.length);
      }
      if (this.#failing) this.#options.logger.info("claiming runs works again");
      this.#failing = false;
    } catch (error) {
      // Logged once per outage; the poll timer tries again.
      if (!this.#failing) this.#options.logger.warn(`claiming runs failed: ${String(error)}`);
      this.#failing = true;
      this.#setDrained(true);
    } finally {
      for (const slot of free) slot.release();
    }
  }

  #run(slots: Slot[], contexts: BeginStepStarted[]): void {
    if (contexts.length > 0) this.#options.start(slots, contexts);
  }
}
