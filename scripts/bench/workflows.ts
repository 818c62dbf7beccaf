import { execute } from "./business-table.js";

/** Step list of a chain a → b → … of no-op tasks. */
export function chainSpec(names: string[]): {
  steps: Array<{ name: string; task: string; dependsOn?: string[] }>;
} {
  return {
    steps: names.map((name, i) => ({
      name,
      task: "noop",
      ...(i > 0 ? { dependsOn: [names[i - 1] as string] } : {}),
    })),
  };
}

/** The diamond a → (b, c) → d of no-op tasks. */
export const diamondSpec = {
  steps: [
    { name: "a", task: "noop" },
    { name: "b", task: "noop", dependsOn: ["a"] },
    { name: "c", task: "noop", dependsOn: ["a"] },
    { name: "d", task: "noop", dependsOn: ["b", "c"] },
  ],
};

export async function defineWorkflow(url: string, name: string, spec: unknown): Promise<void> {
  await execute(url, "select rowflow.define_workflow(name => $1, spec => $2::jsonb)", [
    name,
    JSON.stringify(spec),
  ]);
}

/** Defines `workflow` and attaches it to public.bench_orders for inserts. */
export async function attachWorkflow(url: string, workflow: string, spec: unknown): Promise<void> {
  await defineWorkflow(url, workflow, spec);
  await execute(url, "select rowflow.attach('public.bench_orders'::regclass, $1)", [workflow]);
}
