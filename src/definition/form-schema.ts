/**
 * Human tasks' forms (docs/forms.md): `formProblem` checks a form at
 * definition, `formErrors` checks an answer against it. The twins of
 * `rowflow._form_problem` and `rowflow._form_errors`, which `complete_task`
 * applies: the same subset of JSON Schema and the same messages in the same
 * order, so a client can check an answer before sending it and show what the
 * database would answer. No JSON Schema library: one (ajv) would accept and
 * enforce keywords the database does not, and the two must agree.
 */
import {
  formJson,
  formPointer,
  hasKey,
  isJsonObject,
  type Json,
  jsonEqual,
  type JsonObject,
  jsonType,
  sortedKeys,
  toJson,
} from "./form-json.js";
import { FORM_MAX_DEPTH } from "./form-problem.js";

export { FORM_FORMATS, FORM_KEYWORDS, FORM_TYPES, formProblem } from "./form-problem.js";

const DATE = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/;
const DATE_TIME =
  /^([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?([Zz]|[+-]([0-9]{2}):([0-9]{2}))$/;
const EMAIL = /^[^@ \t\r\n]+@[^@ \t\r\n]+\.[^@ \t\r\n]+$/;

/**
 * Every way `value` breaks `form` (a form `formProblem` accepts), each named
 * by the JSON pointer of the value (`answer/amount: must be <= 1000`), in a
 * fixed order; an empty array when it conforms. Throws only for a form
 * nested deeper than 32 levels (which `formProblem` refuses).
 */
export function formErrors(form: unknown, value: unknown): string[] {
  return errors(toJson(form), toJson(value), "answer", 0);
}

function errors(schema: Json, value: Json, path: string, depth: number): string[] {
  // GUARD: boolean schemas, depth.
  if (depth > FORM_MAX_DEPTH)
    throw new Error(`${path}: the form nests deeper than ${FORM_MAX_DEPTH} levels`);
  if (typeof schema === "boolean") return schema ? [] : [`${path}: no value is allowed here`];
  if (!isJsonObject(schema)) return [];

  // PHASE 1: type, alone when wrong.
  const type = jsonType(value);
  if (schema.type !== undefined) {
    const types = (Array.isArray(schema.type) ? schema.type : [schema.type]) as string[];
    const ok = types.includes(type) || (types.includes("integer") && Number.isInteger(value));
    if (!ok) return [`${path}: must be of type ${types.join(" or ")}, got ${type}`];
  }

  // PHASE 2: enum and const.
  const out: string[] = [];
  if (Array.isArray(schema.enum) && !schema.enum.some((allowed) => jsonEqual(allowed, value))) {
    out.push(`${path}: must be one of ${formJson(schema.enum)}`);
  }
  if (schema.const !== undefined && !jsonEqual(schema.const, value)) {
    out.push(`${path}: must be equal to ${formJson(schema.const)}`);
  }

  // PHASE 3: the keywords of the value's type.
  if (typeof value === "number") {
    const limit = (key: string, fails: (n: number) => boolean, words: string) => {
      const n = schema[key];
      if (typeof n === "number" && fails(n)) out.push(`${path}: must be ${words} ${formJson(n)}`);
    };
    limit("minimum", (n) => value < n, ">=");
    limit("maximum", (n) => value > n, "<=");
    limit("exclusiveMinimum", (n) => value <= n, ">");
    limit("exclusiveMaximum", (n) => value >= n, "<");
  } else if (typeof value === "string") {
    stringErrors(schema, value, path, out);
  } else if (isJsonObject(value)) {
    objectErrors(schema, value, path, depth, out);
  } else if (Array.isArray(value)) {
    count(schema.minItems, (n) => value.length < n, `${path}: must have at least`, "items", out);
    count(schema.maxItems, (n) => value.length > n, `${path}: must have at most`, "items", out);
    if (schema.items !== undefined) {
      for (const [i, item] of value.entries())
        out.push(...errors(schema.items, item, `${path}/${i}`, depth + 1));
    }
  }
  return out;
}

function count(
  limit: Json | undefined,
  fails: (n: number) => boolean,
  head: string,
  noun: string,
  out: string[],
) {
  if (typeof limit === "number" && fails(limit)) out.push(`${head} ${formJson(limit)} ${noun}`);
}

function stringErrors(schema: JsonObject, value: string, path: string, out: string[]): void {
  const length = [...value].length; // characters (code points), as Postgres' length()
  count(schema.minLength, (n) => length < n, `${path}: must have at least`, "characters", out);
  count(schema.maxLength, (n) => length > n, `${path}: must have at most`, "characters", out);
  // "s": "." matches a newline, as in Postgres' default (non-newline-sensitive) mode.
  if (typeof schema.pattern === "string" && !new RegExp(schema.pattern, "us").test(value)) {
    out.push(`${path}: must match the pattern ${JSON.stringify(schema.pattern)}`);
  }
  if (schema.format === "date" && !dateTimeOk(DATE.exec(value), false)) {
    out.push(`${path}: must be a date (YYYY-MM-DD)`);
  } else if (schema.format === "date-time" && !dateTimeOk(DATE_TIME.exec(value), true)) {
    out.push(`${path}: must be a date-time (RFC 3339, e.g. 2026-12-04T09:30:00Z)`);
  } else if (schema.format === "email" && !EMAIL.test(value)) {
    out.push(`${path}: must be an email address`);
  }
}

/** A real calendar date (leap years included), and for a date-time a real time of day and offset. */
function dateTimeOk(m: RegExpExecArray | null, withTime: boolean): boolean {
  if (m === null) return false;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = month === 2 ? (leap ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;
  if (month < 1 || month > 12 || day < 1 || day > days) return false;
  if (!withTime) return true;
  const offsetOk = m[9] === undefined || (Number(m[9]) <= 23 && Number(m[10]) <= 59);
  return Number(m[4]) <= 23 && Number(m[5]) <= 59 && Number(m[6]) <= 60 && offsetOk;
}

function objectErrors(
  schema: JsonObject,
  value: JsonObject,
  path: string,
  depth: number,
  out: string[],
): void {
  if (Array.isArray(schema.required)) {
    for (const name of schema.required) {
      if (typeof name === "string" && !hasKey(value, name)) {
        out.push(`${path}: missing required property ${JSON.stringify(name)}`);
      }
    }
  }
  const properties = isJsonObject(schema.properties) ? schema.properties : {};
  for (const key of sortedKeys(properties)) {
    if (hasKey(value, key)) {
      out.push(...errors(properties[key]!, value[key]!, `${path}/${formPointer(key)}`, depth + 1));
    }
  }
  const additional = schema.additionalProperties;
  if (additional === undefined || additional === true) return;
  for (const key of sortedKeys(value)) {
    if (hasKey(properties, key)) continue;
    if (additional === false) out.push(`${path}: unexpected property ${JSON.stringify(key)}`);
    else out.push(...errors(additional, value[key]!, `${path}/${formPointer(key)}`, depth + 1));
  }
}
