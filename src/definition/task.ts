/**
 * Task handlers for the worker's registry, standalone (`defineTask`) or produced
 * by `defineWorkflow` (one per step task).
 */
import type { AnyDeps, AnyInput, HandlerContext } from "./handler-context.js";
import type { InputOf, InputSchema } from "./input-schema.js";
import { assertTaskName } from "./task-name.js";

/** A handler: its return value (JSON) becomes the step output. */
export type TaskHandler<TInput = AnyInput, TDeps = AnyDeps, TOutput = unknown> = (
  ctx: HandlerContext<TInput, TDeps>,
) => TOutput | Promise<TOutput>;

/** A task as the worker registers it. */
export interface TaskDefinition<TInput = AnyInput, TDeps = AnyDeps, TOutput = unknown> {
  /** Task identifier, the `task` of the steps it runs. */
  readonly name: string;
  /**
   * Schema the worker parses `ctx.input` with before calling the handler; a parse
   * failure fails the attempt without retry. `undefined`: the input is passed as is.
   */
  readonly input: InputSchema | undefined;
  /** The handler. (Method syntax on purpose: any task fits a registry of `TaskDefinition`.) */
  handler(ctx: HandlerContext<TInput, TDeps>): TOutput | Promise<TOutput>;
}

/** Options of `defineTask`. */
export interface TaskOptions<TSchema extends InputSchema | undefined = undefined> {
  /** Schema of the run input, parsed by the worker before the handler runs. (Default: none) */
  readonly input?: TSchema;
}

/**
 * Defines a standalone task (used by steps declared in SQL, compensations and
 * onFailure). Throws a `SpecValidationError` (RF004) for an invalid task name.
 */
export function defineTask<TOutput>(
  name: string,
  handler: TaskHandler<AnyInput, AnyDeps, TOutput>,
): TaskDefinition<AnyInput, AnyDeps, TOutput>;
export function defineTask<TSchema extends InputSchema | undefined, TOutput>(
  name: string,
  options: TaskOptions<TSchema>,
  handler: TaskHandler<InputOf<TSchema>, AnyDeps, TOutput>,
): TaskDefinition<InputOf<TSchema>, AnyDeps, TOutput>;
export function defineTask(
  name: string,
  optionsOrHandler: TaskOptions<InputSchema | undefined> | TaskHandler,
  maybeHandler?: TaskHandler,
): TaskDefinition {
  const options = typeof optionsOrHandler === "function" ? {} : optionsOrHandler;
  const handler = typeof optionsOrHandler === "function" ? optionsOrHandler : maybeHandler;
  if (handler === undefined)
    throw new TypeError(`defineTask("${name}"): a handler function is required`);
  assertTaskName(name, []);
  return Object.freeze({ name, input: options.input, handler });
}
