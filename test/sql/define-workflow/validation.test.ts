import { describe, expect, it } from "vitest";

import { useTestDatabase } from "../../helpers/db.js";
import { define, expectSqlError } from "../support.js";

const db = useTestDatabase();

const step = (name: string, extra: Record<string, unknown> = {}) => ({ name, task: "t", ...extra });

describe("define_workflow rejects bad specs with an RF SQLSTATE and an actionable message", () => {
  const cases: Array<[string, string, unknown, string, RegExp]> = [
    [
      "spec not an object",
      "w",
      [],
      "RF001",
      /^workflow "w": the spec must be a JSON object, got array$/,
    ],
    ["steps missing", "w", {}, "RF001", /^workflow "w": steps must be an array of step objects$/],
    [
      "step not an object",
      "w",
      { steps: [1] },
      "RF001",
      /^workflow "w", steps\[0\]: a step must be an object$/,
    ],
    [
      "step without name",
      "w",
      { steps: [{ task: "t" }] },
      "RF001",
      /steps\[0\]: "name" is required/,
    ],
    [
      "step without task",
      "w",
      { steps: [{ name: "a" }] },
      "RF001",
      /step "a": "task" is required and must be a string$/,
    ],
    [
      "attempts out of range",
      "w",
      { steps: [step("a", { attempts: 0 })] },
      "RF001",
      /step "a": "attempts" must be an integer from 1 to 1000, got 0$/,
    ],
    [
      "attempts not integer",
      "w",
      { steps: [step("a", { attempts: 1.5 })] },
      "RF001",
      /"attempts" must be an integer/,
    ],
    [
      "priority out of range",
      "w",
      { steps: [step("a", { priority: 5000 })] },
      "RF001",
      /"priority" must be an integer from -1000 to 1000, got 5000$/,
    ],
    [
      "backoff type",
      "w",
      { steps: [step("a", { backoff: { type: "linear" } })] },
      "RF001",
      /backoff.type must be "fixed" or "exponential", got "linear"$/,
    ],
    [
      "jitter out of range",
      "w",
      { steps: [step("a", { backoff: { jitter: 2 } })] },
      "RF001",
      /backoff.jitter must be a number from 0 to 1, got 2$/,
    ],
    [
      "spec.name differs",
      "w",
      { name: "other", steps: [step("a")] },
      "RF001",
      /spec.name is "other", which differs from the name argument/,
    ],
    [
      "dependsOn repeats",
      "w",
      { steps: [step("a"), step("b", { dependsOn: ["a", "a"] })] },
      "RF001",
      /step "b": "dependsOn" lists "a" more than once$/,
    ],
    [
      "unknown top-level option",
      "w",
      { steps: [step("a")], retries: 3 },
      "RF002",
      /^workflow "w": unknown option "retries"; allowed: name, description, onFailure, steps$/,
    ],
    [
      "unknown step option",
      "w",
      { steps: [step("a", { retry: 3 })] },
      "RF002",
      /^workflow "w", step "a": unknown option "retry"; allowed: name, task, dependsOn/,
    ],
    [
      "unknown backoff option",
      "w",
      { steps: [step("a", { backoff: { factor: 2 } })] },
      "RF002",
      /unknown backoff option "factor"; allowed: type, base, max, jitter$/,
    ],
    [
      "unknown queue option",
      "w",
      { steps: [step("a", { queue: { name: "q", size: 1 } })] },
      "RF002",
      /unknown queue option "size"; allowed: name, key$/,
    ],
    [
      "empty workflow",
      "w",
      { steps: [] },
      "RF003",
      /^workflow "w" has no steps; add at least one step$/,
    ],
    [
      "bad workflow name",
      "Bad Name",
      { steps: [step("a")] },
      "RF004",
      /^invalid workflow name "Bad Name": use 1-63 characters a-z/,
    ],
    [
      "bad step name",
      "w",
      { steps: [step("A!")] },
      "RF004",
      /steps\[0\]: invalid step name "A!": use 1-63 characters/,
    ],
    [
      "bad task name",
      "w",
      { steps: [{ name: "a", task: "1bad task" }] },
      "RF004",
      /step "a": invalid task name "1bad task"/,
    ],
    [
      "bad compensate task",
      "w",
      { steps: [step("a", { compensate: "no way" })] },
      "RF004",
      /invalid compensate task name "no way"/,
    ],
    [
      "bad queue name",
      "w",
      { steps: [step("a", { queue: "q/../x" })] },
      "RF004",
      /invalid queue name "q\/..\/x"/,
    ],
    [
      "duplicate step",
      "w",
      { steps: [step("a"), step("a")] },
      "RF005",
      /^workflow "w": duplicate step name "a"; step names must be unique$/,
    ],
    [
      "unknown dependency",
      "w",
      { steps: [step("a"), step("b", { dependsOn: ["nope"] })] },
      "RF006",
      /^workflow "w", step "b": unknown dependency "nope"; known steps: a, b$/,
    ],
    [
      "self dependency",
      "w",
      { steps: [step("a", { dependsOn: ["a"] })] },
      "RF007",
      /step "a": a step cannot depend on itself; remove "a" from its dependsOn$/,
    ],
    [
      "invalid if path",
      "w",
      { steps: [step("a", { if: "$.input.x >>> 1" })] },
      "RF009",
      /step "a": if is not a valid SQL\/JSON path expression: "\$.input.x >>> 1"/,
    ],
    [
      "if not a string",
      "w",
      { steps: [step("a", { if: true })] },
      "RF009",
      /step "a": if must be a string holding a SQL\/JSON path expression, got true$/,
    ],
    [
      "if uses a variable",
      "w",
      { steps: [step("a", { if: "$.input.x > $limit" })] },
      "RF009",
      /could not find jsonpath variable "limit"/,
    ],
    [
      "invalid like_regex in if",
      "w",
      { steps: [step("a", { if: '$.input.s like_regex "("' })] },
      "RF009",
      /step "a": if is not a valid SQL\/JSON path expression: .*\(invalid regular expression: parentheses \(\) not balanced\)$/,
    ],
    [
      "invalid queue key",
      "w",
      { steps: [step("a", { queue: { name: "q", key: "$.input[" } })] },
      "RF009",
      /queue.key is not a valid SQL\/JSON path expression/,
    ],
    [
      "bad timeout unit",
      "w",
      { steps: [step("a", { timeout: "5 fortnights" })] },
      "RF010",
      /step "a": timeout must be a non-negative integer \(milliseconds\) or a string "<number> <unit>"/,
    ],
    [
      "negative delay",
      "w",
      { steps: [step("a", { delay: -5 })] },
      "RF010",
      /step "a": delay must be a non-negative integer number of milliseconds/,
    ],
    [
      "timeout in milliseconds beyond the interval range",
      "w",
      { steps: [step("a", { timeout: 1e21 })] },
      "RF010",
      /^workflow "w", step "a": timeout is out of range: 1000000000000000000000 milliseconds$/,
    ],
    [
      "zero timeout",
      "w",
      { steps: [step("a", { timeout: 0 })] },
      "RF010",
      /step "a": timeout must be greater than zero$/,
    ],
    [
      "max below base",
      "w",
      { steps: [step("a", { backoff: { base: "10 s", max: "1 s" } })] },
      "RF010",
      /backoff.max \(00:00:01\) is less than backoff.base \(00:00:10\)$/,
    ],
  ];

  it.each(cases)("%s", async (_label, name, spec, code, message) => {
    await expectSqlError(define(db.pool, name, spec), code, message);
  });

  it("names a three-step cycle in execution order", async () => {
    await expectSqlError(
      define(db.pool, "cyc", {
        steps: [
          step("a", { dependsOn: ["c"] }),
          step("b", { dependsOn: ["a"] }),
          step("c", { dependsOn: ["b"] }),
        ],
      }),
      "RF008",
      'workflow "cyc": dependency cycle a -> b -> c -> a; ("x -> y" means y depends on x) remove one of these dependsOn entries',
    );
  });

  it("names only the cycle, not the steps leading into it", async () => {
    await expectSqlError(
      define(db.pool, "cyc2", {
        steps: [
          step("root"),
          step("x", { dependsOn: ["root", "z"] }),
          step("y", { dependsOn: ["x"] }),
          step("z", { dependsOn: ["y"] }),
          step("tail", { dependsOn: ["x"] }),
        ],
      }),
      "RF008",
      /dependency cycle x -> y -> z -> x;/,
    );
  });

  it("rejects hostile names without interpreting them", async () => {
    const hostile = `w"; drop table rowflow.runs; --`;
    await expectSqlError(
      define(db.pool, hostile, { steps: [step("a")] }),
      "RF004",
      /^invalid workflow name /,
    );
    await expectSqlError(
      define(db.pool, "w", { steps: [step("a'); drop table rowflow.runs; --")] }),
      "RF004",
      /invalid step name/,
    );
    const { rows } = await db.query<{ n: number }>(
      "select count(*)::int as n from pg_tables where schemaname = 'rowflow' and tablename = 'runs'",
    );
    expect(rows[0]!.n).toBe(1);
    const { rows: wf } = await db.query("select name from rowflow.workflows");
    expect(wf).toEqual([]);
  });
});

describe("define_workflow versions", () => {
  it("returns the same version for an identical spec and a new one for a changed spec", async () => {
    await db.rollback(async (c) => {
      const spec = { steps: [step("a"), step("b", { dependsOn: ["a"], timeout: "30 seconds" })] };
      expect(await define(c, "v", spec)).toBe(1);
      expect(await define(c, "v", spec)).toBe(1);
      expect(await define(c, "v", { ...spec, description: "changed" })).toBe(2);
      expect(await define(c, "v", { ...spec, description: "changed" })).toBe(2);
      // Back to the first spec: the latest differs, so a new version.
      expect(await define(c, "v", spec)).toBe(3);
      const { rows } = await c.query(
        "select version, step_count from rowflow.workflow_versions where workflow = 'v' order by version",
      );
      expect(rows).toEqual([
        { version: 1, step_count: 2 },
        { version: 2, step_count: 2 },
        { version: 3, step_count: 2 },
      ]);
    });
  });

  it("compiles steps: defaults, intervals, dependents", async () => {
    await db.rollback(async (c) => {
      await define(c, "comp", {
        steps: [
          step("a", {
            backoff: { type: "fixed", base: 1500, jitter: 0 },
            delay: "2.5 s",
            priority: -3,
          }),
          step("b", {
            dependsOn: ["a"],
            queue: { name: "payments", key: "$.input.customer" },
            if: "$.input.total > 100",
          }),
          step("c", { dependsOn: ["a"], attempts: 7, timeout: "1 h" }),
        ],
      });
      const { rows } = await c.query(
        `select name, depends_on, dependents, n_deps, attempts, backoff_type, backoff_base::text, backoff_max::text,
                backoff_jitter, timeout::text, priority, queue_name, queue_key::text, delay::text, if_path::text
         from rowflow.workflow_steps where workflow = 'comp' order by idx`,
      );
      expect(rows).toEqual([
        {
          name: "a",
          depends_on: [],
          dependents: ["b", "c"],
          n_deps: 0,
          attempts: 3,
          backoff_type: "fixed",
          backoff_base: "00:00:01.5",
          backoff_max: "00:05:00",
          backoff_jitter: 0,
          timeout: null,
          priority: -3,
          queue_name: null,
          queue_key: null,
          delay: "00:00:02.5",
          if_path: null,
        },
        {
          name: "b",
          depends_on: ["a"],
          dependents: [],
          n_deps: 1,
          attempts: 3,
          backoff_type: "exponential",
          backoff_base: "00:00:01",
          backoff_max: "00:05:00",
          backoff_jitter: 0.2,
          timeout: null,
          priority: 0,
          queue_name: "payments",
          queue_key: '$."input"."customer"',
          delay: null,
          if_path: '($."input"."total" > 100)',
        },
        {
          name: "c",
          depends_on: ["a"],
          dependents: [],
          n_deps: 1,
          attempts: 7,
          backoff_type: "exponential",
          backoff_base: "00:00:01",
          backoff_max: "00:05:00",
          backoff_jitter: 0.2,
          timeout: "01:00:00",
          priority: 0,
          queue_name: null,
          queue_key: null,
          delay: null,
          if_path: null,
        },
      ]);
    });
  });
});
