/**
 * `defineWorkflow`: the TypeScript DSL that builds a workflow spec together with
 * its task handlers. The spec is validated step by step with the same rules as
 * SQL, so a mistake throws at the `.step()` call that made it.
 */
import { type AttachmentOptions, parseAttachments } from "./attachment.js";
import type { ChildOptions } from "./child-options.js";
import { childStepSpec } from "./child-step.js";
import { SpecErrorCodes } from "./error-codes.js";
import type { InputSchema } from "./input-schema.js";
import type { MapOptions } from "./map-options.js";
import { SpecValidationError } from "./spec-error.js";
import { formatPath } from "./spec-issues.js";
import type { StepSpec, WorkflowSpec } from "./spec-schema.js";
import type { StepOptions } from "./step-options.js";
import type { TaskDefinition, TaskHandler } from "./task.js";
import { assertTaskName } from "./task-name.js";
import { validateSpec } from "./validate-spec.js";
import type { HumanOptions, WaitForOptions, WaitOptions } from "./wait-options.js";
import { humanStepSpec, waitForStepSpec, waitStepSpec } from "./wait-steps.js";
import type { NoSteps, Workflow, WorkflowOptions } from "./workflow-types.js";

interface State {
  readonly name: string;
  readonly input: InputSchema | undefined;
  readonly header: Omit<WorkflowSpec, "steps">;
  readonly steps: readonly StepSpec[];
  readonly tasks: Readonly<Record<string, TaskDefinition>>;
  readonly attachments: readonly AttachmentOptions[];
}

/**
 * Starts a workflow definition; add steps with `.step()`. Throws a
 * `SpecValidationError` for an invalid name, description, onFailure or `on`.
 *
 * @example
 * const orders = defineWorkflow({ name: "order", input: z.object({ id: z.number() }) })
 *   .step("validate", async (ctx) => ({ ok: ctx.input.id > 0 }))
 *   .step("charge", { dependsOn: ["validate"] }, async (ctx) => ({ charged: ctx.deps.validate.ok }));
 */
export function defineWorkflow<
  const TName extends string,
  TSchema extends InputSchema | undefined = undefined,
>(options: WorkflowOptions<TName, TSchema>): Workflow<TName, TSchema, NoSteps> {
  let tasks: Readonly<Record<string, TaskDefinition>> = {};
  let onFailure: string | undefined;
  if (typeof options.onFailure === "object") {
    assertTaskName(options.onFailure.name, ["onFailure"]);
    onFailure = options.onFailure.name;
    tasks = { [onFailure]: options.onFailure };
  } else onFailure = options.onFailure;
  const header = {
    name: options.name,
    ...(options.description === undefined ? {} : { description: options.description }),
    ...(onFailure === undefined ? {} : { onFailure }),
  };
  // Check the header alone: every rule but "no steps" applies.
  const result = validateSpec({ ...header, steps: [] }, { name: options.name });
  const issues = result.ok
    ? []
    : result.error.issues.filter((i) => i.code !== SpecErrorCodes.emptyWorkflow);
  const [first, ...rest] = issues;
  if (first !== undefined)
    throw new SpecValidationError([first, ...rest], { workflow: options.name });
  const state: State = {
    name: options.name,
    input: options.input,
    header,
    steps: [],
    tasks,
    attachments: parseAttachments(options.on, options.name),
  };
  return build(state) as unknown as Workflow<TName, TSchema, NoSteps>;
}

/**
 * The runtime object. Its generic types are carried by the `Workflow` interface
 * alone (they do not exist at runtime), hence the cast in `defineWorkflow`.
 */
function build(state: State): Workflow {
  const spec: WorkflowSpec = deepFreeze({ ...state.header, steps: [...state.steps] });
  return Object.freeze({
    name: state.name,
    spec,
    tasks: Object.freeze({ ...state.tasks }),
    input: state.input,
    attachments: state.attachments,
    step(name: string, optionsOrHandler: StepOptions | TaskHandler, maybeHandler?: TaskHandler) {
      const options = typeof optionsOrHandler === "function" ? {} : optionsOrHandler;
      const handler = typeof optionsOrHandler === "function" ? optionsOrHandler : maybeHandler;
      return build(addStep(state, name, options, handler));
    },
    map(name: string, options: MapOptions, handler: TaskHandler) {
      const { over, element, mapErrors, ...stepOptions } = options;
      const map = { map: over, mapErrors, input: element as InputSchema | undefined };
      return build(addStep(state, name, stepOptions, handler, map));
    },
    wait(name: string, options: WaitOptions) {
      return build(addWaitStep(state, waitStepSpec(name, options)));
    },
    waitFor(name: string, options: WaitForOptions) {
      return build(addWaitStep(state, waitForStepSpec(name, options)));
    },
    child(name: string, workflow: string | { readonly name: string }, options?: ChildOptions) {
      return build(addWaitStep(state, childStepSpec(name, workflow, options ?? {})));
    },
    human(name: string, options: HumanOptions) {
      return build(
        addWaitStep(state, humanStepSpec(state.name, state.steps.length, name, options)),
      );
    },
  }) as unknown as Workflow;
}

/** A step without a handler (a wait): validated as `.step()`'s, no task to register. */
function addWaitStep(state: State, step: StepSpec): State {
  const steps = [...state.steps, step];
  const result = validateSpec({ ...state.header, steps }, { name: state.name });
  if (!result.ok) throw result.error;
  return { ...state, steps };
}

/** A map step's spec options, and the schema its task parses each element with. */
interface MapPart {
  readonly map: string;
  readonly mapErrors: string | undefined;
  readonly input: InputSchema | undefined;
}

function addStep(
  state: State,
  name: string,
  options: StepOptions,
  handler: TaskHandler | undefined,
  map?: MapPart,
): State {
  const index = state.steps.length;
  if (typeof handler !== "function") {
    throw new TypeError(`workflow "${state.name}", step "${name}": a handler function is required`);
  }
  const task = options.task ?? name;
  const compensate = typeof options.compensate === "object" ? options.compensate : undefined;
  if (compensate !== undefined) assertTaskName(compensate.name, ["steps", index, "compensate"]);
  const compensateName = compensate?.name ?? (options.compensate as string | undefined);
  const step = stepSpec(name, task, options, compensateName, map);
  const steps = [...state.steps, step];
  const result = validateSpec({ ...state.header, steps }, { name: state.name });
  if (!result.ok) throw result.error;

  const tasks: Record<string, TaskDefinition> = { ...state.tasks };
  // A map element's input is its element, not the run input.
  const input = map === undefined ? state.input : map.input;
  registerTask(tasks, { name: task, input, handler }, state.name, ["steps", index, "task"]);
  if (compensate !== undefined)
    registerTask(tasks, compensate, state.name, ["steps", index, "compensate"]);
  return { ...state, steps, tasks };
}

/** The step's spec: the options given, in spec order, nothing added but `task`. */
function stepSpec(
  name: string,
  task: string,
  options: StepOptions,
  compensate: string | undefined,
  map: MapPart | undefined,
): StepSpec {
  const entries: [string, unknown][] = [
    ["name", name],
    ["task", task],
    ["dependsOn", options.dependsOn === undefined ? undefined : [...options.dependsOn]],
    ["attempts", options.attempts],
    ["backoff", options.backoff === undefined ? undefined : { ...options.backoff }],
    ["timeout", options.timeout],
    ["priority", options.priority],
    ["queue", typeof options.queue === "object" ? { ...options.queue } : options.queue],
    ["delay", options.delay],
    ["if", options.if],
    ["startAt", typeof options.startAt === "object" ? { ...options.startAt } : options.startAt],
    ["compensate", compensate],
    ["map", map?.map],
    ["mapErrors", map?.mapErrors],
  ];
  // Unknown keys (from JavaScript callers) are kept so that validation reports them (RF002).
  const known = new Set(entries.map(([key]) => key));
  for (const [key, value] of Object.entries(options))
    if (!known.has(key)) entries.push([key, value]);
  return Object.fromEntries(entries.filter(([, value]) => value !== undefined)) as StepSpec;
}

function registerTask(
  tasks: Record<string, TaskDefinition>,
  task: TaskDefinition,
  workflow: string,
  path: readonly (string | number)[],
): void {
  const existing = tasks[task.name];
  if (existing === undefined) {
    tasks[task.name] = Object.freeze({ ...task });
    return;
  }
  if (existing.handler === task.handler) return;
  throw new SpecValidationError(
    [
      {
        code: SpecErrorCodes.invalidSpec,
        path,
        message: `${formatPath(path)}: task "${task.name}" already has a different handler in this workflow; give this step its own task name or reuse the same handler`,
      },
    ],
    { workflow },
  );
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
