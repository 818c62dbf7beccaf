/**
 * Options of the DSL's child steps (`.child()`) and the type their output
 * gives dependents (docs/spec.md, "Child workflows").
 */
import type { z } from "zod";

import type { Interval } from "./interval.js";
import type { Jsonify } from "./jsonify.js";
import type { BackoffOptions } from "./step-options.js";
import type { StartAt } from "./wait-options.js";

/** Options of `.child(name, workflow, options)`: a step that runs another workflow and takes its outcome. */
export interface ChildOptions<
  TDeps extends readonly string[] = readonly string[],
  TIf extends string | undefined = string | undefined,
  TOutput extends z.ZodType | undefined = z.ZodType | undefined,
> {
  /** Steps, defined earlier, that must be finished first. (Default: []) */
  readonly dependsOn?: TDeps;
  /**
   * The child run's input: a path over `{"input", "steps"}` that gives a JSON
   * object, e.g. `"$.steps.pack"`. (Default: "$.input", this run's input)
   */
  readonly input?: string;
  /** Run-if condition; false skips the step (dependents then see `null`). (Default: always) */
  readonly if?: TIf;
  /** −1000 to 1000; lower first. (Default: 0) */
  readonly priority?: number;
  /** Wait this long after the step becomes ready, before the child starts. (Default: none) */
  readonly delay?: Interval;
  /** Start the child no earlier than this time. (Default: at once) */
  readonly startAt?: StartAt;
  /** Children to try, 1 to 1000: a failed child is followed by a new one while attempts remain. (Default: 1) */
  readonly attempts?: number;
  /** Delay before the next child after a failed one. (Default: exponential from 1 second up to 5 minutes, jitter 0.2) */
  readonly backoff?: BackoffOptions;
  /**
   * The type of the child's output (`{ <final step>: output }`: the outputs of
   * the child's steps that no other step depends on), for dependents'
   * `ctx.deps`. A declaration: not validated, not part of the spec. (Default: JSON)
   */
  readonly output?: TOutput;
}

/** What dependents see of a child step: the child's output; `null` when it may be skipped (an `if`). */
export type ChildValue<TIf extends string | undefined, TOutput extends z.ZodType | undefined> =
  | (TOutput extends z.ZodType ? Jsonify<z.output<TOutput>> : Jsonify<unknown>)
  | ([TIf] extends [string] ? null : never);
