/**
 * Spec validation cases shared by the zod tests (spec-validation.test.ts) and the
 * parity test against `rowflow.define_workflow` (spec-parity.test.ts): each
 * invalid spec with the RF code both must report first.
 */
import type { SpecErrorCode } from "../../src/definition/index.js";

/** A spec rejected with `code`; `message` is a fragment of the TS message. */
export interface InvalidCase {
  readonly title: string;
  readonly spec: unknown;
  readonly code: SpecErrorCode;
  readonly message: string;
  /** Path of the first issue. */
  readonly path: readonly (string | number)[];
  /** Defined under this name (Default: "wf"). */
  readonly name?: string;
}

/** Steps `{ name, task: "t", ...extra }`. */
export function step(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { name, task: "t", ...extra };
}

/** A spec with one step `a` carrying `extra`. */
export function oneStep(extra: Record<string, unknown>): unknown {
  return { steps: [step("a", extra)] };
}

const manySteps = Array.from({ length: 1001 }, (_, i) => step(`s${i}`));

export const invalidCases: readonly InvalidCase[] = [
  // RF001: wrong type, missing field, out of range
  {
    title: "spec is not an object",
    spec: "nope",
    code: "RF001",
    path: [],
    message: "spec: the spec must be an object, got string",
  },
  { title: "spec is an array", spec: [], code: "RF001", path: [], message: "got array" },
  {
    title: "spec over 1 MiB of JSON",
    spec: { description: "x".repeat(2 * 1024 * 1024), steps: [step("a")] },
    code: "RF001",
    path: [],
    message: "the limit is 1 MiB (1048576 bytes)",
  },
  {
    title: "steps missing",
    spec: {},
    code: "RF001",
    path: ["steps"],
    message: 'steps: missing required field "steps"',
  },
  {
    title: "steps not an array",
    spec: { steps: {} },
    code: "RF001",
    path: ["steps"],
    message: "steps: must be an array of step objects, got object",
  },
  {
    title: "more than 1000 steps",
    spec: { steps: manySteps },
    code: "RF001",
    path: ["steps"],
    message: "the workflow has 1001 steps; at most 1000 are allowed",
  },
  {
    title: "step not an object",
    spec: { steps: [5] },
    code: "RF001",
    path: ["steps", 0],
    message: "steps[0]: step must be an object, got number",
  },
  {
    title: "step name missing",
    spec: { steps: [{ task: "t" }] },
    code: "RF001",
    path: ["steps", 0, "name"],
    message: 'steps[0].name: missing required field "name"',
  },
  {
    title: "step name not a string",
    spec: { steps: [{ name: 5, task: "t" }] },
    code: "RF001",
    path: ["steps", 0, "name"],
    message: "must be a step name (string), got 5",
  },
  {
    title: "task missing",
    spec: { steps: [{ name: "a" }] },
    code: "RF001",
    path: ["steps", 0, "task"],
    message: 'missing required field "task"',
  },
  {
    title: "task not a string",
    spec: { steps: [{ name: "a", task: 1 }] },
    code: "RF001",
    path: ["steps", 0, "task"],
    message: "must be a task name (string), got 1",
  },
  {
    title: "description not a string",
    spec: { description: 1, steps: [step("a")] },
    code: "RF001",
    path: ["description"],
    message: "description: must be a string, got 1",
  },
  {
    title: "onFailure not a string",
    spec: { onFailure: null, steps: [step("a")] },
    code: "RF001",
    path: ["onFailure"],
    message: "must be a task name (string), got null",
  },
  {
    title: "compensate not a string",
    spec: oneStep({ compensate: ["x"] }),
    code: "RF001",
    path: ["steps", 0, "compensate"],
    message: "got array",
  },
  {
    title: "dependsOn not an array",
    spec: oneStep({ dependsOn: "b" }),
    code: "RF001",
    path: ["steps", 0, "dependsOn"],
    message: 'must be an array of step names, got "b"',
  },
  {
    title: "dependsOn item not a string",
    spec: oneStep({ dependsOn: [1] }),
    code: "RF001",
    path: ["steps", 0, "dependsOn", 0],
    message: "must be a step name (string), got 1",
  },
  {
    title: "dependency listed twice",
    spec: { steps: [step("a"), step("b", { dependsOn: ["a", "a"] })] },
    code: "RF001",
    path: ["steps", 1, "dependsOn", 1],
    message: '"dependsOn" of step "b" lists "a" more than once',
  },
  {
    title: "attempts 0",
    spec: oneStep({ attempts: 0 }),
    code: "RF001",
    path: ["steps", 0, "attempts"],
    message: "steps[0].attempts: must be an integer from 1 to 1000, got 0",
  },
  {
    title: "attempts 1001",
    spec: oneStep({ attempts: 1001 }),
    code: "RF001",
    path: ["steps", 0, "attempts"],
    message: "got 1001",
  },
  {
    title: "attempts fractional",
    spec: oneStep({ attempts: 2.5 }),
    code: "RF001",
    path: ["steps", 0, "attempts"],
    message: "got 2.5",
  },
  {
    title: "attempts a string",
    spec: oneStep({ attempts: "3" }),
    code: "RF001",
    path: ["steps", 0, "attempts"],
    message: 'got "3"',
  },
  {
    title: "priority out of range",
    spec: oneStep({ priority: -1001 }),
    code: "RF001",
    path: ["steps", 0, "priority"],
    message: "must be an integer from -1000 to 1000, got -1001",
  },
  {
    title: "priority null",
    spec: oneStep({ priority: null }),
    code: "RF001",
    path: ["steps", 0, "priority"],
    message: "got null",
  },
  {
    title: "backoff not an object",
    spec: oneStep({ backoff: "fast" }),
    code: "RF001",
    path: ["steps", 0, "backoff"],
    message: "backoff must be an object, got string",
  },
  {
    title: "backoff type unknown",
    spec: oneStep({ backoff: { type: "linear" } }),
    code: "RF001",
    path: ["steps", 0, "backoff", "type"],
    message: 'must be "exponential" or "fixed", got "linear"',
  },
  {
    title: "jitter above 1",
    spec: oneStep({ backoff: { jitter: 1.5 } }),
    code: "RF001",
    path: ["steps", 0, "backoff", "jitter"],
    message: "must be a number from 0 to 1, got 1.5",
  },
  {
    title: "queue a number",
    spec: oneStep({ queue: 5 }),
    code: "RF001",
    path: ["steps", 0, "queue"],
    message: 'must be a queue name or {"name": …, "key": "<path>"}, got 5',
  },
  {
    title: "queue object without name",
    spec: oneStep({ queue: { key: "$.input.id" } }),
    code: "RF001",
    path: ["steps", 0, "queue", "name"],
    message: 'missing required field "name"',
  },
  {
    title: "spec.name differs from the name argument",
    spec: { name: "other", steps: [step("a")] },
    code: "RF001",
    path: ["name"],
    message: 'spec.name is "other", which differs from the name "wf"',
  },
  // RF002: unknown option
  {
    title: "unknown top-level key",
    spec: { steps: [step("a")], version: 2 },
    code: "RF002",
    path: [],
    message: 'spec: unknown option "version"; allowed: name, description, onFailure, steps',
  },
  {
    title: "unknown step key",
    spec: oneStep({ retries: 3 }),
    code: "RF002",
    path: ["steps", 0],
    message: 'steps[0]: unknown option "retries"; allowed: name, task, dependsOn',
  },
  {
    title: "unknown backoff key",
    spec: oneStep({ backoff: { factor: 2 } }),
    code: "RF002",
    path: ["steps", 0, "backoff"],
    message: 'unknown option "factor"; allowed: type, base, max, jitter',
  },
  {
    title: "unknown queue key",
    spec: oneStep({ queue: { name: "q", size: 1 } }),
    code: "RF002",
    path: ["steps", 0, "queue"],
    message: 'unknown option "size"; allowed: name, key',
  },
  // RF003: empty workflow
  {
    title: "no steps",
    spec: { steps: [] },
    code: "RF003",
    path: ["steps"],
    message: "the workflow has no steps",
  },
  // RF004: names
  {
    title: "invalid workflow name argument",
    name: "Order",
    spec: { steps: [step("a")] },
    code: "RF004",
    path: [],
    message: 'invalid workflow name "Order"',
  },
  {
    title: "invalid step name",
    spec: { steps: [step("Charge")] },
    code: "RF004",
    path: ["steps", 0, "name"],
    message: 'steps[0].name: invalid step name "Charge": use 1-63 characters',
  },
  {
    title: "step name too long",
    spec: { steps: [step("a".repeat(64))] },
    code: "RF004",
    path: ["steps", 0, "name"],
    message: "invalid step name",
  },
  {
    title: "invalid task name",
    spec: { steps: [{ name: "a", task: "9lives" }] },
    code: "RF004",
    path: ["steps", 0, "task"],
    message: 'invalid task name "9lives": use 1-128 characters',
  },
  {
    title: "invalid compensate task",
    spec: oneStep({ compensate: "refund card" }),
    code: "RF004",
    path: ["steps", 0, "compensate"],
    message: 'invalid task name "refund card"',
  },
  {
    title: "invalid onFailure task",
    spec: { onFailure: "-x", steps: [step("a")] },
    code: "RF004",
    path: ["onFailure"],
    message: 'invalid task name "-x"',
  },
  {
    title: "invalid queue name",
    spec: oneStep({ queue: "pay ments" }),
    code: "RF004",
    path: ["steps", 0, "queue"],
    message: 'invalid queue name "pay ments"',
  },
  {
    title: "invalid keyed queue name",
    spec: oneStep({ queue: { name: "", key: "$.input.id" } }),
    code: "RF004",
    path: ["steps", 0, "queue", "name"],
    message: 'invalid queue name ""',
  },
  // RF005: duplicate step
  {
    title: "duplicate step name",
    spec: { steps: [step("a"), step("b"), step("a")] },
    code: "RF005",
    path: ["steps", 2, "name"],
    message: 'steps[2].name: duplicate step name "a" (also steps[0])',
  },
  // RF006: unknown dependency
  {
    title: "unknown dependency",
    spec: { steps: [step("a"), step("b", { dependsOn: ["a", "valdate"] })] },
    code: "RF006",
    path: ["steps", 1, "dependsOn", 1],
    message: 'step "b": unknown dependency "valdate"; known steps: a, b',
  },
  // RF007: self-dependency
  {
    title: "self-dependency",
    spec: { steps: [step("a", { dependsOn: ["a"] })] },
    code: "RF007",
    path: ["steps", 0, "dependsOn", 0],
    message: 'a step cannot depend on itself; remove "a"',
  },
  // RF008: cycle
  {
    title: "three-step cycle",
    spec: {
      steps: [
        step("a", { dependsOn: ["c"] }),
        step("b", { dependsOn: ["a"] }),
        step("c", { dependsOn: ["b"] }),
      ],
    },
    code: "RF008",
    path: ["steps", 0, "dependsOn"],
    message: "dependency cycle a -> b -> c -> a",
  },
  {
    title: "cycle reached through another step",
    spec: {
      steps: [
        step("x", { dependsOn: ["a"] }),
        step("a", { dependsOn: ["b"] }),
        step("b", { dependsOn: ["a"] }),
        step("root"),
      ],
    },
    code: "RF008",
    path: ["steps", 1, "dependsOn"],
    message: "dependency cycle a -> b -> a",
  },
  // RF009: path expressions
  {
    title: "if not a string",
    spec: oneStep({ if: true }),
    code: "RF009",
    path: ["steps", 0, "if"],
    message: "must be a string holding a SQL/JSON path expression, got true",
  },
  {
    title: "if empty",
    spec: oneStep({ if: "" }),
    code: "RF009",
    path: ["steps", 0, "if"],
    message: "the expression is empty",
  },
  {
    title: "if with an unclosed bracket",
    spec: oneStep({ if: "$.input.items[0 == 1" }),
    code: "RF009",
    path: ["steps", 0, "if"],
    message: '"[" is not closed',
  },
  {
    title: "if with an unterminated string",
    spec: oneStep({ if: '$.input.status == "paid' }),
    code: "RF009",
    path: ["steps", 0, "if"],
    message: "string literal is not terminated",
  },
  {
    title: "if with a variable",
    spec: oneStep({ if: "$.input.total > $limit" }),
    code: "RF009",
    path: ["steps", 0, "if"],
    message: "references the variable $limit",
  },
  {
    title: "queue key unbalanced",
    spec: oneStep({ queue: { name: "q", key: "$.input.a)" } }),
    code: "RF009",
    path: ["steps", 0, "queue", "key"],
    message: 'unexpected ")"',
  },
  // RF010: intervals
  {
    title: "timeout with an unknown unit",
    spec: oneStep({ timeout: "5 secnds" }),
    code: "RF010",
    path: ["steps", 0, "timeout"],
    message:
      'steps[0].timeout: must be a non-negative integer (milliseconds) or a string "<number> <unit>"',
  },
  {
    title: "timeout zero",
    spec: oneStep({ timeout: 0 }),
    code: "RF010",
    path: ["steps", 0, "timeout"],
    message: "must be greater than zero",
  },
  {
    title: "timeout a boolean",
    spec: oneStep({ timeout: true }),
    code: "RF010",
    path: ["steps", 0, "timeout"],
    message: "got true",
  },
  {
    title: "delay negative",
    spec: oneStep({ delay: -1 }),
    code: "RF010",
    path: ["steps", 0, "delay"],
    message: "got -1",
  },
  {
    title: "delay fractional milliseconds",
    spec: oneStep({ delay: 1.5 }),
    code: "RF010",
    path: ["steps", 0, "delay"],
    message: "got 1.5",
  },
  {
    title: "delay null",
    spec: oneStep({ delay: null }),
    code: "RF010",
    path: ["steps", 0, "delay"],
    message: "got null",
  },
  {
    title: "delay out of range",
    spec: oneStep({ delay: "9999999999 days" }),
    code: "RF010",
    path: ["steps", 0, "delay"],
    message: "out of range",
  },
  {
    title: "timeout milliseconds out of range",
    spec: oneStep({ timeout: 1e21 }),
    code: "RF010",
    path: ["steps", 0, "timeout"],
    message: "out of range: 1e+21",
  },
  {
    title: "backoff base invalid",
    spec: oneStep({ backoff: { base: "soon" } }),
    code: "RF010",
    path: ["steps", 0, "backoff", "base"],
    message: 'got "soon"',
  },
  {
    title: "backoff max below base",
    spec: oneStep({ backoff: { base: "10 seconds", max: "5 seconds" } }),
    code: "RF010",
    path: ["steps", 0, "backoff"],
    message: 'backoff.max ("5 seconds") is less than backoff.base ("10 seconds")',
  },
  {
    title: "backoff max below the default base",
    spec: oneStep({ backoff: { max: 500 } }),
    code: "RF010",
    path: ["steps", 0, "backoff"],
    message: 'backoff.max (500) is less than backoff.base ("1 second")',
  },
  // Several problems: the first one in SQL's order wins.
  {
    title: "unknown key before a bad step",
    spec: { steps: [step("a", { attempts: 0 })], extra: 1 },
    code: "RF002",
    path: [],
    message: 'unknown option "extra"',
  },
  {
    title: "earlier step's problem first",
    spec: { steps: [step("a", { timeout: "x" }), step("B")] },
    code: "RF010",
    path: ["steps", 0, "timeout"],
    message: "steps[0].timeout",
  },
  {
    title: "step name before its unknown key",
    spec: { steps: [step("A", { retries: 1 })] },
    code: "RF004",
    path: ["steps", 0, "name"],
    message: "invalid step name",
  },
  {
    title: "duplicate before a later step problem",
    spec: { steps: [step("a"), step("a", { attempts: 0 })] },
    code: "RF005",
    path: ["steps", 1, "name"],
    message: "duplicate step name",
  },
  {
    title: "self-dependency before attempts",
    spec: { steps: [step("a", { dependsOn: ["a"], attempts: 0 })] },
    code: "RF007",
    path: ["steps", 0, "dependsOn", 0],
    message: "cannot depend on itself",
  },
  {
    title: "step problems before unknown dependencies",
    spec: { steps: [step("a", { dependsOn: ["zz"] }), step("b", { attempts: 0 })] },
    code: "RF001",
    path: ["steps", 1, "attempts"],
    message: "attempts",
  },
  {
    title: "queue key before queue name",
    spec: oneStep({ queue: { name: "bad name", key: 5 } }),
    code: "RF009",
    path: ["steps", 0, "queue", "key"],
    message: "queue.key",
  },
  // Waits (docs/spec.md, "Waits"). waitFor's table and condition are SQL's
  // alone to check (test/sql/waits/wait-for.test.ts).
  {
    title: "a step with neither task nor wait",
    spec: { steps: [{ name: "a" }] },
    code: "RF001",
    path: ["steps", 0, "task"],
    message: 'missing required field "task"',
  },
  {
    title: "wait without signal",
    spec: { steps: [{ name: "a", wait: {} }] },
    code: "RF001",
    path: ["steps", 0, "wait", "signal"],
    message: 'missing required field "signal"',
  },
  {
    title: "wait with a bad signal name",
    spec: { steps: [{ name: "a", wait: { signal: "a b" } }] },
    code: "RF004",
    path: ["steps", 0, "wait", "signal"],
    message: "invalid signal name",
  },
  {
    title: "wait with a task",
    spec: { steps: [{ name: "a", task: "t", wait: { signal: "s" } }] },
    code: "RF002",
    path: ["steps", 0, "task"],
    message: 'a "wait" step has no task',
  },
  {
    title: "wait with attempts",
    spec: { steps: [{ name: "a", attempts: 2, wait: { signal: "s" } }] },
    code: "RF002",
    path: ["steps", 0, "task"],
    message: '"attempts" does not apply',
  },
  {
    title: "wait and human",
    spec: { steps: [{ name: "a", wait: { signal: "s" }, human: { assignee: "x", title: "t" } }] },
    code: "RF001",
    path: ["steps", 0, "task"],
    message: "waits in one way only",
  },
  // Child steps (docs/spec.md, "Child workflows"). Whether the workflow is
  // defined is SQL's alone to check (RF015, test/sql/waits/child-workflows.test.ts).
  {
    title: "child without workflow",
    spec: { steps: [{ name: "a", child: { input: "$.input" } }] },
    code: "RF001",
    path: ["steps", 0, "child", "workflow"],
    message: 'missing required field "workflow"',
  },
  {
    title: "child with a bad workflow name",
    spec: { steps: [{ name: "a", child: { workflow: "Ship" } }] },
    code: "RF004",
    path: ["steps", 0, "child", "workflow"],
    message: "invalid workflow name",
  },
  {
    title: "child with a task",
    spec: { steps: [{ name: "a", task: "t", child: { workflow: "wf" } }] },
    code: "RF002",
    path: ["steps", 0, "task"],
    message: 'a "child" step has no task',
  },
  {
    title: "child with a timeout",
    spec: { steps: [{ name: "a", timeout: "1 minute", child: { workflow: "wf" } }] },
    code: "RF002",
    path: ["steps", 0, "task"],
    message: '"timeout" does not apply',
  },
  {
    title: "child with an unknown option",
    spec: { steps: [{ name: "a", child: { workflow: "wf", version: 2 } }] },
    code: "RF002",
    path: ["steps", 0, "child"],
    message: "version",
  },
  {
    title: "child with a bad input path",
    spec: { steps: [{ name: "a", child: { workflow: "wf", input: "$.(" } }] },
    code: "RF009",
    path: ["steps", 0, "child", "input"],
    message: "child.input",
  },
  {
    title: "child and wait",
    spec: { steps: [{ name: "a", wait: { signal: "s" }, child: { workflow: "wf" } }] },
    code: "RF001",
    path: ["steps", 0, "task"],
    message: "waits in one way only",
  },
  {
    title: "wait with an unknown option",
    spec: { steps: [{ name: "a", wait: { signal: "s", retries: 1 } }] },
    code: "RF002",
    path: ["steps", 0, "wait"],
    message: "retries",
  },
  {
    title: "wait.timeout zero",
    spec: { steps: [{ name: "a", wait: { signal: "s", timeout: 0 } }] },
    code: "RF010",
    path: ["steps", 0, "wait", "timeout"],
    message: "",
  },
  {
    title: "wait.onTimeout unknown",
    spec: { steps: [{ name: "a", wait: { signal: "s", timeout: "1 h", onTimeout: "retry" } }] },
    code: "RF001",
    path: ["steps", 0, "wait", "onTimeout"],
    message: '"fail", "skip" or {"output"',
  },
  {
    title: "wait.onTimeout without timeout",
    spec: { steps: [{ name: "a", wait: { signal: "s", onTimeout: "skip" } }] },
    code: "RF001",
    path: ["steps", 0, "wait"],
    message: 'wait.onTimeout needs "timeout"',
  },
  {
    title: "human without title",
    spec: { steps: [{ name: "a", human: { assignee: "ann" } }] },
    code: "RF001",
    path: ["steps", 0, "human", "title"],
    message: "title",
  },
  {
    title: "human.escalateTo without due",
    spec: { steps: [{ name: "a", human: { assignee: "ann", title: "t", escalateTo: "bob" } }] },
    code: "RF001",
    path: ["steps", 0, "human"],
    message: 'escalateTo needs "due"',
  },
  {
    title: "human.form outside the subset",
    spec: {
      steps: [
        { name: "a", human: { assignee: "ann", title: "t", form: { type: "object", oneOf: [] } } },
      ],
    },
    code: "RF001",
    path: ["steps", 0, "human", "form"],
    message: "not a supported JSON Schema",
  },
  {
    title: "human.due not an interval",
    spec: { steps: [{ name: "a", human: { assignee: "ann", title: "t", due: "soon" } }] },
    code: "RF010",
    path: ["steps", 0, "human", "due"],
    message: "",
  },
  {
    title: "startAt not a path",
    spec: oneStep({ startAt: 5 }),
    code: "RF009",
    path: ["steps", 0, "startAt"],
    message: "",
  },
  {
    title: "startAt with before and after",
    spec: oneStep({ startAt: { at: "$.input.t", before: "1 h", after: "1 h" } }),
    code: "RF001",
    path: ["steps", 0, "startAt"],
    message: "",
  },
  {
    title: "startAt.before not an interval",
    spec: oneStep({ startAt: { at: "$.input.t", before: "a day" } }),
    code: "RF010",
    path: ["steps", 0, "startAt", "before"],
    message: "",
  },
  // Map steps (sql/schema/30_define/_compile_map.sql)
  {
    title: "map over a step that is not a dependency",
    spec: { steps: [step("load"), step("each", { map: "$.steps.load.lines" })] },
    code: "RF013",
    path: ["steps", 1, "map"],
    message: 'map reads the output of step "load", which is not in its dependsOn',
  },
  {
    title: "map over a quoted step name that is not a dependency",
    spec: {
      steps: [
        step("load-a"),
        step("load-b"),
        step("each", { dependsOn: ["load-a"], map: '$.steps."load-b".lines' }),
      ],
    },
    code: "RF013",
    path: ["steps", 2, "map"],
    message: 'step "load-b", which is not in its dependsOn',
  },
  {
    title: "map not into the input or a step",
    spec: oneStep({ map: "$.lines" }),
    code: "RF009",
    path: ["steps", 0, "map"],
    message: "map must be a path into the run input or a dependency's output",
  },
  {
    title: "map not a string",
    spec: oneStep({ map: 3 }),
    code: "RF009",
    path: ["steps", 0, "map"],
    message: "must be a string holding a SQL/JSON path expression",
  },
  {
    title: "map with a queue",
    spec: oneStep({ map: "$.input.items", queue: "q" }),
    code: "RF001",
    path: ["steps", 0, "map"],
    message: "a map step cannot have queue",
  },
  {
    title: "map with a delay",
    spec: oneStep({ map: "$.input.items", delay: "1 minute" }),
    code: "RF001",
    path: ["steps", 0, "map"],
    message: "a map step cannot have delay",
  },
  {
    title: "mapErrors without map",
    spec: oneStep({ mapErrors: "collect" }),
    code: "RF001",
    path: ["steps", 0, "mapErrors"],
    message: '"mapErrors" needs "map"',
  },
  {
    title: "mapErrors not fail or collect",
    spec: oneStep({ map: "$.input.items", mapErrors: "ignore" }),
    code: "RF001",
    path: ["steps", 0, "mapErrors"],
    message: '"fail" or "collect"',
  },
];

/** Specs both TS and SQL accept. */
export const validCases: readonly { readonly title: string; readonly spec: unknown }[] = [
  {
    title: "map steps: over the input, over a dependency (plain and quoted), collecting errors",
    spec: {
      steps: [
        step("each-item", { map: "$.input.items" }),
        step("load-lines", {}),
        step("charge", {
          dependsOn: ["load-lines"],
          map: '$.steps."load-lines".lines',
          mapErrors: "collect",
          attempts: 5,
          timeout: "30 seconds",
        }),
        step("sum", {
          dependsOn: ["charge", "each-item"],
          map: "strict $.steps.charge",
          if: "$.input.n > 0",
        }),
      ],
    },
  },
  {
    title: "wait steps: signal, human, startAt",
    spec: {
      steps: [
        step("a", { startAt: { at: "$.input.shipBy", before: "24 hours" } }),
        {
          name: "pay",
          dependsOn: ["a"],
          wait: { signal: "paid", timeout: "3 days", onTimeout: { output: { paid: false } } },
        },
        {
          name: "ok",
          dependsOn: ["a"],
          if: "$.input.big == true",
          startAt: "$.input.opensAt",
          human: {
            assignee: "$.input.manager",
            title: "Approve",
            form: {
              type: "object",
              required: ["approved"],
              properties: { approved: { type: "boolean" } },
            },
            due: "2 days",
            escalateTo: "directors",
            onTimeout: "skip",
          },
        },
        step("ship", { dependsOn: ["pay", "ok"] }),
      ],
    },
  },
  {
    title: "a child step that starts its own workflow, with attempts and backoff",
    spec: {
      steps: [
        step("a"),
        {
          name: "sub",
          dependsOn: ["a"],
          attempts: 2,
          backoff: { type: "fixed", base: "5 seconds" },
          child: { workflow: "wf", input: "$.steps.a" },
        },
        { name: "plain", child: { workflow: "wf" } },
      ],
    },
  },
  { title: "one step", spec: { steps: [step("a")] } },
  {
    title: "every option (the contract example)",
    spec: {
      name: "wf",
      description: "free text",
      onFailure: "notify-ops",
      steps: [
        step("validate"),
        {
          name: "charge",
          task: "charge-card",
          dependsOn: ["validate"],
          attempts: 3,
          backoff: { type: "exponential", base: "1 second", max: "5 minutes", jitter: 0.2 },
          timeout: "30 seconds",
          priority: 0,
          queue: { name: "payments", key: "$.input.customerId" },
          delay: "10 seconds",
          if: "$.input.total > 100",
          compensate: "refund-card",
        },
      ],
    },
  },
  {
    title: "fixed backoff, intervals in ms",
    spec: oneStep({ backoff: { type: "fixed", base: 5000, jitter: 0 }, timeout: 1, delay: 0 }),
  },
  { title: "an empty backoff", spec: oneStep({ backoff: {} }) },
  { title: "max alone, above the default base", spec: oneStep({ backoff: { max: "2 seconds" } }) },
  { title: "queue without key", spec: oneStep({ queue: { name: "q" } }) },
  { title: "queue name with dots", spec: oneStep({ queue: "payments.eu-1" }) },
  {
    title: "interval units",
    spec: oneStep({
      timeout: "1.5h",
      delay: "250 milliseconds",
      backoff: { base: "2 secs", max: "1 day" },
    }),
  },
  {
    title: "path with a string literal holding brackets",
    spec: oneStep({ if: '$.input.note == "[(" && $.steps.a.ok == true' }),
  },
  {
    title: "names at the length limits",
    spec: { steps: [{ name: "a".repeat(63), task: `T${"x".repeat(127)}` }] },
  },
  {
    title: "diamond",
    spec: {
      steps: [
        step("a"),
        step("b", { dependsOn: ["a"] }),
        step("c", { dependsOn: ["a"] }),
        step("d", { dependsOn: ["b", "c"] }),
      ],
    },
  },
  {
    title: "1000 steps",
    spec: {
      steps: Array.from({ length: 1000 }, (_, i) =>
        step(`s${i}`, i === 0 ? {} : { dependsOn: [`s${i - 1}`] }),
      ),
    },
  },
];

/** Path expressions the light TS check lets through but SQL rejects (RF009). */
export const sqlOnlyPathCases: readonly string[] = ["$.input.total >", "$.input..a", "$ ? (@ > )"];
