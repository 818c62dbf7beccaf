// Settings of the peer variants (pg-boss, DBOS) shared by the bench's parent
// process and its children. docs/benchmarks.md, "Peers and their
// configuration", describes them; change both together.

/** pg-boss 10 (`work` with batches). */
export const pgBossSettings = {
  /** Jobs per fetch and per handler call. */
  batchSize: 500,
  /**
   * pg-boss 10's smallest allowed polling interval (its default is 2 s). A
   * worker waits this long between two fetches, whether or not the last one
   * found jobs; pg-boss 10 has no LISTEN/NOTIFY wake-up across processes.
   */
  pollingIntervalSeconds: 0.5,
};

/** Options of every pg-boss instance of the bench: no cron scheduling, no maintenance loop. */
export const pgBossOptions = { schedule: false, supervise: false } as const;

/** DBOS Transact (workflows enqueued on one database-backed queue). */
export const dbosSettings = {
  /** The DBOS application name: owns the queue and the workflows. */
  appName: "rowflow-bench",
  queue: "bench",
  /**
   * The queue's dispatch poll (DBOS's default is 1,000 ms; any positive value
   * is allowed). DBOS queues have no NOTIFY wake-up either: dispatch polls.
   */
  pollingIntervalMs: 10,
  /** Registered workflow names (the parent enqueues them by name). */
  diamondWorkflow: "benchDiamond",
  chainWorkflow: "benchChain",
};

/** DBOS's logging: warnings and errors only (to stderr). */
export const quietDbosLogger = {
  info: () => {},
  debug: () => {},
  warn: (entry: unknown) => console.error("[dbos]", entry),
  error: (error: unknown) => console.error("[dbos]", error),
};

/** Splits `concurrency` workers evenly over `queues` queues (at least one each). */
export function workersPerQueue(concurrency: number, queues: number): number {
  return Math.max(1, Math.round(concurrency / queues));
}
