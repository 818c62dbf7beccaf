/**
 * The rules of a map step (`map`, `mapErrors`), mirroring
 * `rowflow._compile_map` (sql/schema/30_define/_compile_map.sql; reference:
 * docs/spec.md, "Map steps"): the path must start at the run input
 * (`$.input…`) or at one of the step's own dependencies (`$.steps.<dep>…`,
 * RF013 otherwise), and a map step cannot wait, be delayed or use a named
 * queue, since its elements are queued as soon as it is ready.
 */
import { SpecErrorCodes } from "./error-codes.js";

/** The most elements a map step runs over; more fails the step (error code RF070). */
export const MAX_MAP_ELEMENTS = 10_000;

/** What `mapErrors` may be: `fail` (an element's failure fails the step) or `collect`. */
export const MAP_ERRORS = ["fail", "collect"] as const;

const OPTIONS_NOT_WITH_MAP = ["queue", "delay", "startAt", "wait", "human", "waitFor"] as const;

// SQL: '^\s*(?:(?:lax|strict)\s+)?\$\s*\.\s*(?:(input)\M|steps\s*\.\s*(?:"…"|name))'
const START =
  /^\s*(?:(?:lax|strict)\s+)?\$\s*\.\s*(?:(input)(?![A-Za-z0-9_])|steps\s*\.\s*(?:"((?:[^"\\]|\\.)*)"|([A-Za-z_][A-Za-z0-9_-]*)))/;

/** Where a map path starts: the run input, or the output of a named step. */
export type MapSource =
  { readonly kind: "input" } | { readonly kind: "step"; readonly step: string };

/** Returns where `path` starts, or `undefined` when it starts elsewhere. */
export function mapSource(path: string): MapSource | undefined {
  const match = START.exec(path);
  if (match === null) return undefined;
  if (match[1] !== undefined) return { kind: "input" };
  return { kind: "step", step: match[2]?.replace(/\\"/g, '"') ?? match[3] ?? "" };
}

/** The map rules' problems of one step (paths relative to the step). */
export function mapStepProblems(
  step: Readonly<Record<string, unknown>>,
): { path: string; message: string; code: string }[] {
  if (step.map === undefined) {
    return step.mapErrors === undefined
      ? []
      : [
          {
            path: "mapErrors",
            code: SpecErrorCodes.invalidSpec,
            message: '"mapErrors" needs "map" (the array the step runs over)',
          },
        ];
  }
  if (typeof step.map !== "string") return []; // the path's own check reports it
  const source = mapSource(step.map);
  if (source === undefined) {
    return [
      {
        path: "map",
        code: SpecErrorCodes.invalidPath,
        message: `map must be a path into the run input or a dependency's output ("$.input.…" or "$.steps.<dependency>.…"), got ${JSON.stringify(step.map)}`,
      },
    ];
  }
  const deps = Array.isArray(step.dependsOn) ? (step.dependsOn as unknown[]) : [];
  if (source.kind === "step" && !deps.includes(source.step)) {
    return [
      {
        path: "map",
        code: SpecErrorCodes.mapNotDependency,
        message: `map reads the output of step "${source.step}", which is not in its dependsOn; add "${source.step}" to dependsOn or map over a dependency's output`,
      },
    ];
  }
  const bad = OPTIONS_NOT_WITH_MAP.filter((option) => step[option] !== undefined).sort();
  return bad.length === 0
    ? []
    : [
        {
          path: "map",
          code: SpecErrorCodes.invalidSpec,
          message: `a map step cannot have ${bad.join(", ")}: its elements are queued as soon as it is ready`,
        },
      ];
}
