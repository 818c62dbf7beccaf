// What the designer asks the server on every edit: the spec's problems by
// the engine's own rules (validateSpec: the zod schema of src/definition and
// the RF codes and messages rowflow.define_workflow raises), the cycle when
// there is one (findCycle, the one SQL names), and the graph laid out by
// dagre (dag.ts, the layout of the other pages). Pure: no database.
import { findCycle } from "../definition/spec-graph.js";
import { validateSpec } from "../definition/validate-spec.js";
import { type DagLayout, layoutDag } from "./dag.js";

export interface DesignerProblem {
  code: string;
  path: (string | number)[];
  message: string;
}

export interface DesignerCheck {
  ok: boolean;
  problems: DesignerProblem[];
  /** Step names in execution order, closed (`["a", "b", "a"]`), or null. */
  cycle: string[] | null;
  /** Nodes keyed by the step's index in `steps` (as a string). */
  layout: DagLayout;
}

type LooseStep = { index: number; name: string; dependsOn: string[] };

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** The steps as far as they can be drawn: any object in `steps`, its string deps. */
export function looseSteps(spec: unknown): LooseStep[] {
  if (!isRecord(spec) || !Array.isArray(spec.steps)) return [];
  return spec.steps.flatMap((step: unknown, index): LooseStep[] => {
    if (!isRecord(step)) return [];
    const deps = Array.isArray(step.dependsOn) ? step.dependsOn : [];
    return [
      {
        index,
        name: typeof step.name === "string" ? step.name : "",
        dependsOn: deps.filter((d): d is string => typeof d === "string"),
      },
    ];
  });
}

export function checkDesign(name: string | undefined, spec: unknown): DesignerCheck {
  const result = validateSpec(spec, name === undefined || name === "" ? {} : { name });
  const problems: DesignerProblem[] = result.ok
    ? []
    : result.error.issues.map((i) => ({ code: i.code, path: [...i.path], message: i.message }));
  const steps = looseSteps(spec);
  let cycle: string[] | null = null;
  if (problems.some((p) => p.code === "RF008")) cycle = findCycle(steps) ?? null;
  // A dependency names the first step of that name (duplicates are RF005).
  const indexOf = new Map<string, number>();
  for (const s of steps) if (!indexOf.has(s.name)) indexOf.set(s.name, s.index);
  const layout = layoutDag(
    steps.map((s) => ({
      id: String(s.index),
      dependsOn: s.dependsOn.flatMap((d) => {
        const i = indexOf.get(d);
        return i === undefined ? [] : [String(i)];
      }),
    })),
  );
  return { ok: result.ok, problems, cycle, layout };
}
