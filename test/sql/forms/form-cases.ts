/**
 * Cases of the form validator (docs/forms.md), each run against both
 * `rowflow._form_errors` / `rowflow._form_problem` and their TypeScript twins.
 */

/** A form, an answer, and every error both sides must report, in order. */
export interface ErrorCase {
  title: string;
  form: unknown;
  value: unknown;
  errors: string[];
}

const approval = {
  type: "object",
  title: "Approve the refund",
  properties: {
    approved: { type: "boolean", description: "yes or no" },
    amount: { type: "integer", minimum: 0, maximum: 1000, default: 0 },
    reason: { type: "string", minLength: 3, maxLength: 10 },
  },
  required: ["approved"],
  additionalProperties: false,
};

export const errorCases: ErrorCase[] = [
  {
    title: "the example of docs/forms.md",
    form: {
      type: "object",
      properties: {
        approved: { type: "boolean" },
        amount: { type: "integer", minimum: 0, maximum: 1000 },
        reason: { type: "string", minLength: 3 },
        payday: { type: "string", format: "date" },
      },
      required: ["approved"],
      additionalProperties: false,
    },
    value: { amount: 1500, reason: "no", payday: "2025-02-29", note: "x" },
    errors: [
      'answer: missing required property "approved"',
      "answer/amount: must be <= 1000",
      "answer/payday: must be a date (YYYY-MM-DD)",
      "answer/reason: must have at least 3 characters",
      'answer: unexpected property "note"',
    ],
  },
  { title: "empty schema accepts anything", form: {}, value: { any: [1, "x"] }, errors: [] },
  { title: "true accepts anything", form: true, value: null, errors: [] },
  {
    title: "false accepts nothing",
    form: false,
    value: 1,
    errors: ["answer: no value is allowed here"],
  },
  {
    title: "a valid approval",
    form: approval,
    value: { approved: true, amount: 1000, reason: "ok, fine" },
    errors: [],
  },
  {
    title: "every violation of an approval, in order",
    form: approval,
    value: { amount: 1000.5, reason: "no", extra: 1, "a/b": 2 },
    errors: [
      'answer: missing required property "approved"',
      "answer/amount: must be of type integer, got number",
      "answer/reason: must have at least 3 characters",
      'answer: unexpected property "a/b"',
      'answer: unexpected property "extra"',
    ],
  },
  {
    title: "maximum, and the limit printed as JavaScript prints it",
    form: { properties: { amount: { maximum: 1e3 } } },
    value: { amount: 1500 },
    errors: ["answer/amount: must be <= 1000"],
  },
  {
    title: "minimum and exclusive bounds",
    form: { type: "array", items: { minimum: 1, exclusiveMinimum: 0, exclusiveMaximum: 10 } },
    value: [0, 1, 10, 5.5],
    errors: ["answer/0: must be >= 1", "answer/0: must be > 0", "answer/2: must be < 10"],
  },
  { title: "integer accepts 2.0", form: { type: "integer" }, value: 2.0, errors: [] },
  {
    title: "a wrong type is the only error at its place",
    form: { type: "string", minLength: 5, enum: ["a"] },
    value: 3,
    errors: ["answer: must be of type string, got number"],
  },
  {
    title: "a type list",
    form: { type: ["string", "null"] },
    value: true,
    errors: ["answer: must be of type string or null, got boolean"],
  },
  {
    title: "a type list accepts null",
    form: { type: ["string", "null"] },
    value: null,
    errors: [],
  },
  {
    title: "enum, values rendered compactly with keys in order",
    form: { enum: ["low", 2, { b: 1, a: [true, null] }] },
    value: "medium",
    errors: ['answer: must be one of ["low",2,{"a":[true,null],"b":1}]'],
  },
  {
    title: "enum compares objects by value",
    form: { enum: [{ a: 1, b: 2 }] },
    value: { b: 2, a: 1 },
    errors: [],
  },
  {
    title: "const",
    form: { const: "yes" },
    value: "no",
    errors: ['answer: must be equal to "yes"'],
  },
  {
    title: "maxLength counts characters, not UTF-16 units or bytes",
    form: { maxLength: 3 },
    value: "é😀ü",
    errors: [],
  },
  {
    title: "maxLength violated",
    form: { maxLength: 3 },
    value: "abcd",
    errors: ["answer: must have at most 3 characters"],
  },
  {
    title: "pattern is a search unless anchored",
    form: { pattern: "[0-9]{3}" },
    value: "ab123cd",
    errors: [],
  },
  {
    title: "pattern violated, the pattern quoted as JSON",
    form: { pattern: "^[A-Z]{2}-\\d+$" },
    value: "ab-12",
    errors: ['answer: must match the pattern "^[A-Z]{2}-\\\\d+$"'],
  },
  {
    title: "format date: a real calendar day",
    form: { type: "array", items: { format: "date" } },
    value: ["2024-02-29", "2025-02-29", "2025-13-01", "2025-1-01", 7],
    errors: [
      "answer/1: must be a date (YYYY-MM-DD)",
      "answer/2: must be a date (YYYY-MM-DD)",
      "answer/3: must be a date (YYYY-MM-DD)",
    ],
  },
  {
    title: "format date-time: RFC 3339 with an offset",
    form: { items: { format: "date-time" } },
    value: [
      "2026-12-04T09:30:00Z",
      "2026-12-04t09:30:00.123+05:30",
      "2026-12-04 09:30:00Z",
      "2026-12-04T24:00:00Z",
      "2026-12-04T09:30:00",
    ],
    errors: [
      "answer/2: must be a date-time (RFC 3339, e.g. 2026-12-04T09:30:00Z)",
      "answer/3: must be a date-time (RFC 3339, e.g. 2026-12-04T09:30:00Z)",
      "answer/4: must be a date-time (RFC 3339, e.g. 2026-12-04T09:30:00Z)",
    ],
  },
  {
    title: "format email (simple)",
    form: { items: { format: "email" } },
    value: ["ann@example.com", "ann@example", "ann smith@example.com", "@example.com"],
    errors: [
      "answer/1: must be an email address",
      "answer/2: must be an email address",
      "answer/3: must be an email address",
    ],
  },
  {
    title: "minItems, maxItems and items",
    form: { items: { type: "string" }, minItems: 4, maxItems: 1 },
    value: ["a", 1, "c"],
    errors: [
      "answer: must have at least 4 items",
      "answer: must have at most 1 items",
      "answer/1: must be of type string, got number",
    ],
  },
  {
    title: "additionalProperties as a schema, paths as JSON pointers",
    form: { properties: { a: {} }, additionalProperties: { type: "number" } },
    value: { a: "x", "b~c": "y", "d/e": 1 },
    errors: ["answer/b~0c: must be of type number, got string"],
  },
  {
    title: "nested objects",
    form: {
      properties: {
        line: { properties: { qty: { type: "integer", minimum: 1 } }, required: ["qty", "sku"] },
      },
    },
    value: { line: { qty: 0 } },
    errors: ['answer/line: missing required property "sku"', "answer/line/qty: must be >= 1"],
  },
  {
    title: "properties in code point order, not insertion or UTF-16 order",
    form: {
      properties: {
        b: { type: "string" },
        "😀": { type: "string" },
        a: { type: "string" },
        "\uE000": { type: "string" },
        B: { type: "string" },
      },
    },
    value: { a: 1, b: 1, B: 1, "😀": 1, "\uE000": 1 },
    errors: [
      "answer/B: must be of type string, got number",
      "answer/a: must be of type string, got number",
      "answer/b: must be of type string, got number",
      "answer/\uE000: must be of type string, got number",
      "answer/😀: must be of type string, got number",
    ],
  },
  {
    title: "annotations are ignored",
    form: {
      title: "t",
      description: "d",
      default: 5,
      examples: [1],
      $schema: "https://json-schema.org/draft/2020-12/schema",
      $comment: "c",
      type: "number",
    },
    value: 7,
    errors: [],
  },
];

/** A form and the problem both sides must report (null: accepted). */
export interface ProblemCase {
  title: string;
  form: unknown;
  problem: string | null;
}

const supported =
  "type, enum, const, minimum, maximum, exclusiveMinimum, exclusiveMaximum, minLength, maxLength, pattern, format, properties, required, additionalProperties, items, minItems, maxItems, title, description, default, examples, $schema, $comment";
const types = "object, array, string, number, integer, boolean, null";

/** `depth` levels of properties around {}. */
export function nested(depth: number): unknown {
  let form: unknown = {};
  for (let i = 0; i < depth; i++) form = { properties: { a: form } };
  return form;
}

export const problemCases: ProblemCase[] = [
  { title: "the approval form", form: approval, problem: null },
  { title: "true", form: true, problem: null },
  { title: "{}", form: {}, problem: null },
  { title: "32 levels deep", form: nested(32), problem: null },
  {
    title: "33 levels deep",
    form: nested(33),
    problem: `form${"/properties/a".repeat(33)}: schemas nest deeper than 32 levels`,
  },
  {
    title: "not a schema",
    form: [],
    problem: "form: a schema must be an object or a boolean, got array",
  },
  {
    title: "an unknown keyword, the first in code point order",
    form: { type: "object", oneOf: [], allOf: [] },
    problem: `form/allOf: unsupported keyword "allOf" (supported: ${supported})`,
  },
  {
    title: "an unknown keyword inside properties",
    form: { properties: { amount: { type: "integer", multipleOf: 5 } } },
    problem: `form/properties/amount/multipleOf: unsupported keyword "multipleOf" (supported: ${supported})`,
  },
  {
    title: "a bad type name",
    form: { properties: { amount: { type: "integr" } } },
    problem: `form/properties/amount/type: unknown type "integr" (types: ${types})`,
  },
  {
    title: "a bad type in a list",
    form: { type: ["string", 1] },
    problem: `form/type/1: must be a type name (${types})`,
  },
  {
    title: "a type listed twice",
    form: { type: ["string", "string"] },
    problem: 'form/type/1: lists "string" twice',
  },
  {
    title: "an empty type list",
    form: { type: [] },
    problem: "form/type: must be a type name or a non-empty array of type names",
  },
  {
    title: "an empty enum",
    form: { enum: [] },
    problem: "form/enum: must be a non-empty array of the allowed values",
  },
  { title: "a string minimum", form: { minimum: "1" }, problem: "form/minimum: must be a number" },
  {
    title: "a fractional maxLength",
    form: { maxLength: 1.5 },
    problem: "form/maxLength: must be an integer from 0 to 2147483647",
  },
  {
    title: "a negative minItems",
    form: { minItems: -1 },
    problem: "form/minItems: must be an integer from 0 to 2147483647",
  },
  {
    title: "a non-string pattern",
    form: { pattern: 1 },
    problem: "form/pattern: must be a string holding a regular expression",
  },
  {
    title: "an unsupported format",
    form: { format: "uri" },
    problem: 'form/format: unknown format "uri" (formats: date-time, date, email)',
  },
  {
    title: "properties not an object",
    form: { properties: ["a"] },
    problem: "form/properties: must be an object mapping property names to schemas",
  },
  {
    title: "a property that is not a schema",
    form: { properties: { "a/b": 1 } },
    problem: "form/properties/a~1b: a schema must be an object or a boolean, got number",
  },
  {
    title: "required not an array",
    form: { required: "a" },
    problem: "form/required: must be an array of property names",
  },
  {
    title: "required holding a number",
    form: { required: ["a", 1] },
    problem: "form/required/1: must be a property name (a string)",
  },
  {
    title: "required listing a name twice",
    form: { required: ["a", "a"] },
    problem: 'form/required/1: lists "a" twice',
  },
  {
    title: "a bad items schema",
    form: { items: { type: "text" } },
    problem: `form/items/type: unknown type "text" (types: ${types})`,
  },
  {
    title: "a bad additionalProperties",
    form: { additionalProperties: "no" },
    problem: "form/additionalProperties: a schema must be an object or a boolean, got string",
  },
  { title: "a numeric title", form: { title: 1 }, problem: "form/title: must be a string" },
  {
    title: "examples not an array",
    form: { examples: 1 },
    problem: "form/examples: must be an array",
  },
  {
    title: "problems in keyword order: type before properties",
    form: { properties: { a: { type: "x" } }, type: "y" },
    problem: `form/type: unknown type "y" (types: ${types})`,
  },
];
