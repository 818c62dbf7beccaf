// Compares two schema descriptions object by object and prints the
// differences as unified diffs of each object's canonical definition.
import { createTwoFilesPatch } from "diff";

import type { SchemaDescription, SchemaObject } from "./describe-schema.js";

/** One object that is not the same in both descriptions. */
export interface SchemaDifference {
  key: string;
  /** Only in the expected side, only in the actual side, or in both but different. */
  kind: "missing" | "extra" | "changed";
  expected: SchemaObject | undefined;
  actual: SchemaObject | undefined;
}

/** The objects that differ, in key order. */
export function compareSchemas(
  expected: SchemaDescription,
  actual: SchemaDescription,
): SchemaDifference[] {
  const keys = [...new Set([...expected.keys(), ...actual.keys()])].sort();
  const differences: SchemaDifference[] = [];
  for (const key of keys) {
    const a = expected.get(key);
    const b = actual.get(key);
    if (a && b && a.def === b.def) continue;
    differences.push({
      key,
      kind: !b ? "missing" : !a ? "extra" : "changed",
      expected: a,
      actual: b,
    });
  }
  return differences;
}

/** Names for the two sides in messages, e.g. "sql/migrations" and "sql/schema". */
export interface SideLabels {
  expected: string;
  actual: string;
}

/** A readable report: one paragraph per object, with a unified diff of its definition. */
export function formatDifferences(
  differences: readonly SchemaDifference[],
  labels: SideLabels,
): string {
  return differences
    .map((difference) => {
      const headline =
        difference.kind === "missing"
          ? `${difference.key}: in ${labels.expected}, not in ${labels.actual}`
          : difference.kind === "extra"
            ? `${difference.key}: in ${labels.actual}, not in ${labels.expected}`
            : `${difference.key}: differs`;
      const patch = createTwoFilesPatch(
        labels.expected,
        labels.actual,
        `${difference.expected?.def ?? ""}\n`,
        `${difference.actual?.def ?? ""}\n`,
        undefined,
        undefined,
        { context: 3 },
      );
      // Drop the "===" and file header lines: the headline names the object.
      const body = patch.split("\n").slice(3).join("\n").trimEnd();
      return `${headline}\n${body}`;
    })
    .join("\n\n");
}
