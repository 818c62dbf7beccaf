/**
 * The JSON Schema of a workflow spec, generated from the zod schema
 * (`scripts/gen-spec-schema.ts` writes it to docs/spec.schema.json).
 *
 * JSON Schema cannot express the graph rules (duplicate step, unknown
 * dependency, self-dependency, cycle) nor the path-expression check; editors get
 * the shape, names, intervals and ranges, and define_workflow does the rest.
 */
import { z } from "zod";

import { specMetadata, workflowSpecSchema } from "./spec-schema.js";

/** Returns the JSON Schema (draft 2020-12) of the spec as written (defaults optional). */
export function specJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(workflowSpecSchema, {
    target: "draft-2020-12",
    io: "input",
    metadata: specMetadata,
    unrepresentable: "throw",
  });
  return { ...schema };
}

/**
 * The schema as committed in docs/spec.schema.json: formatted by Prettier (with
 * the repository's config) when it is installed, so `prettier --check` agrees.
 */
export async function renderSpecJsonSchema(): Promise<string> {
  const text = `${JSON.stringify(specJsonSchema(), null, 2)}\n`;
  // Prettier is a dev dependency: without it the output is plain JSON.stringify.
  const prettier = await import("prettier").catch(() => undefined);
  if (prettier === undefined) return text;
  const config = await prettier.resolveConfig("docs/spec.schema.json");
  return prettier.format(text, { ...config, parser: "json" });
}
