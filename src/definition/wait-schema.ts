/**
 * The zod schemas of a step's waits, mirroring rowflow._compile_wait
 * (sql/schema/30_define/_compile_wait.sql; reference: docs/spec.md, "Waits"):
 * `startAt` (a handler step sleeps until a time from its input or its
 * dependencies' outputs), `wait` (a named signal) and `human` (a task for a
 * person, its answer checked against a JSON Schema form, docs/forms.md). A
 * `wait` or `human` step has no task: see `waitStepProblems`.
 */
import { z } from "zod";

import { describeValue } from "./describe-value.js";
import { SpecErrorCodes } from "./error-codes.js";
import { formProblem } from "./form-problem.js";
import { INTERVAL_PATTERN } from "./interval.js";
import { NAME_PATTERN, NAME_RULE } from "./names.js";
import {
  expected,
  intervalSchema,
  meta,
  named,
  pathExpression,
  rule,
  strict,
} from "./spec-schema-parts.js";

/** Signal names (SQL: rowflow.signal, wait.signal): 1-128 of `A-Z a-z 0-9 _ . : -`. */
export const SIGNAL_NAME_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;

const SIGNAL_NAME_RULE = 'use 1-128 characters: letters, digits, "_", ".", ":" or "-"';

const interval = intervalSchema({ positive: false });
const positiveInterval = intervalSchema({ positive: true });

const text = (what: string, max: number) =>
  z
    .string({ error: expected(`${what} (a string of 1-${max} characters)`) })
    .min(1, { error: expected(`${what} (a string of 1-${max} characters)`) })
    .max(max, { error: expected(`${what} (a string of 1-${max} characters)`) });

/** What a wait does at its deadline: fail the step, skip it, or succeed with an output. */
export const onTimeoutSchema = meta(
  z.unknown().check(
    rule<unknown>(SpecErrorCodes.invalidSpec, (value) => {
      if (value === "fail" || value === "skip") return undefined;
      if (
        typeof value === "object" &&
        value !== null &&
        !Array.isArray(value) &&
        Object.keys(value).length === 1 &&
        "output" in value
      ) {
        return undefined;
      }
      return `must be "fail", "skip" or {"output": <the step's output>}, got ${describeValue(value)}`;
    }),
  ) as unknown as z.ZodType<"fail" | "skip" | { output: unknown }>,
  {
    id: "OnTimeout",
    default: "fail",
    description:
      'At the deadline: "fail" fails the step (and the run), "skip" skips it, {"output": …} succeeds with that output.',
  },
);

function needs(field: string, what: string) {
  return rule<Record<string, unknown>>(SpecErrorCodes.invalidSpec, (value) =>
    value.onTimeout !== undefined && value[field] === undefined
      ? `${what}.onTimeout needs "${field}"`
      : undefined,
  );
}

const INTERVAL_JSON = {
  anyOf: [
    { type: "integer", minimum: 0 },
    { type: "string", pattern: INTERVAL_PATTERN.source },
  ],
};

const startAtObject = strict("startAt", {
  at: pathExpression,
  before: interval.optional(),
  after: interval.optional(),
}).check(
  rule<{ before?: unknown; after?: unknown }>(SpecErrorCodes.invalidSpec, (value) =>
    value.before !== undefined && value.after !== undefined
      ? 'startAt has both "before" and "after"; give one'
      : undefined,
  ),
);

/**
 * `startAt`: a path to a time, or `{"at": <path>, "before" | "after": <interval>}`.
 * Dispatched on the value's type rather than a zod union, so that a mistake
 * inside the object keeps its own RF code (a union reports RF001 for all).
 */
export const startAtSchema = meta(
  z.unknown().superRefine((value, ctx) => {
    const object = typeof value === "object" && value !== null && !Array.isArray(value);
    const result = (object ? startAtObject : pathExpression).safeParse(value);
    if (!result.success) for (const issue of result.error.issues) ctx.addIssue(issue as never);
  }) as unknown as z.ZodType<
    | string
    | {
        readonly at: string;
        readonly before?: number | string | undefined;
        readonly after?: number | string | undefined;
      }
  >,
  {
    id: "StartAt",
    anyOf: [
      { type: "string", minLength: 1 },
      {
        type: "object",
        required: ["at"],
        additionalProperties: false,
        properties: {
          at: { type: "string", minLength: 1 },
          before: INTERVAL_JSON,
          after: INTERVAL_JSON,
        },
      },
    ],
    description:
      'Start no earlier than this time: a path to an ISO 8601 time or epoch milliseconds over {"input", "steps"}, e.g. "$.input.shipBy", optionally {"at": "$.input.shipBy", "before": "24 hours"}.',
  },
);

/** `wait`: a named signal (rowflow.signal), with an optional timeout. */
export const waitSchema = meta(
  strict("wait", {
    signal: named("signal name", SIGNAL_NAME_PATTERN, SIGNAL_NAME_RULE),
    timeout: positiveInterval.optional(),
    onTimeout: onTimeoutSchema.optional(),
  }).check(needs("timeout", "wait")),
  {
    id: "Wait",
    description: "Wait for a named signal (rowflow.signal): its payload becomes the step's output.",
  },
);

/** `human`: a task assigned to a person or group; the answer becomes the step's output. */
export const humanSchema = meta(
  strict("human", {
    assignee: meta(text("a person or group, or a path to one", 200), {
      description:
        'A person or group, or a path to one (starting with "$"), e.g. "$.input.ownerEmail".',
    }),
    title: text("a title", 500),
    description: z.string({ error: expected("a string") }).optional(),
    form: meta(
      z.unknown().check(
        rule<unknown>(SpecErrorCodes.invalidSpec, (value) => {
          const problem = value === undefined ? null : formProblem(value);
          return problem === null ? undefined : `is not a supported JSON Schema: ${problem}`;
        }),
      ),
      { description: "JSON Schema (a subset: docs/forms.md) of the answer." },
    ).optional(),
    due: positiveInterval.optional(),
    escalateTo: text("a person or group", 200).optional(),
    onTimeout: onTimeoutSchema.optional(),
  })
    .check(
      rule<{ escalateTo?: unknown; due?: unknown }>(SpecErrorCodes.invalidSpec, (value) =>
        value.escalateTo !== undefined && value.due === undefined
          ? 'human.escalateTo needs "due": the task escalates when it is due'
          : undefined,
      ),
    )
    .check(needs("due", "human")),
  {
    id: "Human",
    description:
      "A task for a person: it waits until they complete it (rowflow.complete_task); the answer becomes the step's output.",
  },
);

/**
 * `waitFor`: a row of a business table matching a SQL condition whose
 * `$.paths` stand for run values. SQL checks the rest (the table exists and
 * the owner may read it, RF011; the condition parses and type-checks, RF012).
 */
export const waitForSchema = meta(
  strict("waitFor", {
    table: meta(text("a schema-qualified table name", 200), {
      description: 'The table, schema-qualified, e.g. "shop.payments".',
    }),
    where: meta(text("a SQL condition", 4000), {
      description:
        "A SQL condition on the table's columns; $.input.… / $.steps.… paths are the run's values as text, e.g. \"order_id = ($.input.orderId)::bigint and status = 'settled'\".",
    }),
    timeout: positiveInterval.optional(),
    onTimeout: onTimeoutSchema.optional(),
  }).check(needs("timeout", "waitFor")),
  {
    id: "WaitFor",
    description:
      "Wait for a row of a business table: checked when the step is reached, then by a trigger on every change to the table; the row is the step's output.",
  },
);

/**
 * `child`: start a run of another workflow (or this one) and take its outcome
 * (docs/spec.md, "Child workflows"). SQL also checks that the workflow is
 * defined already, or is this one (RF015): that needs the database.
 */
export const childSchema = meta(
  strict("child", {
    workflow: named("workflow name", NAME_PATTERN, NAME_RULE),
    input: meta(pathExpression.optional(), {
      default: "$.input",
      description:
        'The child\'s input: a path over {"input", "steps"} that gives a JSON object, e.g. "$.steps.pack".',
    }),
  }),
  {
    id: "Child",
    description:
      "Start a run of a workflow (its latest version) and wait for it without a worker slot: its final steps' outputs become this step's output; its failure fails this step's attempt.",
  },
);

/** Options a wait step (`wait`, `human`, `waitFor`) may not have: it runs no handler. */
export const HANDLER_ONLY_OPTIONS = [
  "attempts",
  "backoff",
  "compensate",
  "queue",
  "task",
  "timeout",
] as const;

/** A step's problems as a wait step or a task step, as SQL checks them at "task". */
export function waitStepProblems(
  step: Readonly<Record<string, unknown>>,
): { path: string; message: string; code: string }[] {
  const kinds = (["wait", "human", "waitFor", "child"] as const).filter(
    (kind) => step[kind] !== undefined,
  );
  if (kinds.length > 1) {
    return [
      {
        path: "task",
        code: SpecErrorCodes.invalidSpec,
        message: `a step waits in one way only; it has ${kinds.join(" and ")}`,
      },
    ];
  }
  const kind = kinds[0];
  if (kind === undefined) {
    return step.task === undefined
      ? [
          {
            path: "task",
            code: SpecErrorCodes.invalidSpec,
            message: 'missing required field "task"',
          },
        ]
      : [];
  }
  // A child step keeps attempts and backoff: a failed child is retried with a new one.
  const extra = HANDLER_ONLY_OPTIONS.find(
    (option) =>
      step[option] !== undefined &&
      !(kind === "child" && (option === "attempts" || option === "backoff")),
  );
  return extra === undefined
    ? []
    : [
        {
          path: "task",
          code: SpecErrorCodes.unknownOption,
          message: `a "${kind}" step has no task; "${extra}" does not apply to it`,
        },
      ];
}
