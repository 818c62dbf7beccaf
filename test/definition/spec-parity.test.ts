/**
 * Parity of the zod schema with `rowflow.define_workflow`: for every case of
 * spec-cases.ts, SQL raises the same RF code that `validateSpec` reports first,
 * and accepts what it accepts.
 */
import { describe, expect, test } from "vitest";

import { DEFINE_WORKFLOW_SQL, validateSpec } from "../../src/definition/index.js";
import { useTestDatabase } from "../helpers/db.js";
import { invalidCases, oneStep, sqlOnlyPathCases, validCases } from "./spec-cases.js";

const db = useTestDatabase();

async function sqlCode(name: string, spec: unknown): Promise<string> {
  return db.rollback(async (client) => {
    try {
      await client.query(DEFINE_WORKFLOW_SQL, [name, JSON.stringify(spec)]);
      return "ok";
    } catch (error) {
      return String((error as { code?: unknown }).code);
    }
  });
}

describe("zod and define_workflow agree", () => {
  test.each(invalidCases)("$code $title", async ({ spec, code, name }) => {
    const result = validateSpec(spec, { name: name ?? "wf" });
    expect(result.ok ? "ok" : result.error.code).toBe(code);
    expect(await sqlCode(name ?? "wf", spec)).toBe(code);
  });

  test.each(validCases)("both accept: $title", async ({ spec }) => {
    expect(validateSpec(spec, { name: "wf" }).ok).toBe(true);
    expect(await sqlCode("wf", spec)).toBe("ok");
  });

  test.each(sqlOnlyPathCases)("SQL alone rejects the path %s (RF009)", async (expression) => {
    expect(await sqlCode("wf", oneStep({ if: expression }))).toBe("RF009");
  });
});
