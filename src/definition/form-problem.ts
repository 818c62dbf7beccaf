/**
 * `formProblem`: whether a human task's form is a JSON Schema of the subset
 * rowflow enforces (docs/forms.md). The twin of `rowflow._form_problem`
 * (sql/schema/30_define/_form_problem.sql): the same checks in the same
 * order, so both report the same first problem with the same message. One
 * exception: a pattern is compiled here as a JavaScript RegExp, in the
 * database as a POSIX ARE, so an invalid pattern's message differs, and a
 * pattern only one of the two dialects accepts is refused by that one only.
 */
import {
  formJson,
  formPointer,
  isJsonObject,
  type Json,
  type JsonObject,
  jsonType,
  sortedKeys,
  toJson,
} from "./form-json.js";

/** The keywords of the subset, in the order they are checked. */
export const FORM_KEYWORDS = [
  "type",
  "enum",
  "const",
  "minimum",
  "maximum",
  "exclusiveMinimum",
  "exclusiveMaximum",
  "minLength",
  "maxLength",
  "pattern",
  "format",
  "properties",
  "required",
  "additionalProperties",
  "items",
  "minItems",
  "maxItems",
  "title",
  "description",
  "default",
  "examples",
  "$schema",
  "$comment",
] as const;

/** The type names of `type`. */
export const FORM_TYPES = ["object", "array", "string", "number", "integer", "boolean", "null"];

/** The values of `format`. */
export const FORM_FORMATS = ["date-time", "date", "email"];

/** How deep schemas may nest (properties, items, additionalProperties). */
export const FORM_MAX_DEPTH = 32;

const KEYWORDS: ReadonlySet<string> = new Set(FORM_KEYWORDS);
const TYPES_RULE = `(types: ${FORM_TYPES.join(", ")})`;
const MAX_INT = 2147483647;

/**
 * The first reason `form` is not a form rowflow can enforce, named by its
 * JSON pointer (`form/properties/amount/type: unknown type "integr" (…)`),
 * or null when it is one. Never throws.
 */
export function formProblem(form: unknown): string | null {
  let json: Json;
  try {
    json = toJson(form);
  } catch (error) {
    return `form: not JSON (${error instanceof Error ? error.message : String(error)})`;
  }
  return form === undefined
    ? "form: a schema must be an object or a boolean, got nothing"
    : schemaProblem(json, "form", 0);
}

function schemaProblem(schema: Json, path: string, depth: number): string | null {
  // GUARD: a schema nests at most 32 deep, and is an object or a boolean.
  if (depth > FORM_MAX_DEPTH) return `${path}: schemas nest deeper than ${FORM_MAX_DEPTH} levels`;
  if (typeof schema === "boolean") return null;
  if (!isJsonObject(schema)) {
    return `${path}: a schema must be an object or a boolean, got ${jsonType(schema)}`;
  }
  // PHASE 1: no keyword outside the subset.
  const unknown = sortedKeys(schema).find((key) => !KEYWORDS.has(key));
  if (unknown !== undefined) {
    return `${path}/${formPointer(unknown)}: unsupported keyword ${JSON.stringify(unknown)} (supported: ${FORM_KEYWORDS.join(", ")})`;
  }
  // PHASE 2: each keyword's value, in FORM_KEYWORDS order.
  return (
    typeProblem(schema.type, path) ??
    (schema.enum !== undefined && (!Array.isArray(schema.enum) || schema.enum.length === 0)
      ? `${path}/enum: must be a non-empty array of the allowed values`
      : null) ??
    numberProblems(schema, path, ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"]) ??
    countProblems(schema, path, ["minLength", "maxLength"]) ??
    patternProblem(schema.pattern, path) ??
    (schema.format !== undefined &&
    (typeof schema.format !== "string" || !FORM_FORMATS.includes(schema.format))
      ? `${path}/format: unknown format ${formJson(schema.format)} (formats: ${FORM_FORMATS.join(", ")})`
      : null) ??
    propertiesProblem(schema.properties, path, depth) ??
    requiredProblem(schema.required, path) ??
    (schema.additionalProperties !== undefined
      ? schemaProblem(schema.additionalProperties, `${path}/additionalProperties`, depth + 1)
      : null) ??
    (schema.items !== undefined ? schemaProblem(schema.items, `${path}/items`, depth + 1) : null) ??
    countProblems(schema, path, ["minItems", "maxItems"]) ??
    annotationProblem(schema, path)
  );
}

function typeProblem(type: Json | undefined, path: string): string | null {
  if (type === undefined) return null;
  if (typeof type === "string") {
    return FORM_TYPES.includes(type)
      ? null
      : `${path}/type: unknown type ${JSON.stringify(type)} ${TYPES_RULE}`;
  }
  if (!Array.isArray(type) || type.length === 0) {
    return `${path}/type: must be a type name or a non-empty array of type names`;
  }
  const seen: string[] = [];
  for (const [i, name] of type.entries()) {
    if (typeof name !== "string")
      return `${path}/type/${i}: must be a type name (${FORM_TYPES.join(", ")})`;
    if (!FORM_TYPES.includes(name))
      return `${path}/type/${i}: unknown type ${JSON.stringify(name)} ${TYPES_RULE}`;
    if (seen.includes(name)) return `${path}/type/${i}: lists ${JSON.stringify(name)} twice`;
    seen.push(name);
  }
  return null;
}

function numberProblems(schema: JsonObject, path: string, keys: string[]): string | null {
  for (const key of keys) {
    const value = schema[key];
    if (value === undefined) continue;
    if (typeof value !== "number") return `${path}/${key}: must be a number`;
  }
  return null; // JSON numbers beyond a double's range parse as Infinity, gone by toJson
}

function countProblems(schema: JsonObject, path: string, keys: string[]): string | null {
  for (const key of keys) {
    const value = schema[key];
    if (value === undefined) continue;
    if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > MAX_INT) {
      return `${path}/${key}: must be an integer from 0 to ${MAX_INT}`;
    }
  }
  return null;
}

function patternProblem(pattern: Json | undefined, path: string): string | null {
  if (pattern === undefined) return null;
  if (typeof pattern !== "string")
    return `${path}/pattern: must be a string holding a regular expression`;
  try {
    new RegExp(pattern, "us");
    return null;
  } catch (error) {
    return `${path}/pattern: ${(error as Error).message} (checked as an ECMAScript RegExp here; the database checks it as a POSIX regular expression)`;
  }
}

function propertiesProblem(
  properties: Json | undefined,
  path: string,
  depth: number,
): string | null {
  if (properties === undefined) return null;
  if (!isJsonObject(properties))
    return `${path}/properties: must be an object mapping property names to schemas`;
  for (const key of sortedKeys(properties)) {
    const problem = schemaProblem(
      properties[key]!,
      `${path}/properties/${formPointer(key)}`,
      depth + 1,
    );
    if (problem !== null) return problem;
  }
  return null;
}

function requiredProblem(required: Json | undefined, path: string): string | null {
  if (required === undefined) return null;
  if (!Array.isArray(required)) return `${path}/required: must be an array of property names`;
  const seen: string[] = [];
  for (const [i, name] of required.entries()) {
    if (typeof name !== "string")
      return `${path}/required/${i}: must be a property name (a string)`;
    if (seen.includes(name)) return `${path}/required/${i}: lists ${JSON.stringify(name)} twice`;
    seen.push(name);
  }
  return null;
}

function annotationProblem(schema: JsonObject, path: string): string | null {
  for (const key of ["title", "description", "examples", "$schema", "$comment"]) {
    const value = schema[key];
    if (value === undefined) continue;
    if (key === "examples" ? !Array.isArray(value) : typeof value !== "string") {
      return `${path}/${key}: must be ${key === "examples" ? "an array" : "a string"}`;
    }
  }
  return null; // const and default may be any value
}
