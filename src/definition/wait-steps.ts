/**
 * The specs of the DSL's wait steps (`.wait()`, `.human()`): the options
 * given, in spec order, nothing added (docs/spec.md, "Waits"). A human step's
 * form is its `form`, else the JSON Schema of its `answer` (zod's
 * toJSONSchema, without `$schema`), which must stay within the subset SQL
 * enforces (docs/forms.md).
 */
import { z } from "zod";

import { SpecErrorCodes } from "./error-codes.js";
import { formProblem } from "./form-problem.js";
import { SpecValidationError } from "./spec-error.js";
import type { StepSpec } from "./spec-schema.js";
import type { HumanOptions, WaitForOptions, WaitOptions } from "./wait-options.js";

type Entries = [string, unknown][];

function common(options: WaitOptions | HumanOptions | WaitForOptions): Entries {
  return [
    ["dependsOn", options.dependsOn === undefined ? undefined : [...options.dependsOn]],
    ["priority", options.priority],
    ["delay", options.delay],
    ["if", options.if],
    ["startAt", typeof options.startAt === "object" ? { ...options.startAt } : options.startAt],
  ];
}

function compact(entries: Entries): Record<string, unknown> {
  return Object.fromEntries(entries.filter(([, value]) => value !== undefined));
}

/** The spec of `.wait(name, options)`. */
export function waitStepSpec(name: string, options: WaitOptions): StepSpec {
  const { signal, timeout, onTimeout } = options;
  return compact([
    ["name", name],
    ...common(options),
    [
      "wait",
      compact([
        ["signal", signal],
        ["timeout", timeout],
        ["onTimeout", onTimeout],
      ]),
    ],
    ...unknownKeys(options, ["payload", "signal", "timeout", "onTimeout"]),
  ]) as StepSpec;
}

/** The spec of `.waitFor(name, options)`. */
export function waitForStepSpec(name: string, options: WaitForOptions): StepSpec {
  const { table, where, timeout, onTimeout } = options;
  return compact([
    ["name", name],
    ...common(options),
    [
      "waitFor",
      compact([
        ["table", table],
        ["where", where],
        ["timeout", timeout],
        ["onTimeout", onTimeout],
      ]),
    ],
    ...unknownKeys(options, ["row", "table", "where", "timeout", "onTimeout"]),
  ]) as StepSpec;
}

/** The spec of `.human(name, options)`. */
export function humanStepSpec(
  workflow: string,
  index: number,
  name: string,
  options: HumanOptions,
): StepSpec {
  const form =
    options.form ??
    (options.answer === undefined ? undefined : answerForm(workflow, index, options.answer));
  return compact([
    ["name", name],
    ...common(options),
    [
      "human",
      compact([
        ["assignee", options.assignee],
        ["title", options.title],
        ["description", options.description],
        ["form", form],
        ["due", options.due],
        ["escalateTo", options.escalateTo],
        ["onTimeout", options.onTimeout],
      ]),
    ],
    ...unknownKeys(options, [
      "assignee",
      "title",
      "description",
      "answer",
      "form",
      "due",
      "escalateTo",
      "onTimeout",
    ]),
  ]) as StepSpec;
}

function answerForm(workflow: string, index: number, answer: z.ZodType): Record<string, unknown> {
  const { $schema: _ignored, ...form } = z.toJSONSchema(answer, { io: "input" }) as Record<
    string,
    unknown
  >;
  const problem = formProblem(form);
  if (problem === null) return form;
  const path = ["steps", index, "human", "form"];
  throw new SpecValidationError(
    [
      {
        code: SpecErrorCodes.invalidSpec,
        path,
        message: `the JSON Schema of "answer" is outside the forms' subset (${problem}); give "form" explicitly (docs/forms.md)`,
      },
    ],
    { workflow },
  );
}

/** Keys a JavaScript caller passed that no wait step has: kept, so that validation reports them (RF002). */
function unknownKeys(options: object, own: readonly string[]): Entries {
  const known = new Set([...own, "dependsOn", "priority", "delay", "if", "startAt"]);
  return Object.entries(options).filter(([key]) => !known.has(key));
}
