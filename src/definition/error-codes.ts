/**
 * SQLSTATEs (class RF) of spec validation, shared by the SQL engine and the zod
 * schema so that both report the same code for the same mistake (docs/spec.md).
 */
export const SpecErrorCodes = {
  /** Wrong JSON type, missing required field, value out of range. */
  invalidSpec: "RF001",
  /** A key that is not allowed at that place. */
  unknownOption: "RF002",
  /** `steps` is empty. */
  emptyWorkflow: "RF003",
  /** Invalid workflow, step or task name. */
  invalidName: "RF004",
  /** Two steps with the same name. */
  duplicateStep: "RF005",
  /** `dependsOn` names a step that does not exist. */
  unknownDependency: "RF006",
  /** A step lists itself in `dependsOn`. */
  selfDependency: "RF007",
  /** The dependencies form a cycle. */
  cycle: "RF008",
  /** Invalid SQL/JSON path expression (`if`, `queue.key`). */
  invalidPath: "RF009",
  /** Invalid interval (`timeout`, `delay`, `backoff.base`, `backoff.max`). */
  invalidInterval: "RF010",
  /** A map step's `map` reads the output of a step that is not in its `dependsOn`. */
  mapNotDependency: "RF013",
} as const;

/** One of the spec validation codes (`RF001`…`RF010`, `RF013`). */
export type SpecErrorCode = (typeof SpecErrorCodes)[keyof typeof SpecErrorCodes];

const ALL_CODES: ReadonlySet<string> = new Set(Object.values(SpecErrorCodes));

/** Returns whether `value` is one of the spec validation codes. */
export function isSpecErrorCode(value: unknown): value is SpecErrorCode {
  return typeof value === "string" && ALL_CODES.has(value);
}
