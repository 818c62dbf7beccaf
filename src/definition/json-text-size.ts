/**
 * The size in bytes of a JSON value as Postgres prints jsonb (`value::text`):
 * JSON.stringify's bytes plus the space Postgres writes after every `:` and
 * `,`. Numbers are counted as JavaScript prints them (Postgres keeps a
 * number's own spelling, e.g. 1.0), close enough for a limit of megabytes.
 */
export function jsonTextSize(value: unknown): number {
  let spaces = 0;
  const count = (v: unknown): void => {
    if (Array.isArray(v)) {
      spaces += Math.max(0, v.length - 1);
      for (const element of v) count(element);
    } else if (v !== null && typeof v === "object") {
      const entries = Object.entries(v).filter(([, child]) => child !== undefined);
      spaces += entries.length + Math.max(0, entries.length - 1);
      for (const [, child] of entries) count(child);
    }
  };
  count(value);
  return Buffer.byteLength(JSON.stringify(value) ?? "") + spaces;
}
