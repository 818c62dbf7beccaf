/**
 * Everything one worker holds, in one object: `createWorker` builds it and
 * passes it to the parts that need it (lifecycle/ starts and stops it,
 * attempt/ runs steps with it, dispatch/ keeps its slots and leases).
 *
 * - Fixed at creation: the resolved options, tasks, logger, clock, handler
 *   slots, leases, and the shutdown signals.
 * - `connection`, set once by `start()`: the worker's pool and its view of
 *   the database (one small interface per family: src/db/gate, workers,
 *   waiters).
 * - `workerPool`, graphile-worker's pool of the current runner (its id holds
 *   this worker's jobs and leases), set as soon as graphile-worker creates
 *   it: jobs may run before the launch has finished.
 * - `runner`, the current graphile-worker runner and what lives as long as
 *   it: heartbeat, wake-ups and dispatcher. Replaced when a runner that died
 *   under a live worker is relaunched.
 * - `starting` / `relaunching` / `stopping`: the phase.
 */
import type { Runner, WorkerPool } from "graphile-worker";
import type { Kysely, KyselyProps } from "kysely";
import type pg from "pg";
import { Registry } from "prom-client";

import type { CompleteOptions } from "../db/gate/complete-steps.js";
import type { Database } from "../db/types.js";
import type { Waiters } from "../db/waiters/waiters.js";
import type { SessionLock } from "../db/workers/session-lock.js";
import type { WorkerRegistry } from "../db/workers/worker-registry.js";
import type { Logger } from "../definition/logger.js";
import type { MetricsServer } from "../metrics/metrics-server.js";
import { WorkerMetrics } from "../metrics/worker-metrics.js";
import type { AlertSender } from "./alerts/alert-sender.js";
import type { BatchedGate } from "./dispatch/batched-gate.js";
import type { Dispatcher } from "./dispatch/dispatcher.js";
import { Leases } from "./dispatch/leases.js";
import { SlotPool } from "./dispatch/slots.js";
import type { RegisteredTask } from "./task-registry.js";
import type { ResolvedWorkerOptions, WorkerOptions } from "./worker-options.js";

/** The parts of a Kysely instance's props a `Transaction` needs besides its executor. */
export type TransactionProps = Omit<KyselyProps, "executor">;

/** The worker's connection to Postgres, made by `start()`. */
export interface WorkerConnection {
  /** rowflow's own pool: handler transactions, gate calls, heartbeats. */
  readonly pool: pg.Pool;
  /** Builds `ctx.tx` (a Kysely transaction on a step's connection). */
  readonly kysely: Kysely<Database>;
  readonly transactionProps: TransactionProps;
  readonly gate: BatchedGate;
  readonly registry: WorkerRegistry;
  readonly waiters: Waiters;
}

/** One graphile-worker runner and what lives as long as it. */
export interface RunnerState {
  readonly runner: Runner;
  /** graphile-worker's own pg pool (ours, so that its idle clients' errors are handled). */
  readonly graphilePool: pg.Pool;
  readonly dispatcher: Dispatcher;
  /** The runner's liveness lock (closed after its id is unregistered); none with `sessionLock: false`. */
  readonly lock: SessionLock | undefined;
  /** Stops the heartbeat and the wake-up marks of this runner. */
  stopTimers(): Promise<void>;
}

export class WorkerState {
  readonly options: WorkerOptions;
  readonly settings: ResolvedWorkerOptions;
  readonly logger: Logger;
  readonly tasks: ReadonlyMap<string, RegisteredTask>;
  readonly taskNames: readonly string[];
  readonly slots: SlotPool;
  /** Steps held under this worker's lease, and its local queue. */
  readonly leases: Leases;
  /** Prometheus series of this worker (`metrics` option), else undefined: nothing is recorded. */
  readonly metrics: WorkerMetrics | undefined;
  /** The /metrics endpoint, once `start()` opened it (`metrics.port`). */
  metricsServer: MetricsServer | undefined;
  /** Aborted by `stop()`: a start still connecting gives up. */
  readonly startAbort = new AbortController();
  /** Aborted when the shutdown grace period ends: running handlers are aborted. */
  readonly shutdownAbort = new AbortController();
  connection: WorkerConnection | undefined;
  workerPool: WorkerPool | undefined;
  /** The pool id this worker registered and the token register_worker answered (its proof of id). */
  registered: { readonly id: string; readonly token: string } | undefined;
  runner: RunnerState | undefined;
  /** The failure webhook's delivery loop (with the `alerts` option), started after the runner. */
  alertSender: AlertSender | undefined;
  starting: Promise<void> | undefined;
  relaunching: Promise<void> | undefined;
  stopping: Promise<void> | undefined;
  /** Chains of directly handed-out attempts, awaited by `stop()`. */
  readonly #chains = new Set<Promise<void>>();
  /**
   * Running handlers to abort when the grace period ends. A Set, not one
   * listener each on the signal: past 10 listeners Node warns of a leak.
   */
  readonly #shutdownWatchers = new Set<() => void>();

  constructor(
    options: WorkerOptions,
    settings: ResolvedWorkerOptions,
    logger: Logger,
    tasks: ReadonlyMap<string, RegisteredTask>,
  ) {
    this.options = options;
    this.settings = settings;
    this.logger = logger;
    this.tasks = tasks;
    this.taskNames = [...tasks.keys()].sort();
    this.slots = new SlotPool(settings.concurrency);
    this.leases = new Leases(
      settings.localQueueSize > 1 ? settings.localQueueSize : settings.concurrency,
    );
    this.metrics = settings.metrics
      ? new WorkerMetrics(options.metrics?.registry ?? new Registry(), this.slots)
      : undefined;
    this.shutdownAbort.signal.addEventListener("abort", () => {
      for (const abort of [...this.#shutdownWatchers]) abort();
    });
  }

  /** The connection; throws before `start()` made it. */
  get db(): WorkerConnection {
    if (!this.connection) throw new Error("the worker is not connected (call start() first)");
    return this.connection;
  }

  /** The graphile-worker pool id of the current runner (`rowflow.workers.id`), once it exists. */
  get id(): string | undefined {
    return this.workerPool?.id;
  }

  /** The token of pool `id`, if this worker registered it (null otherwise). */
  tokenFor(id: string | undefined): string | null {
    return id !== undefined && this.registered?.id === id ? this.registered.token : null;
  }

  /** True once `stop()` was called: no more steps are taken over. */
  get isStopping(): boolean {
    return this.stopping !== undefined;
  }

  /** The clock handed to the SQL functions; null: the database's `now()`. */
  now(): Date | null {
    return this.options.now?.() ?? null;
  }

  /** Wakes `n` idle graphile loops of this worker (jobs it just queued) without waiting for a NOTIFY. */
  nudge(n: number): void {
    this.workerPool?.nudge(n);
  }

  /** A completion asked to claim runs for leftover slots, and `left` slots stayed unused. */
  claimed(left: number): void {
    this.runner?.dispatcher.claimed(left);
  }

  /**
   * What a completion may take on now: claim runs while some may be queued,
   * reserve while the local queue has room. Nothing is handed to this worker
   * before it registered (jobs may run before that): acting as a worker id
   * needs its token.
   */
  completeOptions(): CompleteOptions {
    const workerToken = this.tokenFor(this.id);
    const workerId = workerToken ? (this.id ?? null) : null;
    if (this.isStopping || !workerId) return { workerId, workerToken };
    const dispatcher = this.runner?.dispatcher;
    return {
      workerId,
      workerToken,
      claim: dispatcher !== undefined && !dispatcher.drained,
      reserve: this.leases.room,
    };
  }

  /** Calls `abort` when the shutdown grace period ends (at once if it has); returns an unsubscribe function. */
  watchShutdown(abort: () => void): () => void {
    if (this.shutdownAbort.signal.aborted) {
      abort();
      return () => {};
    }
    this.#shutdownWatchers.add(abort);
    return () => this.#shutdownWatchers.delete(abort);
  }

  /** Keeps a detached chain of attempts alive until the worker has stopped. */
  track(work: Promise<void>): void {
    this.#chains.add(work);
    void work.finally(() => this.#chains.delete(work));
  }

  /** Resolves when every tracked chain has settled (new ones started meanwhile included). */
  async settled(): Promise<void> {
    while (this.#chains.size > 0) await Promise.allSettled([...this.#chains]);
  }

  /** Extra idle slots a completion may take for more released dependents (besides its own). */
  get maxExtraTakes(): number {
    return Math.min(8, this.settings.concurrency);
  }
}
