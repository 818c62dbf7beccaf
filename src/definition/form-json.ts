/**
 * JSON helpers shared by the form validator (form-problem.ts, form-schema.ts),
 * each the twin of a SQL function so that TypeScript and SQL word their
 * messages identically (docs/forms.md).
 */

/** A JSON value as `JSON.parse` gives it. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A JSON object. */
export type JsonObject = { [key: string]: Json };

/**
 * `value` as Postgres receives it once sent as JSON (undefined properties
 * dropped, dates as strings, …), so both sides judge the same value;
 * undefined is null, as SQL null is.
 */
export function toJson(value: unknown): Json {
  const text = JSON.stringify(value);
  return text === undefined ? null : (JSON.parse(text) as Json);
}

/** `jsonb_typeof`: object, array, string, number, boolean or null. */
export function jsonType(value: Json): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

/** Whether `value` is a JSON object (not an array, not null). */
export function isJsonObject(value: Json | undefined): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Code point order of strings (Postgres' `collate "C"` on UTF-8), unlike `<` on UTF-16 units. */
export function byCodePoint(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(i)!;
    if (x !== y) return x - y;
    if (x > 0xffff) i++;
  }
  return a.length - b.length;
}

/** An object's keys in code point order. */
export function sortedKeys(value: JsonObject): string[] {
  return Object.keys(value).sort(byCodePoint);
}

/** Whether `key` is an own property of `value` (jsonb `?`). */
export function hasKey(value: JsonObject, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(value, key);
}

/** One JSON pointer segment (RFC 6901): `~` → `~0`, `/` → `~1`. Twin of `rowflow._form_pointer`. */
export function formPointer(name: string): string {
  return name.replaceAll("~", "~0").replaceAll("/", "~1");
}

/**
 * A JSON value for a message: compact, object keys in code point order,
 * numbers as JavaScript prints them. Twin of `rowflow._form_json`.
 */
export function formJson(value: Json): string {
  if (Array.isArray(value)) return `[${value.map(formJson).join(",")}]`;
  if (isJsonObject(value)) {
    const entries = sortedKeys(value).map(
      (key) => `${JSON.stringify(key)}:${formJson(value[key]!)}`,
    );
    return `{${entries.join(",")}}`;
  }
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}

/** jsonb equality: same type and value, arrays in order, objects with the same keys. */
export function jsonEqual(a: Json, b: Json): boolean {
  if (Array.isArray(a)) {
    return (
      Array.isArray(b) && a.length === b.length && a.every((item, i) => jsonEqual(item, b[i]!))
    );
  }
  if (isJsonObject(a)) {
    if (!isJsonObject(b)) return false;
    const keys = Object.keys(a);
    return (
      keys.length === Object.keys(b).length &&
      keys.every((key) => hasKey(b, key) && jsonEqual(a[key]!, b[key]!))
    );
  }
  return a === b;
}
