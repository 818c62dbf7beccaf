/** The types of the `defineWorkflow` DSL. */
import type { z } from "zod";

import type { AttachmentOptions } from "./attachment.js";
import type { ChildOptions, ChildValue } from "./child-options.js";
import type { HandlerContext } from "./handler-context.js";
import type { InputOf, InputSchema, StartInputOf } from "./input-schema.js";
import type { Jsonify } from "./jsonify.js";
import type { ElementInput, MapErrors, MapOptions, MapValue } from "./map-options.js";
import type { WorkflowSpec } from "./spec-schema.js";
import type { StepOptions } from "./step-options.js";
import type { TaskDefinition } from "./task.js";
import type {
  HumanOptions,
  OnTimeout,
  WaitForOptions,
  WaitOptions,
  WaitValue,
} from "./wait-options.js";

/** Step outputs by step name, as dependents receive them. */
export type StepOutputs = Readonly<Record<string, unknown>>;

/** No steps yet. */
export type NoSteps = Readonly<Record<never, never>>;

/** Options of `defineWorkflow`. */
export interface WorkflowOptions<TName extends string, TSchema extends InputSchema | undefined> {
  /** Workflow name: a lowercase letter, then up to 62 of `a-z 0-9 _ -`. */
  readonly name: TName;
  /** zod schema of the run input; handlers get its output as `ctx.input`. (Default: any JSON object) */
  readonly input?: TSchema;
  /** Free text shown by the CLI and dashboard. (Default: none) */
  readonly description?: string;
  /** Task run once when a run fails: a task name or a task from `defineTask`. (Default: none) */
  readonly onFailure?: string | TaskDefinition;
  /**
   * Tables whose row changes start this workflow, for `rowflow generate-migration`.
   * Not part of the spec. (Default: none)
   */
  readonly on?: AttachmentOptions | readonly AttachmentOptions[];
}

/** `ctx.deps` of a step: exactly the outputs of the steps in its `dependsOn`. */
export type DepsOf<TOutputs extends StepOutputs, TDeps extends readonly string[]> = {
  readonly [K in TDeps[number] & keyof TOutputs]: TOutputs[K];
};

/**
 * What dependents see of a step's output: JSON, or `null` when the step has an
 * `if` and was skipped (`rowflow.begin_step` gives a skipped dependency's output as null).
 */
export type StepValue<TIf extends string | undefined, TOutput> = [TIf] extends [string]
  ? Jsonify<Awaited<TOutput>> | null
  : Jsonify<Awaited<TOutput>>;

/** A step name not used yet; a used one becomes a readable type error. */
export type NewStepName<
  TStep extends string,
  TOutputs extends StepOutputs,
> = TStep extends keyof TOutputs ? `step "${TStep}" is already defined` : TStep;

type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** The outputs after adding step `TStep`. */
export type WithStep<TOutputs extends StepOutputs, TStep extends string, TValue> = Simplify<
  TOutputs & { readonly [K in TStep]: TValue }
>;

/** A handler of a step in the DSL. */
export type StepHandler<TInput, TDeps, TOutput> = (
  ctx: HandlerContext<TInput, TDeps>,
) => TOutput | Promise<TOutput>;

/**
 * A workflow defined in TypeScript: an immutable builder. Each `.step()` returns a
 * new workflow with one more step; `spec` and `tasks` are always complete and valid
 * (except that a workflow without steps is rejected by `syncWorkflows` with RF003).
 */
export interface Workflow<
  TName extends string = string,
  TSchema extends InputSchema | undefined = InputSchema | undefined,
  TOutputs extends StepOutputs = StepOutputs,
> {
  /** The workflow name. */
  readonly name: TName;
  /** The spec, plain frozen JSON, as `rowflow.define_workflow` receives it. */
  readonly spec: WorkflowSpec;
  /** Handlers by task name, for the worker's registry. */
  readonly tasks: Readonly<Record<string, TaskDefinition>>;
  /** The input schema, if any. */
  readonly input: TSchema;
  /** Table attachments, for `rowflow generate-migration`. */
  readonly attachments: readonly AttachmentOptions[];
  /** Type-only: the input and outputs, for helpers such as `WorkflowOutputs<W>`. Always `undefined` at runtime. */
  readonly "~types"?: {
    readonly input: InputOf<TSchema>;
    readonly startInput: StartInputOf<TSchema>;
    readonly outputs: TOutputs;
  };

  /** Adds a step without options (task = step name, no dependencies). Throws a `SpecValidationError` on a bad name. */
  step<const TStep extends string, TOutput>(
    name: NewStepName<TStep, TOutputs>,
    handler: StepHandler<InputOf<TSchema>, DepsOf<TOutputs, []>, TOutput>,
  ): Workflow<TName, TSchema, WithStep<TOutputs, TStep, StepValue<undefined, TOutput>>>;

  /**
   * Adds a step. `dependsOn` accepts only steps defined earlier, and the handler's
   * `ctx.deps` holds exactly their outputs. Throws a `SpecValidationError` with the
   * RF code SQL would raise when an option is invalid.
   */
  step<
    const TStep extends string,
    const TDeps extends readonly (keyof TOutputs & string)[] = [],
    TIf extends string | undefined = undefined,
    TOutput = unknown,
  >(
    name: NewStepName<TStep, TOutputs>,
    options: StepOptions<TDeps, TIf>,
    handler: StepHandler<InputOf<TSchema>, DepsOf<TOutputs, TDeps>, TOutput>,
  ): Workflow<TName, TSchema, WithStep<TOutputs, TStep, StepValue<TIf, TOutput>>>;

  /**
   * Adds a map step: its handler runs once per element of the array `over` names
   * (each element its own step run, with its own attempts and timeout), and
   * dependents see the outputs as an array in element order. `ctx.input` is the
   * element (typed by `element`, or by the array's type when `over` is
   * `$.input.<key>` or `$.steps.<dependency>.<key>`), `ctx.step.index` its index,
   * and `ctx.deps` is empty.
   */
  map<
    const TStep extends string,
    const TDeps extends readonly (keyof TOutputs & string)[] = [],
    const TOver extends string = string,
    TIf extends string | undefined = undefined,
    TElement extends z.ZodType | undefined = undefined,
    const TErrors extends MapErrors | undefined = undefined,
    TOutput = unknown,
  >(
    name: NewStepName<TStep, TOutputs>,
    options: MapOptions<TDeps, TOver, TIf, TElement, TErrors>,
    handler: StepHandler<
      ElementInput<TElement, TOver, InputOf<TSchema>, TOutputs>,
      NoSteps,
      TOutput
    >,
  ): Workflow<TName, TSchema, WithStep<TOutputs, TStep, MapValue<TIf, TErrors, TOutput>>>;

  /**
   * Adds a step that waits for a named signal (`rowflow.signal`, `client.signal`,
   * `rowflow signal`), holding no worker; the signal's payload is its output,
   * typed by `payload` in dependents' `ctx.deps`.
   */
  wait<
    const TStep extends string,
    const TDeps extends readonly (keyof TOutputs & string)[] = [],
    TIf extends string | undefined = undefined,
    TPayload extends z.ZodType | undefined = undefined,
    const TOn extends OnTimeout | undefined = undefined,
  >(
    name: NewStepName<TStep, TOutputs>,
    options: WaitOptions<TDeps, TIf, TPayload, TOn>,
  ): Workflow<TName, TSchema, WithStep<TOutputs, TStep, WaitValue<TIf, TPayload, TOn>>>;

  /**
   * Adds a step that waits for a row of a business table matching `where`
   * (checked when it is reached, then on every change to the table), holding
   * no worker; the row is its output, typed by `row` in dependents' `ctx.deps`.
   */
  waitFor<
    const TStep extends string,
    const TDeps extends readonly (keyof TOutputs & string)[] = [],
    TIf extends string | undefined = undefined,
    TRow extends z.ZodType | undefined = undefined,
    const TOn extends OnTimeout | undefined = undefined,
  >(
    name: NewStepName<TStep, TOutputs>,
    options: WaitForOptions<TDeps, TIf, TRow, TOn>,
  ): Workflow<TName, TSchema, WithStep<TOutputs, TStep, WaitValue<TIf, TRow, TOn>>>;

  /**
   * Adds a task for a person (`rowflow.tasks`, `rowflow.complete_task`), holding
   * no worker; their answer, checked against the form, is its output, typed by
   * `answer` in dependents' `ctx.deps`.
   */
  human<
    const TStep extends string,
    const TDeps extends readonly (keyof TOutputs & string)[] = [],
    TIf extends string | undefined = undefined,
    TAnswer extends z.ZodType | undefined = undefined,
    const TOn extends OnTimeout | undefined = undefined,
  >(
    name: NewStepName<TStep, TOutputs>,
    options: HumanOptions<TDeps, TIf, TAnswer, TOn>,
  ): Workflow<TName, TSchema, WithStep<TOutputs, TStep, WaitValue<TIf, TAnswer, TOn>>>;

  /**
   * Adds a step that starts a run of `workflow` (a name, or a workflow from
   * `defineWorkflow`; its latest version when the step is reached) with the
   * input at `options.input`, and waits for it holding no worker. The child's
   * output (its final steps' outputs by name) is this step's, typed by
   * `output` in dependents' `ctx.deps`; a failed child fails the attempt.
   */
  child<
    const TStep extends string,
    const TDeps extends readonly (keyof TOutputs & string)[] = [],
    TIf extends string | undefined = undefined,
    TOutput extends z.ZodType | undefined = undefined,
  >(
    name: NewStepName<TStep, TOutputs>,
    workflow: string | { readonly name: string },
    options?: ChildOptions<TDeps, TIf, TOutput>,
  ): Workflow<TName, TSchema, WithStep<TOutputs, TStep, ChildValue<TIf, TOutput>>>;
}

/**
 * Any workflow, whatever its types: what the worker, `syncWorkflows` and
 * `generate-migration` accept. (A `Workflow<…>` with concrete types is not
 * assignable to `Workflow` itself because of its generic `step` method.)
 */
export type AnyWorkflow = Omit<Workflow, "step" | "map" | "wait" | "waitFor" | "human" | "child">;

/** The input handlers of `W` see. */
export type WorkflowInput<W extends AnyWorkflow> = NonNullable<W["~types"]>["input"];
/** The input runs of `W` are started with (the schema's input type). */
export type WorkflowStartInput<W extends AnyWorkflow> = NonNullable<W["~types"]>["startInput"];
/** The step outputs of `W` by step name, as JSON. */
export type WorkflowOutputs<W extends AnyWorkflow> = NonNullable<W["~types"]>["outputs"];
