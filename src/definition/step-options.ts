/** Options of a step in the DSL; they map one to one onto the spec (docs/spec.md). */
import type { Interval } from "./interval.js";
import type { TaskDefinition } from "./task.js";
import type { StartAt } from "./wait-options.js";

/** Retry delay policy. */
export interface BackoffOptions {
  /** `exponential`: base × 2^(attempt−1), capped at `max`; `fixed`: `base` every time. (Default: "exponential") */
  readonly type?: "exponential" | "fixed" | undefined;
  /** The first retry delay. (Default: "1 second") */
  readonly base?: Interval | undefined;
  /** Upper bound of the delay; must not be below `base`. (Default: the larger of "5 minutes" and `base`) */
  readonly max?: Interval | undefined;
  /** Random spread of each delay as a fraction of it, 0 to 1. (Default: 0.2) */
  readonly jitter?: number | undefined;
}

/** A keyed serial queue: one FIFO per value of `key`. */
export interface QueueOptions {
  /** Queue name: 1-63 of `A-Z a-z 0-9 _ . -`. */
  readonly name: string;
  /** SQL/JSON path expression whose value keys the queue, e.g. `"$.input.customerId"`. (Default: one queue) */
  readonly key?: string | undefined;
}

/**
 * Options of `.step(name, options, handler)`. `TDeps` and `TIf` are inferred from
 * the literal you write, so the handler's `ctx.deps` has exactly the listed steps.
 */
export interface StepOptions<
  TDeps extends readonly string[] = readonly string[],
  TIf extends string | undefined = string | undefined,
> {
  /** Task identifier the step runs (the key of the handler in the worker's registry). (Default: the step name) */
  readonly task?: string;
  /** Steps, defined earlier, that must be finished (succeeded or skipped) first. (Default: []) */
  readonly dependsOn?: TDeps;
  /** Maximum number of attempts, the first included, 1 to 1000. (Default: 3) */
  readonly attempts?: number;
  /** Delay between attempts. (Default: exponential from 1 second up to 5 minutes, jitter 0.2) */
  readonly backoff?: BackoffOptions;
  /** An attempt running longer fails (`ctx.signal` aborts); must be above zero. (Default: none) */
  readonly timeout?: Interval;
  /** −1000 to 1000; lower runs first. (Default: 0) */
  readonly priority?: number;
  /** Serial FIFO queue name, or `{ name, key }` for one queue per key value. (Default: none) */
  readonly queue?: string | QueueOptions;
  /** Wait this long after the step becomes ready. (Default: none) */
  readonly delay?: Interval;
  /**
   * Run-if condition, a SQL/JSON path predicate over `{ "input": …, "steps": { "<name>": output } }`,
   * e.g. `"$.input.total > 0"`. False skips the step; dependents then see `null`. (Default: always run)
   */
  readonly if?: TIf;
  /**
   * Task run if the run fails after this step succeeded: a task name, or a task from
   * `defineTask` (then added to the workflow's `tasks`). (Default: none)
   */
  readonly compensate?: string | TaskDefinition;
  /**
   * Start no earlier than this time: a path to an ISO 8601 time or epoch
   * milliseconds over `{ input, steps }`, or `{ at, before | after }`, e.g.
   * `{ at: "$.input.shipBy", before: "24 hours" }`. Until then the step
   * sleeps as a future job, holding no worker. (Default: at once)
   */
  readonly startAt?: StartAt;
}
