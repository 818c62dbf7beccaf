// jsonTextSize counts what Postgres counts for octet_length(value::jsonb::text),
// so the TypeScript spec-size check agrees with define_workflow's.
import { expect, it } from "vitest";

import { jsonTextSize } from "../../src/definition/json-text-size.js";
import { useTestDatabase } from "../helpers/db.js";

const db = useTestDatabase();

it("matches Postgres' jsonb text length", async () => {
  const samples: unknown[] = [
    {},
    [],
    { a: 1, b: [1, 2, 3], c: { d: null, e: true, f: "x" } },
    {
      steps: [
        { name: "a", task: "t", dependsOn: [] },
        { name: "b", task: "t", dependsOn: ["a"] },
      ],
    },
    { text: 'quote " backslash \\ newline \n tab \t é 漢字 😀' },
    [[[]], [{}], { nested: [{ deep: [1, { x: "y" }] }] }],
    { jitter: 0.25, attempts: 1000, priority: -5 },
  ];
  for (const sample of samples) {
    const { rows } = await db.query<{ n: number }>("select octet_length($1::jsonb::text) as n", [
      JSON.stringify(sample),
    ]);
    expect(jsonTextSize(sample), JSON.stringify(sample)).toBe(rows[0]!.n);
  }
});
