/**
 * When a worker wants `jobs:insert` NOTIFYs: while it listens and has run
 * out of jobs. Writers (start_runs, the gate functions) NOTIFY only while a
 * worker waits (sql/schema/80_wake/_wake_all.sql), so a busy worker must not look like
 * a waiting one, or every step commit would NOTIFY and commits would queue
 * behind each other's WAL flush.
 *
 * Read from graphile-worker 0.17.3's events:
 * - `pool:listen:success` / `pool:listen:error` / `pool:listen:release`: the
 *   LISTEN connection is up or gone (no use waiting without it).
 * - With the local queue (rowflow's default), `localQueue:getJobs:complete`:
 *   a batch shorter than the local queue size means the database had no more
 *   jobs, and the queue now sleeps until its poll timer or a `pulse()`
 *   (NOTIFY or rowflow's own nudge) → waiting. A full batch means a backlog:
 *   the queue fetches again as soon as its cache empties and ignores
 *   notifications meanwhile (WAITING mode) → not waiting.
 * - Without it, `worker:getJob:empty` (that handler slot sleeps until a nudge
 *   or its poll) → waiting; `job:start` of the last sleeping slot → not.
 *
 * - rowflow's dispatcher (dispatcher.ts): waiting only while its last claim
 *   found no more queued runs (`setRunsDrained`). A start NOTIFYs
 *   'jobs:insert' with `{"count": 0, "runs": n}`: graphile-worker ignores a
 *   count of 0, `onRuns` makes the dispatcher claim.
 *
 * After the row is written, the pool is nudged once: a job committed between
 * the empty fetch and the mark woke nobody.
 */
import type { WorkerEvents } from "graphile-worker";

import type { Waiters } from "../../db/waiters/waiters.js";
import type { Logger } from "../../definition/logger.js";
import { WaitingMark } from "../../wake/waiting-mark.js";

export interface WakeUpsOptions {
  waiters: Waiters;
  logger: Logger;
  /** The mark expires after this (the heartbeat timeout: a dead worker stops costing NOTIFYs then). */
  ttlMs: number;
  /** rowflow's local queue size, or -1 when it is off. */
  localQueueSize: number;
  /** Makes the pool look for jobs and queued runs once (graphile-worker `nudge`, dispatcher). */
  nudge: () => void;
  /** A NOTIFY said runs were started. */
  onRuns: () => void;
}

export class WorkerWakeUps {
  #mark: WaitingMark | undefined;
  #listening = false;
  #drained = false;
  #runsDrained = false;
  readonly #sleepingSlots = new Set<string>();
  #stopped = false;

  constructor(events: WorkerEvents, options: WakeUpsOptions) {
    events.on("pool:create", ({ workerPool }) => {
      this.#mark = new WaitingMark({
        waiters: options.waiters,
        id: workerPool.id,
        channel: "jobs:insert",
        ttlMs: options.ttlMs,
        logger: options.logger,
        // A claim that filled every slot asked for says "busy", the next one
        // "out of work" again: at 200 runs/s that flipped the mark ~50 times
        // a second, a transaction each. Busy for 100 ms removes it.
        unmarkDelayMs: 100,
        onMarked: options.nudge,
      });
      this.#update();
    });
    events.on("pool:listen:success", () => {
      this.#listening = true;
      this.#update();
    });
    const lost = () => {
      this.#listening = false;
      this.#update();
    };
    events.on("pool:listen:notification", ({ message }) => {
      if (message.channel !== "jobs:insert" || !message.payload) return;
      try {
        const runs = (JSON.parse(message.payload) as { runs?: unknown } | null)?.runs;
        if (typeof runs === "number" && runs > 0) options.onRuns();
      } catch {
        // not ours
      }
    });
    events.on("pool:listen:error", lost);
    events.on("pool:listen:release", lost);
    if (options.localQueueSize > 1) {
      events.on("localQueue:getJobs:complete", ({ jobs }) => {
        this.#drained = jobs.length < options.localQueueSize;
        this.#update();
      });
    } else {
      events.on("worker:getJob:empty", ({ worker }) => {
        this.#sleepingSlots.add(worker.workerId);
        this.#drained = true;
        this.#update();
      });
      events.on("job:start", ({ worker }) => {
        if (!this.#sleepingSlots.delete(worker.workerId)) return;
        this.#drained = this.#sleepingSlots.size > 0;
        this.#update();
      });
    }
  }

  /** Whether this worker's waiter row is in place (tests, diagnostics). */
  get waiting(): boolean {
    return this.#mark?.marked ?? false;
  }

  /** The dispatcher found no more queued runs (true), or was told some wait (false). */
  setRunsDrained(drained: boolean): void {
    this.#runsDrained = drained;
    this.#update();
  }

  /** Extends the mark while waiting (called with the heartbeat). */
  refresh(): Promise<void> {
    return this.#mark?.refresh() ?? Promise.resolve();
  }

  /** Removes the mark; no further writes. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#mark?.close();
  }

  #update(): void {
    if (this.#stopped) return;
    void this.#mark?.set(this.#listening && this.#drained && this.#runsDrained);
  }
}
