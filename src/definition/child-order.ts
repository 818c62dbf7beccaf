/**
 * The order `syncWorkflows` defines workflows in: each after the workflows
 * its child steps start (define_workflow rejects a child workflow that is
 * not defined yet, RF015), otherwise as listed. A workflow may start itself;
 * workflows that start each other cannot both be defined first, and keep
 * their listed order (SQL then names the missing one).
 */
/** The indexes of `workflows` in definition order: children first, else as listed. */
export function childFirstOrder(
  workflows: readonly { readonly name: string; readonly spec: object }[],
): number[] {
  const index = new Map(workflows.map((workflow, i) => [workflow.name, i]));
  const order: number[] = [];
  const state = new Map<number, "visiting" | "done">();
  const visit = (i: number): void => {
    if (state.has(i)) return; // done, or a cycle: keep the listed order
    state.set(i, "visiting");
    for (const name of childWorkflows(workflows[i]!.spec)) {
      const child = index.get(name);
      if (child !== undefined && child !== i) visit(child);
    }
    state.set(i, "done");
    order.push(i);
  };
  workflows.forEach((_, i) => visit(i));
  return order;
}

/** The workflows a spec's child steps name (any spec shape: not validated yet). */
function childWorkflows(spec: object): string[] {
  const steps: unknown = (spec as { steps?: unknown }).steps;
  if (!Array.isArray(steps)) return [];
  return steps.flatMap((step: unknown) => {
    const child: unknown = (step as { child?: unknown } | null)?.child;
    const name: unknown = (child as { workflow?: unknown } | null)?.workflow;
    return typeof name === "string" ? [name] : [];
  });
}
