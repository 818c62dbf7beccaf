import { describe, expect, test } from "vitest";

import {
  DEFINE_WORKFLOW_SQL,
  defineWorkflow,
  SpecValidationError,
  type SqlQueryable,
  syncWorkflows,
} from "../../src/definition/index.js";
import { RowflowError, RowflowSqlError } from "../../src/errors.js";

function fakeDb(respond: (values: unknown[]) => { rows: unknown[] }) {
  const calls: { text: string; values: unknown[] }[] = [];
  const db: SqlQueryable = {
    query: async (text, values = []) => {
      calls.push({ text, values });
      return respond(values);
    },
  };
  return { db, calls };
}

const a = defineWorkflow({ name: "a" }).step("one", () => 1);
const b = defineWorkflow({ name: "b" }).step("two", { attempts: 2 }, () => 2);

describe("syncWorkflows", () => {
  test("defines a child step's workflow before the workflow that starts it, answering in input order", async () => {
    const child = defineWorkflow({ name: "child" }).step("c", () => 1);
    const parent = defineWorkflow({ name: "parent" }).child("run-child", child);
    const self = defineWorkflow({ name: "self" }).child("again", "self");
    const { db, calls } = fakeDb(() => ({ rows: [{ version: 1 }] }));
    await expect(syncWorkflows(db, [parent, self, child])).resolves.toEqual([
      { name: "parent", version: 1 },
      { name: "self", version: 1 },
      { name: "child", version: 1 },
    ]);
    expect(calls.map((c) => c.values[0])).toEqual(["child", "parent", "self"]);
  });

  test("calls define_workflow once per workflow, in order, and returns the versions", async () => {
    const versions: Record<string, number> = { a: 1, b: 4 };
    const { db, calls } = fakeDb(([name]) => ({ rows: [{ version: versions[String(name)] }] }));
    await expect(syncWorkflows(db, [a, b])).resolves.toEqual([
      { name: "a", version: 1 },
      { name: "b", version: 4 },
    ]);
    expect(DEFINE_WORKFLOW_SQL).toBe(
      "select rowflow.define_workflow(name => $1, spec => $2::jsonb) as version",
    );
    expect(calls).toEqual([
      { text: DEFINE_WORKFLOW_SQL, values: ["a", JSON.stringify(a.spec)] },
      { text: DEFINE_WORKFLOW_SQL, values: ["b", JSON.stringify(b.spec)] },
    ]);
  });

  test("accepts plain specs", async () => {
    const { db } = fakeDb(() => ({ rows: [{ version: 2 }] }));
    await expect(
      syncWorkflows(db, [{ name: "c", spec: { steps: [{ name: "x", task: "t" }] } }]),
    ).resolves.toEqual([{ name: "c", version: 2 }]);
  });

  test("validates everything before writing anything", async () => {
    const { db, calls } = fakeDb(() => ({ rows: [{ version: 1 }] }));
    const empty = defineWorkflow({ name: "empty" });
    const error = await syncWorkflows(db, [a, empty]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SpecValidationError);
    expect(error).toMatchObject({ code: "RF003", workflow: "empty" });
    expect(calls).toEqual([]);
  });

  test("rejects a workflow listed twice", async () => {
    const { db, calls } = fakeDb(() => ({ rows: [{ version: 1 }] }));
    await expect(syncWorkflows(db, [a, a])).rejects.toThrow('workflow "a" is listed twice');
    expect(calls).toEqual([]);
  });

  test("turns an RF error from SQL into a RowflowSqlError", async () => {
    const pgError = Object.assign(new Error('workflow "a" has no steps'), { code: "RF003" });
    const db: SqlQueryable = { query: async () => Promise.reject(pgError) };
    const error = await syncWorkflows(db, [a]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RowflowSqlError);
    expect(error).toMatchObject({ code: "RF003", cause: pgError });
  });

  test("an unexpected result is an error, not a made-up version", async () => {
    const { db } = fakeDb(() => ({ rows: [] }));
    const error = await syncWorkflows(db, [a]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RowflowError);
    expect(error).toMatchObject({ code: "RF_UNEXPECTED" });
  });
});
