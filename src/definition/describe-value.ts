/** Short descriptions of JSON values for error messages. */

/** The JSON type of a value: `string`, `number`, `boolean`, `null`, `array`, `object` (or the JS type). */
export function jsonTypeOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

/** `"abc"` for strings, `12` for numbers and booleans, the JSON type otherwise; long strings are cut at 60 characters. */
export function describeValue(value: unknown): string {
  if (typeof value === "string") {
    return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  }
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return jsonTypeOf(value);
}
