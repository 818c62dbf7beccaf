/**
 * What a task handler receives. The worker builds it from `rowflow.begin_step`
 * (docs/sql-api.md, begin_step); the DSL narrows `input` and `deps` per step.
 */
import type { Transaction } from "kysely";

import type { Database } from "../db/types.js";
import type { Logger } from "./logger.js";

/**
 * Why a step run exists: a user step, a compensation of one, the workflow's onFailure
 * task, or one element of a map step.
 */
export type StepKind = "step" | "compensation" | "on_failure" | "element";

/** Outputs of dependencies by step name, when nothing more precise is known. */
export type AnyDeps = Readonly<Record<string, unknown>>;

/** The run input, when the workflow declares no input schema: a JSON object. */
export type AnyInput = Readonly<Record<string, unknown>>;

/** The context of one handler call (one attempt of one step run). */
export interface HandlerContext<TInput = AnyInput, TDeps = AnyDeps> {
  /** The run input, parsed by the workflow's (or task's) input schema when there is one. */
  readonly input: TInput;
  /**
   * Outputs of the steps listed in `dependsOn`, by step name, as JSON (a `Date` returned
   * by a dependency arrives as a string). A dependency that was skipped (its `if` was
   * false) has the output `null`.
   */
  readonly deps: TDeps;
  /** The run: `id` is the bigint run id as a string. */
  readonly run: { readonly id: string; readonly workflow: string; readonly version: number };
  /**
   * The step run: user step name (or `compensate:<step>` / `on-failure`, or
   * `<step>[<index>]` for a map element) and its kind; a map element's `index` (from 0).
   */
  readonly step: { readonly name: string; readonly kind: StepKind; readonly index?: number };
  /** 1 for the first attempt. */
  readonly attempt: number;
  /** Attempts this step run may use in all (its `attempts` policy). */
  readonly maxAttempts: number;
  /**
   * Why the run failed, for compensation and `on-failure` step runs (the failed
   * step, its error); `null` for ordinary steps of a running run.
   */
  readonly runError: Readonly<Record<string, unknown>> | null;
  /** Stable across the attempts of this step run; pass it to external APIs to deduplicate. */
  readonly idempotencyKey: string;
  /** Aborted when the step's timeout expires or the worker shuts down. */
  readonly signal: AbortSignal;
  /** The transaction that also completes the step: writes through it commit exactly once. */
  readonly tx: Transaction<Database>;
  /** A logger bound to this run and step. */
  readonly logger: Logger;
}
