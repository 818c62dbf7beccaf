/**
 * The dependency-graph rules of a spec, as `rowflow.define_workflow` applies them:
 * duplicate step (RF005), self-dependency (RF007), a dependency listed twice
 * (RF001), unknown dependency (RF006), cycle (RF008).
 */
import { type SpecErrorCode, SpecErrorCodes } from "./error-codes.js";

/** The part of a step the graph rules look at. */
export interface GraphStep {
  readonly name: string;
  readonly dependsOn: readonly string[];
  /** Index of the step in `steps` (Default: its position in the list given). */
  readonly index?: number;
}

/** A rule violation found in the graph, before it becomes a spec issue. */
export interface GraphProblem {
  readonly code: SpecErrorCode;
  readonly path: readonly (string | number)[];
  readonly message: string;
}

/**
 * Checks the dependency graph and returns every problem found (empty when valid).
 * Cycles are only looked for when `cycles` is true and nothing else is wrong,
 * as in SQL, where the cycle check runs last.
 */
export function graphProblems(
  steps: readonly GraphStep[],
  options: { cycles: boolean },
): GraphProblem[] {
  const problems: GraphProblem[] = [];
  const firstIndex = new Map<string, number>();
  for (const [position, step] of steps.entries()) {
    const i = step.index ?? position;
    const first = firstIndex.get(step.name);
    if (first === undefined) firstIndex.set(step.name, i);
    else {
      problems.push({
        code: SpecErrorCodes.duplicateStep,
        path: ["steps", i, "name"],
        message: `duplicate step name "${step.name}" (also steps[${first}]); step names must be unique`,
      });
    }
  }
  for (const [position, step] of steps.entries()) {
    problems.push(...dependencyProblems(step, step.index ?? position, firstIndex));
  }
  if (!options.cycles || problems.length > 0) return problems;
  const cycle = findCycle(steps);
  if (cycle !== undefined) {
    const first = steps.findIndex((step) => step.name === cycle[0]);
    problems.push({
      code: SpecErrorCodes.cycle,
      path: ["steps", steps[first]?.index ?? first, "dependsOn"],
      message:
        `dependency cycle ${cycle.join(" -> ")} ("x -> y" means y depends on x); ` +
        "remove one of these dependsOn entries",
    });
  }
  return problems;
}

function dependencyProblems(
  step: GraphStep,
  i: number,
  stepIndex: ReadonlyMap<string, number>,
): GraphProblem[] {
  const problems: GraphProblem[] = [];
  const seen = new Set<string>();
  step.dependsOn.forEach((dep, j) => {
    const path = ["steps", i, "dependsOn", j];
    if (dep === step.name) {
      problems.push({
        code: SpecErrorCodes.selfDependency,
        path,
        message: `a step cannot depend on itself; remove "${dep}" from the dependsOn of step "${step.name}"`,
      });
    } else if (seen.has(dep)) {
      problems.push({
        code: SpecErrorCodes.invalidSpec,
        path,
        message: `"dependsOn" of step "${step.name}" lists "${dep}" more than once`,
      });
    } else if (!stepIndex.has(dep)) {
      problems.push({
        code: SpecErrorCodes.unknownDependency,
        path,
        message: `step "${step.name}": unknown dependency "${dep}"; known steps: ${listNames(stepIndex)}`,
      });
    }
    seen.add(dep);
  });
  return problems;
}

function listNames(stepIndex: ReadonlyMap<string, number>): string {
  const names = [...stepIndex.keys()];
  const shown = names.slice(0, 20).join(", ");
  return names.length > 20 ? `${shown}, … (${names.length - 20} more)` : shown;
}

/**
 * Finds a cycle exactly as SQL does, so both name the same one: Kahn's algorithm
 * marks every step that can run; from the first blocked step (spec order) walk
 * to its first not-done dependency (dependsOn order) until a step repeats. The
 * stretch from that step is the cycle, returned in execution order and closed:
 * `["a", "b", "c", "a"]` means b depends on a, c on b, a on c.
 * Expects unique names and known dependencies.
 */
export function findCycle(steps: readonly GraphStep[]): string[] | undefined {
  const done = new Set<string>();
  for (;;) {
    const next = steps.filter(
      (step) => !done.has(step.name) && step.dependsOn.every((dep) => done.has(dep)),
    );
    if (next.length === 0) break;
    for (const step of next) done.add(step.name);
  }
  const byName = new Map(steps.map((step) => [step.name, step]));
  let current = steps.find((step) => !done.has(step.name));
  if (current === undefined) return undefined;
  const path: string[] = [];
  while (current !== undefined && !path.includes(current.name)) {
    path.push(current.name);
    const dep: string | undefined = current.dependsOn.find((d) => !done.has(d));
    current = dep === undefined ? undefined : byName.get(dep);
  }
  if (current === undefined) return undefined; // unreachable with known dependencies
  const start = path.indexOf(current.name);
  // path[i] depends on path[i + 1]; print in execution order.
  return [current.name, ...path.slice(start).reverse()];
}
