/**
 * The worker's handlers by task name. A task is a bare handler function or an
 * object with an optional zod schema for the run input; definitions made with
 * the DSL (`defineTask`) have that shape too.
 */
import type { AnyDeps, AnyInput, HandlerContext } from "../definition/handler-context.js";

/** Validates (and may transform) the run input before the handler sees it; zod schemas fit. */
export interface InputSchema<T = unknown> {
  safeParse(
    value: unknown,
  ): { success: true; data: T } | { success: false; error: { message: string } };
}

/** A step handler: its return value (JSON) is the step output. */
export type TaskHandler<TInput = AnyInput, TDeps = AnyDeps, TOutput = unknown> = (
  ctx: HandlerContext<TInput, TDeps>,
) => TOutput | Promise<TOutput>;

/** A handler with an optional input schema. */
export interface TaskDefinition<TInput = AnyInput, TDeps = AnyDeps, TOutput = unknown> {
  /** Task name; when the definition is given in a map, the map key is used if this is absent. */
  readonly name?: string | undefined;
  /** Schema the run input must satisfy; a mismatch fails the step without retry. (Default: none) */
  readonly input?: InputSchema<TInput> | undefined;
  readonly handler: TaskHandler<TInput, TDeps, TOutput>;
}

// Handlers are stored type-erased: each one declares its own input/deps types
// (checked where it is written), and the registry only calls them.
/* eslint-disable @typescript-eslint/no-explicit-any */
type AnyTaskHandler = TaskHandler<any, any>;
type AnyTaskDefinition = TaskDefinition<any, any>;
/* eslint-enable @typescript-eslint/no-explicit-any */

/** What `tasks` accepts: `{ "charge-card": handler }`, `{ "charge-card": { input, handler } }`, or a list of named definitions. */
export type TaskMap =
  | Readonly<Record<string, AnyTaskHandler | AnyTaskDefinition>>
  | readonly (AnyTaskDefinition & { readonly name: string })[];

/** A task after normalisation. */
export interface RegisteredTask {
  readonly name: string;
  readonly input: InputSchema | undefined;
  readonly handler: TaskHandler<unknown, unknown>;
}

/** Builds the registry; throws on a duplicate name or an entry without a handler. */
export function buildTaskRegistry(
  sources: readonly (TaskMap | undefined)[],
): Map<string, RegisteredTask> {
  const registry = new Map<string, RegisteredTask>();
  const add = (name: string, entry: unknown) => {
    const task = normalise(name, entry);
    if (registry.has(task.name) && registry.get(task.name)?.handler !== task.handler) {
      throw new TypeError(`task "${task.name}" is registered twice with different handlers`);
    }
    registry.set(task.name, task);
  };
  for (const source of sources) {
    if (!source) continue;
    if (Array.isArray(source)) {
      for (const entry of source as readonly { name?: unknown }[]) {
        if (typeof entry?.name !== "string") throw new TypeError("a task in a list needs a name");
        add(entry.name, entry);
      }
    } else {
      for (const [name, entry] of Object.entries(source)) add(name, entry);
    }
  }
  return registry;
}

function normalise(key: string, entry: unknown): RegisteredTask {
  if (typeof entry === "function") {
    return { name: key, input: undefined, handler: entry as TaskHandler<unknown, unknown> };
  }
  const definition = entry as Partial<TaskDefinition<unknown, unknown>> | null;
  if (!definition || typeof definition.handler !== "function") {
    throw new TypeError(`task "${key}" must be a handler function or { handler, input? }`);
  }
  return {
    name: typeof definition.name === "string" ? definition.name : key,
    input: definition.input as InputSchema | undefined,
    handler: definition.handler,
  };
}
