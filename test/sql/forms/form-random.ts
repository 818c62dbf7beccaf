/**
 * Random forms and answers, from a seeded generator (the same cases on every
 * run), for the SQL/TypeScript parity test of the form validator: mostly
 * supported keywords with values near their limits, property names that
 * sort differently by UTF-16 and by code point or need JSON pointer escapes,
 * and a few unsupported keywords and bad values.
 */

/** A deterministic random source (an LCG) from `seed`. */
function random(seed: number) {
  let state = seed;
  const next = () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  return { next, pick };
}

const NAMES = ["a", "b", "B", "é", "a/b", "x~y", "😀", "\uE000"];
const STRINGS = [
  "",
  "ab",
  "abc",
  "2024-02-29",
  "2025-02-29",
  "2026-12-04T09:30:00Z",
  "a@b.cd",
  "a b@c.d",
  "é😀ü",
  "line\nbreak",
  "AB-12",
];

/** `count` cases of a form and an answer. */
export function randomCases(seed: number, count: number): Array<{ form: unknown; value: unknown }> {
  const { next, pick } = random(seed);
  const chance = (p: number) => next() < p;

  function value(depth: number): unknown {
    const kind = pick(["number", "integer", "string", "boolean", "null", "object", "array"]);
    if (kind === "number") return pick([0, -1, 1.5, 1000, 1e21, 1e-7, 999.999]);
    if (kind === "integer") return pick([0, 1, 3, 10, -5]);
    if (kind === "string") return pick(STRINGS);
    if (kind === "boolean") return chance(0.5);
    if (kind === "null" || depth > 2) return null;
    if (kind === "array")
      return Array.from({ length: Math.floor(next() * 4) }, () => value(depth + 1));
    const object: Record<string, unknown> = {};
    for (let i = 0; i < 3; i++) if (chance(0.6)) object[pick(NAMES)] = value(depth + 1);
    return object;
  }

  function schema(depth: number): unknown {
    if (chance(0.08)) return chance(0.5);
    const s: Record<string, unknown> = {};
    const add = (p: number, key: string, make: () => unknown) => {
      if (chance(p)) s[key] = make();
    };
    const types = ["object", "array", "string", "number", "integer", "boolean", "null"];
    add(0.4, "type", () =>
      chance(0.7) ? pick(types) : [pick(["string", "integer"]), pick(["null", "number", "object"])],
    );
    add(0.1, "enum", () => [value(2), value(2), pick(["ab", 1, null])]);
    add(0.1, "const", () => value(2));
    for (const key of ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"]) {
      add(0.1, key, () => pick([0, 1, 1.5, 1000, 1e-7]));
    }
    for (const key of ["minLength", "maxLength", "minItems", "maxItems"]) {
      add(0.1, key, () => pick([0, 1, 2, 3]));
    }
    add(0.1, "pattern", () => pick(["^[A-Z]{2}-[0-9]+$", "b", "^.{3}$", "a.b", "[0-9]"]));
    add(0.1, "format", () => pick(["date", "date-time", "email"]));
    if (depth < 3) {
      add(0.4, "properties", () => {
        const properties: Record<string, unknown> = {};
        for (let i = 0; i < 3; i++) if (chance(0.6)) properties[pick(NAMES)] = schema(depth + 1);
        return properties;
      });
      add(0.3, "required", () => [...new Set([pick(NAMES), pick(NAMES)])]);
      add(0.3, "additionalProperties", () => (chance(0.5) ? chance(0.5) : schema(depth + 1)));
      add(0.3, "items", () => schema(depth + 1));
    }
    add(0.05, "title", () => "t");
    add(0.03, pick(["oneOf", "multipleOf", "zzz"]), () => 1);
    add(0.03, "type", () => pick(["integr", 1, []]));
    add(0.03, "required", () => pick([["a", "a"], "a", [1]]));
    add(0.03, "minLength", () => pick([-1, 1.5, "2"]));
    return s;
  }

  return Array.from({ length: count }, () => ({ form: schema(0), value: value(0) }));
}
