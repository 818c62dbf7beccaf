/**
 * The form validator (docs/forms.md): rowflow._form_errors / _form_problem
 * and formErrors / formProblem give the same answers, message for message,
 * for every case of form-cases.ts. All cases run in one query per function.
 */
import { beforeAll, describe, expect, it, test } from "vitest";

import { formErrors, formProblem } from "../../../src/definition/index.js";
import { useTestDatabase } from "../../helpers/db.js";
import { errorCases, nested, problemCases } from "./form-cases.js";
import { randomCases } from "./form-random.js";

const db = useTestDatabase();

let sqlErrors: string[][];
let sqlProblems: Array<string | null>;

beforeAll(async () => {
  const errors = await db.query<{ errors: string[] }>(
    `select rowflow._form_errors(c -> 'form', c -> 'value') as errors
     from jsonb_array_elements($1::jsonb) with ordinality as t(c, i) order by i`,
    [JSON.stringify(errorCases.map(({ form, value }) => ({ form, value })))],
  );
  sqlErrors = errors.rows.map((r) => r.errors);
  const problems = await db.query<{ problem: string | null }>(
    `select rowflow._form_problem(c) as problem
     from jsonb_array_elements($1::jsonb) with ordinality as t(c, i) order by i`,
    [JSON.stringify(problemCases.map(({ form }) => form))],
  );
  sqlProblems = problems.rows.map((r) => r.problem);
});

describe("an answer against its form: SQL and TypeScript list the same errors", () => {
  test.each(errorCases.map((c, i) => ({ ...c, i })))("$title", ({ form, value, errors, i }) => {
    expect(formProblem(form)).toBeNull();
    expect(sqlErrors[i]).toEqual(errors);
    expect(formErrors(form, value)).toEqual(errors);
  });
});

describe("a form at definition: SQL and TypeScript name the same problem", () => {
  test.each(problemCases.map((c, i) => ({ ...c, i })))("$title", ({ form, problem, i }) => {
    expect(sqlProblems[i]).toBe(problem);
    expect(formProblem(form)).toBe(problem);
  });

  it("an invalid pattern is refused by both, each naming its regex dialect", async () => {
    const { rows } = await db.query<{ problem: string }>(
      `select rowflow._form_problem('{"properties": {"code": {"pattern": "(ab"}}}') as problem`,
    );
    expect(rows[0]!.problem).toBe(
      "form/properties/code/pattern: invalid regular expression: parentheses () not balanced (patterns are POSIX regular expressions, not ECMAScript)",
    );
    expect(formProblem({ properties: { code: { pattern: "(ab" } } })).toMatch(
      /^form\/properties\/code\/pattern: Invalid regular expression: .*\(checked as an ECMAScript RegExp here; the database checks it as a POSIX regular expression\)$/,
    );
  });

  it("a SQL null form and an undefined one are no schema", async () => {
    const { rows } = await db.query<{ problem: string }>(
      `select rowflow._form_problem(null) as problem`,
    );
    expect(rows[0]!.problem).toBe("form: a schema must be an object or a boolean, got nothing");
    expect(formProblem(undefined)).toBe(rows[0]!.problem);
  });

  it("a number beyond a double's range is refused by SQL (JavaScript cannot hold it)", async () => {
    const { rows } = await db.query<{ problem: string }>(
      `select rowflow._form_problem('{"maximum": 1e400}') as problem`,
    );
    expect(rows[0]!.problem).toBe("form/maximum: must be a number within the range of a double");
  });
});

describe("the depth bound of _form_errors", () => {
  it("a form deeper than 32 levels raises RF001 in SQL and throws in TypeScript", async () => {
    let value: unknown = 1;
    for (let i = 0; i < 33; i++) value = { a: value };
    const error = await db
      .query(`select rowflow._form_errors($1::jsonb, $2::jsonb)`, [
        JSON.stringify(nested(33)),
        JSON.stringify(value),
      ])
      .then(
        () => undefined,
        (e: unknown) => e as { code?: string; message?: string },
      );
    expect(error?.code).toBe("RF001");
    expect(error?.message).toBe(`answer${"/a".repeat(33)}: the form nests deeper than 32 levels`);
    expect(() => formErrors(nested(33), value)).toThrow(error!.message!);
  });

  it("32 levels validate the innermost value", async () => {
    let form: unknown = { type: "string" };
    let value: unknown = 1;
    for (let i = 0; i < 32; i++) {
      form = { properties: { a: form } };
      value = { a: value };
    }
    const expected = [`answer${"/a".repeat(32)}: must be of type string, got number`];
    const { rows } = await db.query<{ errors: string[] }>(
      `select rowflow._form_errors($1::jsonb, $2::jsonb) as errors`,
      [JSON.stringify(form), JSON.stringify(value)],
    );
    expect(rows[0]!.errors).toEqual(expected);
    expect(formErrors(form, value)).toEqual(expected);
  });
});

describe("random forms and answers", () => {
  it("SQL and TypeScript agree on 2000 seeded cases, many of them refused or failing", async () => {
    const cases = randomCases(17, 2000);
    const { rows } = await db.query<{ problem: string | null; errors: string[] | null }>(
      `select p.problem, case when p.problem is null then rowflow._form_errors(c -> 'form', c -> 'value') end as errors
       from jsonb_array_elements($1::jsonb) with ordinality as t(c, i),
            lateral (select rowflow._form_problem(c -> 'form') as problem) as p
       order by i`,
      [JSON.stringify(cases)],
    );
    const ts = cases.map(({ form, value }) => {
      const problem = formProblem(form);
      return { problem, errors: problem === null ? formErrors(form, value) : null };
    });
    expect(ts).toEqual(rows);
    // The cases exercise both sides: some forms refused, some answers failing, some passing.
    const refused = ts.filter((c) => c.problem !== null).length;
    const failing = ts.filter((c) => (c.errors?.length ?? 0) > 0).length;
    expect(refused).toBeGreaterThan(200);
    expect(failing).toBeGreaterThan(200);
    expect(2000 - refused - failing).toBeGreaterThan(200);
  });
});
