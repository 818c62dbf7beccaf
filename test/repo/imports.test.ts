// Keeps the layering of src/ (docs/architecture.md, "Where things live"):
// no import circle anywhere, each folder imports only the folders below it,
// and inside src/worker the parts import downwards only
// (graphile-patches, dispatch < worker-state and friends < attempt < lifecycle < create-worker).
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { describe, expect, it } from "vitest";

const src = fileURLToPath(new URL("../../src/", import.meta.url));

/** What each top-level part of src/ may import (besides itself). */
const allowed: Record<string, readonly string[]> = {
  "errors.ts": [],
  internal: [],
  embedded: ["internal"],
  db: ["errors.ts", "internal"],
  metrics: ["internal", "db"],
  definition: ["errors.ts", "db"],
  logging: ["definition"],
  wake: ["db", "definition"],
  triggers: [],
  tracing: [],
  worker: ["errors.ts", "internal", "db", "definition", "logging", "wake", "tracing", "metrics"],
  client: ["errors.ts", "internal", "db", "definition", "logging", "wake", "tracing"],
  config: ["definition", "embedded", "worker"],
  dev: ["db", "definition", "config", "worker", "dashboard"],
  dashboard: ["errors.ts", "internal", "db", "definition", "client", "triggers", "metrics"],
  cli: [
    "errors.ts",
    "db",
    "definition",
    "client",
    "config",
    "dev",
    "triggers",
    "worker",
    "dashboard",
  ],
  "index.ts": ["*"],
};

/** Levels inside src/worker: a file imports only its own level or lower ones. */
function workerLevel(file: string): number {
  const rel = file.slice("worker/".length);
  if (rel.startsWith("graphile-patches/") || rel.startsWith("dispatch/")) return 0;
  if (rel.startsWith("attempt/")) return 2;
  if (rel.startsWith("lifecycle/")) return 3;
  if (rel === "create-worker.ts") return 4;
  return 1; // worker-state.ts, worker-options.ts, task-registry.ts
}

const part = (file: string) => (file.includes("/") ? file.slice(0, file.indexOf("/")) : file);

async function sourceFiles(): Promise<string[]> {
  const entries = await readdir(src, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith(".ts") && !e.name.endsWith(".d.ts"))
    .map((e) => path.relative(src, path.join(e.parentPath, e.name)).split(path.sep).join("/"))
    .sort();
}

/** The src-relative files a file imports (static and re-exports; type imports too). */
async function importsOf(file: string): Promise<string[]> {
  const text = await readFile(path.join(src, file), "utf8");
  const targets = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^;]*?\bfrom\s+"(\.[^"]+)"/g)]
    .map((m) => m[1]!)
    .map((spec) => path.posix.normalize(path.posix.join(path.posix.dirname(file), spec)))
    .map((target) => target.replace(/\.js$/, ".ts"));
  return [...new Set(targets)];
}

const graph = new Map<string, string[]>();
for (const file of await sourceFiles()) graph.set(file, await importsOf(file));

describe("src/ imports", () => {
  it("resolve to files that exist", () => {
    const missing = [...graph].flatMap(([file, targets]) =>
      targets.filter((t) => !graph.has(t)).map((t) => `${file} -> ${t}`),
    );
    expect(missing).toEqual([]);
  });

  it("have no circle", () => {
    // Tarjan's strongly connected components; any component of two or more files is a circle.
    let index = 0;
    const indices = new Map<string, number>();
    const low = new Map<string, number>();
    const stack: string[] = [];
    const onStack = new Set<string>();
    const circles: string[][] = [];
    const visit = (v: string) => {
      indices.set(v, index);
      low.set(v, index);
      index++;
      stack.push(v);
      onStack.add(v);
      for (const w of graph.get(v) ?? []) {
        if (!graph.has(w)) continue;
        if (!indices.has(w)) {
          visit(w);
          low.set(v, Math.min(low.get(v)!, low.get(w)!));
        } else if (onStack.has(w)) {
          low.set(v, Math.min(low.get(v)!, indices.get(w)!));
        }
      }
      if (low.get(v) === indices.get(v)) {
        const component: string[] = [];
        let w: string;
        do {
          w = stack.pop()!;
          onStack.delete(w);
          component.push(w);
        } while (w !== v);
        if (component.length > 1) circles.push(component.sort());
      }
    };
    for (const v of graph.keys()) if (!indices.has(v)) visit(v);
    expect(circles).toEqual([]);
  });

  it("go only to the parts below", () => {
    const upward = [...graph].flatMap(([file, targets]) => {
      const from = part(file);
      const may = allowed[from];
      if (!may) return [`${file}: src/${from} has no entry in this test's layering table`];
      return targets
        .filter((t) => part(t) !== from && !may.includes("*") && !may.includes(part(t)))
        .map((t) => `${file} -> ${t}`);
    });
    expect(upward).toEqual([]);
  });

  it("inside src/worker go downwards only", () => {
    const upward = [...graph]
      .filter(([file]) => file.startsWith("worker/"))
      .flatMap(([file, targets]) =>
        targets
          .filter((t) => t.startsWith("worker/") && workerLevel(t) > workerLevel(file))
          .map((t) => `${file} -> ${t}`),
      );
    expect(upward).toEqual([]);
  });

  it("keep every file under 300 lines", async () => {
    const long: string[] = [];
    for (const file of graph.keys()) {
      if (file === "db/types.ts") continue; // generated by npm run db:types
      const lines = (await readFile(path.join(src, file), "utf8")).split("\n").length;
      if (lines > 300) long.push(`${file}: ${lines} lines`);
    }
    expect(long).toEqual([]);
  });
});
