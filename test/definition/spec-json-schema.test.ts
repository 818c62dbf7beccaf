import { readFile } from "node:fs/promises";

import { describe, expect, test } from "vitest";

import { renderSpecJsonSchema, specJsonSchema } from "../../src/definition/index.js";

describe("docs/spec.schema.json", () => {
  test("is up to date (regenerate: npx tsx scripts/gen-spec-schema.ts)", async () => {
    const committed = await readFile(
      new URL("../../docs/spec.schema.json", import.meta.url),
      "utf8",
    );
    expect(committed).toBe(await renderSpecJsonSchema());
  });

  test("describes every value: no schema left empty by an unrepresentable zod type", () => {
    const empty: string[] = [];
    const walk = (node: unknown, path: string): void => {
      if (typeof node !== "object" || node === null) return;
      if (!Array.isArray(node) && Object.keys(node).length === 0) empty.push(path);
      for (const [key, value] of Object.entries(node)) {
        if (key !== "default") walk(value, `${path}/${key}`);
      }
    };
    walk(specJsonSchema(), "#");
    expect(empty).toEqual([]);
  });

  test("has the shape editors need", () => {
    const schema = specJsonSchema() as {
      required: string[];
      additionalProperties: boolean;
      $defs: Record<string, { required?: string[]; properties?: Record<string, unknown> }>;
    };
    expect(schema.required).toEqual(["steps"]);
    expect(schema.additionalProperties).toBe(false);
    expect(schema.$defs["Step"]?.required).toEqual(["name"]);
    expect(Object.keys(schema.$defs["Step"]?.properties ?? {})).toEqual([
      "name",
      "task",
      "dependsOn",
      "attempts",
      "backoff",
      "timeout",
      "priority",
      "queue",
      "delay",
      "if",
      "compensate",
      "startAt",
      "wait",
      "human",
      "waitFor",
      "child",
      "map",
      "mapErrors",
    ]);
  });
});
