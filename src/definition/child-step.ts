/**
 * The spec of the DSL's child step (`.child()`): the options given, in spec
 * order, nothing added (docs/spec.md, "Child workflows").
 */
import type { ChildOptions } from "./child-options.js";
import type { StepSpec } from "./spec-schema.js";

/** The spec of `.child(name, workflow, options)`. */
export function childStepSpec(
  name: string,
  workflow: string | { readonly name: string },
  options: ChildOptions,
): StepSpec {
  const entries: [string, unknown][] = [
    ["name", name],
    ["dependsOn", options.dependsOn === undefined ? undefined : [...options.dependsOn]],
    ["attempts", options.attempts],
    ["backoff", options.backoff === undefined ? undefined : { ...options.backoff }],
    ["priority", options.priority],
    ["delay", options.delay],
    ["if", options.if],
    ["startAt", typeof options.startAt === "object" ? { ...options.startAt } : options.startAt],
    [
      "child",
      Object.fromEntries(
        [
          ["workflow", typeof workflow === "string" ? workflow : workflow.name],
          ["input", options.input],
        ].filter(([, value]) => value !== undefined),
      ),
    ],
  ];
  // Unknown keys (from JavaScript callers) are kept so that validation reports them (RF002).
  const known = new Set([...entries.map(([key]) => key), "input", "output"]);
  for (const [key, value] of Object.entries(options))
    if (!known.has(key)) entries.push([key, value]);
  return Object.fromEntries(entries.filter(([, value]) => value !== undefined)) as StepSpec;
}
