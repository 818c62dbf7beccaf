/**
 * Turns a handler's return value into the JSON text stored as the step
 * output, or explains why it cannot be. Stricter than `JSON.stringify`, which
 * silently drops functions, turns NaN into null and throws on BigInt and
 * cycles with messages that do not say where: a bad output is a bug in the
 * handler and fails the step (non-retryable) with the path of the bad value.
 */

/** Either the JSON text, or the reason the value is not JSON. */
export type JsonOutput = { ok: true; json: string } | { ok: false; problem: string };

/** `undefined` (a handler that returns nothing) becomes `null`. */
export function toJsonOutput(value: unknown): JsonOutput {
  const problem = findProblem(value, "$", new Set());
  if (problem) return { ok: false, problem };
  return { ok: true, json: JSON.stringify(value === undefined ? null : value) };
}

function findProblem(value: unknown, path: string, ancestors: Set<object>): string | undefined {
  switch (typeof value) {
    case "string":
    case "boolean":
    case "undefined":
      return undefined;
    case "number":
      return Number.isFinite(value)
        ? undefined
        : `${path} is ${String(value)}, which JSON cannot represent`;
    case "bigint":
      return `${path} is a BigInt; return it as a string or number`;
    case "function":
      return `${path} is a function`;
    case "symbol":
      return `${path} is a symbol`;
    case "object":
      break;
  }
  if (value === null) return undefined;
  const object = value as object;
  if (ancestors.has(object)) return `${path} is a circular reference`;
  const toJSON = (object as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === "function") {
    return findProblem((toJSON as () => unknown).call(object), path, ancestors);
  }
  ancestors.add(object);
  try {
    if (Array.isArray(object)) {
      for (let i = 0; i < object.length; i++) {
        const element: unknown = object[i];
        // JSON.stringify writes undefined/function elements as null; a function is still a bug.
        if (element === undefined) continue;
        const problem = findProblem(element, `${path}[${i}]`, ancestors);
        if (problem) return problem;
      }
      return undefined;
    }
    if (object instanceof Map || object instanceof Set) {
      return `${path} is a ${object instanceof Map ? "Map" : "Set"}, which JSON writes as {}; convert it to an object or array`;
    }
    for (const [key, child] of Object.entries(object)) {
      if (child === undefined) continue;
      const problem = findProblem(child, `${path}.${key}`, ancestors);
      if (problem) return problem;
    }
    return undefined;
  } finally {
    ancestors.delete(object);
  }
}
