/**
 * Options of the DSL's wait steps (`.wait()`, `.human()`) and of `startAt`,
 * and the types their outputs give dependents (docs/spec.md, "Waits").
 */
import type { z } from "zod";

import type { Interval } from "./interval.js";
import type { Jsonify } from "./jsonify.js";

/** Start no earlier than a time: a path to it, or a path and an offset. */
export type StartAt =
  | string
  | {
      /** Path to an ISO 8601 time or epoch milliseconds, e.g. `"$.input.shipBy"`. */
      readonly at: string;
      /** Start this long before that time. (Default: none) */
      readonly before?: Interval | undefined;
      /** Start this long after that time. (Default: none) */
      readonly after?: Interval | undefined;
    };

/** What a wait does at its deadline: fail the step (and the run), skip it, or succeed with an output. */
export type OnTimeout = "fail" | "skip" | { readonly output: unknown };

/** Options every wait step has. */
interface WaitStepBase<TDeps extends readonly string[], TIf extends string | undefined> {
  /** Steps, defined earlier, that must be finished first. (Default: []) */
  readonly dependsOn?: TDeps;
  /** Run-if condition; false skips the step (dependents then see `null`). (Default: always) */
  readonly if?: TIf;
  /** −1000 to 1000; lower first. (Default: 0) */
  readonly priority?: number;
  /** Wait this long after the step becomes ready, before it starts waiting. (Default: none) */
  readonly delay?: Interval;
  /** Start waiting no earlier than this time. (Default: at once) */
  readonly startAt?: StartAt;
}

/** Options of `.wait(name, options)`: a step that waits for a named signal (`rowflow.signal`). */
export interface WaitOptions<
  TDeps extends readonly string[] = readonly string[],
  TIf extends string | undefined = string | undefined,
  TPayload extends z.ZodType | undefined = z.ZodType | undefined,
  TOn extends OnTimeout | undefined = OnTimeout | undefined,
> extends WaitStepBase<TDeps, TIf> {
  /** The signal's name: 1-128 of `A-Z a-z 0-9 _ . : -`. */
  readonly signal: string;
  /** Give up after this long. (Default: wait forever) */
  readonly timeout?: Interval;
  /** At the timeout. (Default: "fail") */
  readonly onTimeout?: TOn;
  /**
   * The payload's type, for dependents' `ctx.deps`. A declaration: the
   * signal's payload is not validated. Not part of the spec. (Default: JSON)
   */
  readonly payload?: TPayload;
}

/** Options of `.human(name, options)`: a task assigned to a person or group. */
export interface HumanOptions<
  TDeps extends readonly string[] = readonly string[],
  TIf extends string | undefined = string | undefined,
  TAnswer extends z.ZodType | undefined = z.ZodType | undefined,
  TOn extends OnTimeout | undefined = OnTimeout | undefined,
> extends WaitStepBase<TDeps, TIf> {
  /** A person or group, or a path to one, e.g. `"$.input.ownerEmail"`. */
  readonly assignee: string;
  /** What the task asks, 1-500 characters. */
  readonly title: string;
  /** Longer text for the inbox. (Default: none) */
  readonly description?: string;
  /**
   * The answer's zod schema: its type reaches dependents, and (unless `form`
   * is given) its JSON Schema is the task's form, checked by
   * `rowflow.complete_task`. (Default: any JSON)
   */
  readonly answer?: TAnswer;
  /** The form as JSON Schema (the subset of docs/forms.md). (Default: from `answer`, else any) */
  readonly form?: Readonly<Record<string, unknown>> | boolean;
  /** When the task is due. (Default: never) */
  readonly due?: Interval;
  /** Who gets it once when it is due (then it is due again after `due`). (Default: nobody) */
  readonly escalateTo?: string;
  /** When it is due (after any escalation). (Default: "fail") */
  readonly onTimeout?: TOn;
}

/** Options of `.waitFor(name, options)`: a step that waits for a row of a business table. */
export interface WaitForOptions<
  TDeps extends readonly string[] = readonly string[],
  TIf extends string | undefined = string | undefined,
  TRow extends z.ZodType | undefined = z.ZodType | undefined,
  TOn extends OnTimeout | undefined = OnTimeout | undefined,
> extends WaitStepBase<TDeps, TIf> {
  /** The table, schema-qualified, e.g. `"shop.payments"`. */
  readonly table: string;
  /**
   * A SQL condition on its columns; `$.input.…` / `$.steps.…` paths are the
   * run's values as text, e.g. `"order_id = ($.input.orderId)::bigint and status = 'settled'"`.
   */
  readonly where: string;
  /** Give up after this long. (Default: wait forever) */
  readonly timeout?: Interval;
  /** At the timeout. (Default: "fail") */
  readonly onTimeout?: TOn;
  /** The row's type (its columns as JSON), for dependents' `ctx.deps`; a declaration, not checked. (Default: JSON) */
  readonly row?: TRow;
}

type Parsed<T extends z.ZodType | undefined> = T extends z.ZodType
  ? Jsonify<z.output<T>>
  : Jsonify<unknown>;

/**
 * What dependents see of a wait step: its payload or answer; `null` when it
 * may be skipped (an `if`, or onTimeout "skip"); the onTimeout output.
 */
export type WaitValue<
  TIf extends string | undefined,
  TValue extends z.ZodType | undefined,
  TOn extends OnTimeout | undefined,
> =
  | Parsed<TValue>
  | ([TIf] extends [string] ? null : never)
  | (TOn extends "skip" ? null : never)
  | (TOn extends { readonly output: infer O } ? Jsonify<O> : never);
