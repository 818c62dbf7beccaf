/**
 * Options and types of `.map(name, options, handler)`: a map step runs its
 * handler once per element of an array (docs/spec.md, "Map steps"). The
 * handler's `ctx.input` is the element: the `element` schema's output when
 * given (the worker parses each element with it), else the element type of
 * the array `over` names when it can be read from the types (`$.input.<key>`
 * or `$.steps.<dependency>.<key>`), else `unknown`.
 */
import type { z } from "zod";

import type { Interval } from "./interval.js";
import type { Jsonify } from "./jsonify.js";
import type { BackoffOptions } from "./step-options.js";
import type { TaskDefinition } from "./task.js";

/** What an element's failure (after its attempts) does: fail the step, or be collected into its output. */
export type MapErrors = "fail" | "collect";

/** Options of `.map()`; the step options that apply to each element, plus the array and the error mode. */
export interface MapOptions<
  TDeps extends readonly string[] = readonly string[],
  TOver extends string = string,
  TIf extends string | undefined = string | undefined,
  TElement extends z.ZodType | undefined = z.ZodType | undefined,
  TErrors extends MapErrors | undefined = MapErrors | undefined,
> {
  /**
   * The array to run over, a SQL/JSON path: `"$.input.<key>"` (the run input) or
   * `"$.steps.<dependency>.<key>"` (a step in `dependsOn`). At most 10,000 elements;
   * more fails the step (error code RF070).
   */
  readonly over: TOver;
  /** zod schema of one element; the worker parses each element with it. (Default: none, the element as is) */
  readonly element?: TElement;
  /**
   * `"fail"`: an element that failed after its attempts fails the step (and the run);
   * `"collect"`: the step succeeds, each element's outcome `{ ok, output | error }` in its output.
   * (Default: "fail")
   */
  readonly mapErrors?: TErrors;
  /** Task identifier each element runs. (Default: the step name) */
  readonly task?: string;
  /** Steps, defined earlier, that must be finished first. (Default: []) */
  readonly dependsOn?: TDeps;
  /** Maximum number of attempts of each element, 1 to 1000. (Default: 3) */
  readonly attempts?: number;
  /** Delay between an element's attempts. (Default: exponential from 1 second up to 5 minutes, jitter 0.2) */
  readonly backoff?: BackoffOptions;
  /** An element's attempt running longer fails. (Default: none) */
  readonly timeout?: Interval;
  /** −1000 to 1000; lower runs first. (Default: 0) */
  readonly priority?: number;
  /** Run-if condition of the whole step (see `StepOptions.if`). (Default: always run) */
  readonly if?: TIf;
  /** Task run if the run fails after this step succeeded; it gets the step's output array. (Default: none) */
  readonly compensate?: string | TaskDefinition;
}

type Field<T, K extends string> = T extends object ? (K extends keyof T ? T[K] : unknown) : unknown;
type ElementOf<T> = T extends readonly (infer E)[] ? E : unknown;

/** The element type the path `TOver` names, from the run input and the step outputs. */
export type ElementAt<
  TOver extends string,
  TInput,
  TOutputs,
> = TOver extends `$.steps.${infer D}.${infer K}`
  ? D extends keyof TOutputs
    ? ElementOf<Field<NonNullable<TOutputs[D]>, K>>
    : unknown
  : TOver extends `$.input.${infer K}`
    ? ElementOf<Field<TInput, K>>
    : unknown;

/** A map handler's `ctx.input`: the `element` schema's output, or the element type of `over`. */
export type ElementInput<
  TElement extends z.ZodType | undefined,
  TOver extends string,
  TInput,
  TOutputs,
> = TElement extends z.ZodType ? z.output<TElement> : ElementAt<TOver, TInput, TOutputs>;

/** One element's outcome in the output of a map step with `mapErrors: "collect"`. */
export type MapOutcome<T> =
  | { readonly ok: true; readonly output: T }
  | { readonly ok: false; readonly error: Readonly<Record<string, unknown>> };

/** What dependents see of a map step: the elements' outputs in element order (`null` when skipped by `if`). */
export type MapValue<
  TIf extends string | undefined,
  TErrors extends MapErrors | undefined,
  TOutput,
> =
  | ([TErrors] extends ["collect"]
      ? MapOutcome<Jsonify<Awaited<TOutput>>>[]
      : Jsonify<Awaited<TOutput>>[])
  | ([TIf] extends [string] ? null : never);
