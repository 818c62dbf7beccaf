/**
 * The zod schema of a workflow spec, mirroring `rowflow.define_workflow`
 * (sql/schema/30_define/define_workflow.sql; reference: docs/spec.md). Every issue that
 * is not a plain RF001 (wrong type, missing field, out of range) carries its RF
 * code in `params.rfCode`, except unknown keys (zod's `unrecognized_keys`,
 * RF002). `validateSpec` / `parseSpec` resolve the codes and order the issues
 * the way SQL checks them.
 *
 * Path expressions only get a light check here (path-expression.ts); SQL
 * compiles them.
 */
import { z } from "zod";

import { describeValue } from "./describe-value.js";
import { SpecErrorCodes } from "./error-codes.js";
import { intervalToMs } from "./interval.js";
import { MAP_ERRORS, mapStepProblems } from "./map-step.js";
import {
  NAME_PATTERN,
  NAME_RULE,
  QUEUE_NAME_PATTERN,
  QUEUE_NAME_RULE,
  TASK_NAME_PATTERN,
  TASK_NAME_RULE,
} from "./names.js";
import type { ReadonlyDeep } from "./readonly-deep.js";
import { graphProblems } from "./spec-graph.js";
import {
  expected,
  intervalSchema,
  meta,
  named,
  pathExpression,
  rule,
  strict,
} from "./spec-schema-parts.js";
import {
  childSchema,
  humanSchema,
  startAtSchema,
  waitForSchema,
  waitSchema,
  waitStepProblems,
} from "./wait-schema.js";

export { specMetadata } from "./spec-schema-parts.js";

/** Maximum number of steps in a workflow (SQL: RF001 above it). */
export const MAX_STEPS = 1000;

const interval = intervalSchema({ positive: false });

const taskName = named("task name", TASK_NAME_PATTERN, TASK_NAME_RULE, {
  id: "TaskName",
  description: "A task identifier: the key of a handler in the worker's task registry.",
});

/** Schema of a step's `backoff`; `max` below `base` is RF010. */
export const backoffSchema = meta(
  strict("backoff", {
    type: meta(
      z.enum(["exponential", "fixed"], { error: expected('"exponential" or "fixed"') }).optional(),
      {
        default: "exponential",
        description: "exponential: base × 2^(attempt-1) capped at max; fixed: base every time.",
      },
    ),
    base: meta(interval.optional(), { default: "1 second", description: "First retry delay." }),
    max: meta(interval.optional(), {
      description:
        "Upper bound of the delay, not below base. (Default: the larger of 5 minutes and base)",
    }),
    jitter: meta(
      z
        .number({ error: expected("a number from 0 to 1") })
        .min(0)
        .max(1)
        .optional(),
      {
        default: 0.2,
        description: "Random spread of each delay as a fraction of it (0.2 = ±20%).",
      },
    ),
  }).check(
    rule<{ base?: number | string | undefined; max?: number | string | undefined }>(
      SpecErrorCodes.invalidInterval,
      (backoff) => {
        if (backoff.max === undefined) return undefined;
        const base = backoff.base ?? "1 second";
        return compareIntervals(backoff.max, base) < 0
          ? `backoff.max (${describeValue(backoff.max)}) is less than backoff.base (${describeValue(base)})`
          : undefined;
      },
    ),
  ),
  { id: "Backoff", description: "Delay between attempts." },
);

function compareIntervals(a: number | string, b: number | string): number {
  return intervalToMs(a) - intervalToMs(b);
}

const queueName = named("queue name", QUEUE_NAME_PATTERN, QUEUE_NAME_RULE);

/** Schema of a step's `queue`: a name, or a name and a key expression. */
export const queueSchema = meta(
  z.union(
    [
      queueName,
      strict("queue", {
        name: queueName,
        key: pathExpression.optional(),
      }),
    ],
    { error: expected('a queue name or {"name": …, "key": "<path>"}') },
  ),
  {
    id: "Queue",
    description:
      "Serial FIFO queue: its steps run one at a time, in order; with a key, one such queue per key value.",
  },
);

/** Schema of one step. */
export const stepSpecSchema = meta(
  strict("step", {
    name: named("step name", NAME_PATTERN, NAME_RULE),
    task: meta(taskName.optional(), {
      description:
        'The handler the worker runs. Required, except in a "wait", "human", "waitFor" or "child" step.',
    }),
    dependsOn: meta(
      z
        .array(z.string({ error: expected("a step name (string)") }), {
          error: expected("an array of step names"),
        })
        .optional(),
      {
        default: [],
        description: "Steps that must be finished (succeeded or skipped) before this one starts.",
      },
    ),
    attempts: meta(
      z
        .int({ error: expected("an integer from 1 to 1000") })
        .min(1)
        .max(1000)
        .optional(),
      { default: 3, description: "Maximum number of attempts, the first one included." },
    ),
    backoff: meta(backoffSchema.optional(), {
      default: { type: "exponential", base: "1 second", max: "5 minutes", jitter: 0.2 },
    }),
    timeout: meta(intervalSchema({ positive: true }).optional(), {
      description: "An attempt running longer fails (and is retried if attempts remain).",
    }),
    priority: meta(
      z
        .int({ error: expected("an integer from -1000 to 1000") })
        .min(-1000)
        .max(1000)
        .optional(),
      { default: 0, description: "Lower runs first (graphile-worker order)." },
    ),
    queue: queueSchema.optional(),
    delay: meta(interval.optional(), {
      description: "Wait this long after the step becomes ready.",
    }),
    if: meta(pathExpression.optional(), {
      description:
        "Run-if condition (jsonb_path_match). False skips the step; a skipped step satisfies its dependents.",
    }),
    compensate: meta(taskName.optional(), {
      description: "Task run if the run fails after this step succeeded.",
    }),
    startAt: startAtSchema.optional(),
    wait: waitSchema.optional(),
    human: humanSchema.optional(),
    waitFor: waitForSchema.optional(),
    child: childSchema.optional(),
    map: meta(pathExpression.optional(), {
      description:
        'Map step: a path to an array in the run input ("$.input.…") or a dependency\'s output ("$.steps.<dependency>.…"); the task runs once per element (at most 10,000), and the step\'s output is the elements\' outputs in element order.',
    }),
    mapErrors: meta(z.enum(MAP_ERRORS, { error: expected('"fail" or "collect"') }).optional(), {
      default: "fail",
      description:
        'Map step: "fail" — an element that failed after its attempts fails the step; "collect" — each element\'s outcome is collected into the output as {"ok": true, "output"} or {"ok": false, "error"}.',
    }),
  }).superRefine(
    (step, ctx) => {
      for (const problem of [...waitStepProblems(step), ...mapStepProblems(step)]) {
        ctx.addIssue({
          code: "custom",
          input: step,
          path: [problem.path],
          message: problem.message,
          params: { rfCode: problem.code },
        });
      }
    },
    // Runs even when other options have issues: SQL checks this at "task".
    { when: (payload) => typeof payload.value === "object" && payload.value !== null },
  ),
  {
    id: "Step",
    description:
      'One step of the workflow: it runs a task, or waits ("wait", "human", "waitFor", "child").',
    anyOf: [
      { required: ["task"] },
      { required: ["wait"] },
      { required: ["human"] },
      { required: ["waitFor"] },
      { required: ["child"] },
    ],
  },
);

/** Schema of a workflow spec, the JSON accepted by `rowflow.define_workflow(name, spec)`. */
export const workflowSpecSchema = meta(
  strict("the spec", {
    name: meta(named("workflow name", NAME_PATTERN, NAME_RULE).optional(), {
      description: "When present, must equal the name given to define_workflow.",
    }),
    description: z.string({ error: expected("a string") }).optional(),
    onFailure: meta(taskName.optional(), { description: "Task run once when a run fails." }),
    steps: meta(
      z
        .array(stepSpecSchema, { error: expected("an array of step objects") })
        .check(
          rule<unknown[]>(SpecErrorCodes.emptyWorkflow, (steps) =>
            steps.length === 0 ? "the workflow has no steps; add at least one step" : undefined,
          ),
        )
        .superRefine(
          (steps, ctx) => {
            if (steps.length <= MAX_STEPS) return;
            ctx.addIssue({
              code: "custom",
              input: steps,
              message: `the workflow has ${steps.length} steps; at most ${MAX_STEPS} are allowed`,
            });
          },
          // Runs even when a step has issues: SQL checks the count before the steps.
          { when: (payload) => Array.isArray(payload.value) },
        ),
      { minItems: 1, maxItems: MAX_STEPS },
    ),
  }).check((payload) => {
    // Graph rules need well-formed steps; with earlier issues, validateSpec
    // runs them leniently instead.
    if (payload.issues.length > 0) return;
    const steps = payload.value.steps.map((step) => ({
      name: step.name,
      dependsOn: step.dependsOn ?? [],
    }));
    for (const problem of graphProblems(steps, { cycles: true })) {
      payload.issues.push({
        code: "custom",
        input: payload.value,
        path: [...problem.path],
        message: problem.message,
        params: { rfCode: problem.code },
      });
    }
  }),
  {
    title: "rowflow workflow spec",
    description:
      "Workflow definition for rowflow.define_workflow(name, spec). Reference: docs/spec.md.",
  },
);

// The schema validates without transforming: a spec is stored as written, and
// its defaults are applied by SQL (documented in docs/spec.md and the JSON Schema).

/** A workflow spec: the JSON accepted by `rowflow.define_workflow`. */
export type WorkflowSpec = ReadonlyDeep<z.output<typeof workflowSpecSchema>>;
/** One step of a spec. */
export type StepSpec = ReadonlyDeep<z.output<typeof stepSpecSchema>>;
/** A step's retry delay policy. */
export type BackoffSpec = ReadonlyDeep<z.output<typeof backoffSchema>>;
/** A step's queue: a name, or a name and a key expression. */
export type QueueSpec = ReadonlyDeep<z.output<typeof queueSchema>>;
