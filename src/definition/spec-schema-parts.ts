/**
 * The building blocks of the spec schema (spec-schema.ts): zod schemas whose
 * issues carry the RF code SQL would raise for the same value, in
 * `params.rfCode`, and JSON Schema metadata for `specJsonSchema()`.
 */
import { z } from "zod";

import { describeValue, jsonTypeOf } from "./describe-value.js";
import { type SpecErrorCode, SpecErrorCodes } from "./error-codes.js";
import { INTERVAL_PATTERN, intervalProblem } from "./interval.js";
import { pathExpressionProblem } from "./path-expression.js";

/** Metadata (descriptions, JSON Schema hints) used by `specJsonSchema()`. */
export const specMetadata = z.registry<Record<string, unknown>>();

export function meta<T extends z.ZodType>(schema: T, data: Record<string, unknown>): T {
  specMetadata.add(schema, data);
  return schema;
}

/** A check that pushes an issue with `params.rfCode` when `problem` returns a message. */
export function rule<T>(code: SpecErrorCode, problem: (value: T) => string | undefined) {
  return (payload: z.core.ParsePayload<T>): void => {
    const message = problem(payload.value);
    if (message === undefined) return;
    payload.issues.push({
      code: "custom",
      input: payload.value,
      message,
      params: { rfCode: code },
    });
  };
}

export function expected(what: string) {
  return (issue: { input?: unknown }) => `must be ${what}, got ${describeValue(issue.input)}`;
}

/** A strict object: an unknown key is an RF002 issue listing the allowed keys. */
export function strict<T extends z.core.$ZodLooseShape>(what: string, shape: T) {
  const allowed = Object.keys(shape).join(", ");
  return z.strictObject(shape, {
    error: (issue) => {
      if (issue.code === "unrecognized_keys") {
        const keys = issue.keys.map((key) => JSON.stringify(key)).join(", ");
        return `unknown ${issue.keys.length > 1 ? "options" : "option"} ${keys}; allowed: ${allowed}`;
      }
      if (issue.code === "invalid_type")
        return `${what} must be an object, got ${jsonTypeOf(issue.input)}`;
      return undefined;
    },
  });
}

/** A string matched against `pattern`; a mismatch is RF004. */
export function named(
  what: string,
  pattern: RegExp,
  ruleText: string,
  metadata: Record<string, unknown> = {},
) {
  return meta(
    z
      .string({ error: expected(`a ${what} (string)`) })
      .check(
        rule<string>(SpecErrorCodes.invalidName, (value) =>
          pattern.test(value) ? undefined : `invalid ${what} ${describeValue(value)}: ${ruleText}`,
        ),
      ),
    { ...metadata, pattern: pattern.source },
  );
}

/**
 * An interval. Any value that is not one, whatever its JSON type, is RF010 (as in
 * SQL), hence `z.unknown()` plus a check; the cast states what the check proves.
 */
export function intervalSchema(options: { positive: boolean }) {
  const schema = z
    .unknown()
    .check(
      rule<unknown>(SpecErrorCodes.invalidInterval, (value) => intervalProblem(value, options)),
    );
  return meta(schema as unknown as z.ZodType<number | string, number | string>, {
    anyOf: [
      { type: "integer", minimum: options.positive ? 1 : 0 },
      { type: "string", pattern: INTERVAL_PATTERN.source },
    ],
  });
}

/**
 * A SQL/JSON path expression. Any value that is not a string is RF009 (as in SQL),
 * hence `z.unknown()` plus a check.
 */
export const pathExpression = meta(
  z.unknown().check(
    rule<unknown>(SpecErrorCodes.invalidPath, (value) => {
      if (typeof value !== "string") {
        return `must be a string holding a SQL/JSON path expression, got ${describeValue(value)}`;
      }
      const problem = pathExpressionProblem(value);
      return problem === undefined
        ? undefined
        : `${describeValue(value)} is not a valid SQL/JSON path expression: ${problem}`;
    }),
  ) as unknown as z.ZodType<string, string>,
  {
    id: "PathExpression",
    type: "string",
    minLength: 1,
    description:
      'SQL/JSON path expression over {"input": <run input>, "steps": {"<name>": <output>}}, e.g. "$.input.total > 100".',
  },
);
