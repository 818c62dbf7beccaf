/**
 * The `rowflow.config.ts` (`.mts`, `.js`, `.mjs`) module the `rowflow worker`
 * command loads: tasks, workflows and worker options. TypeScript configs load
 * without a build step through tsx.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

import type { Schedule } from "../definition/schedule.js";
import type { TaskMap } from "../worker/task-registry.js";
import type { WorkerOptions, WorkflowSource } from "../worker/worker-options.js";
import type { DevHooks } from "./dev-hooks.js";

/** What a config module exports (as its default export, or as `config`). */
export interface RowflowConfig {
  /** Postgres connection string. (Default: `--database-url`, then `DATABASE_URL`, then the embedded Postgres) */
  connectionString?: string | undefined;
  /** Handlers by task name. (Default: none) */
  tasks?: TaskMap | undefined;
  /** Workflow definitions to define at start; their tasks join `tasks`. (Default: none) */
  workflows?: readonly WorkflowSource[] | undefined;
  /** Cron schedules (`defineSchedule`) to define at start with the workflows; every worker fires their ticks. (Default: none) */
  schedules?: readonly Schedule[] | undefined;
  /** Worker options (concurrency, heartbeats, grace period, logger, …). (Default: the worker's defaults) */
  worker?:
    Omit<WorkerOptions, "connectionString" | "tasks" | "workflows" | "schedules"> | undefined;
  /** What `rowflow dev` runs: the app's table setup, a demo acting like the app, SQL to try. (Default: none) */
  dev?: DevHooks | undefined;
}

/** Identity function that types a config module's export. */
export function defineConfig(config: RowflowConfig): RowflowConfig {
  return config;
}

/** File names tried, in order, when no `--config` is given. */
export const defaultConfigFiles = [
  "rowflow.config.ts",
  "rowflow.config.mts",
  "rowflow.config.js",
  "rowflow.config.mjs",
];

/** Finds the config file: the given path, else the first default name in `cwd`. Throws when there is none. */
export function findConfigFile(given: string | undefined, cwd = process.cwd()): string {
  if (given) {
    const file = path.resolve(cwd, given);
    if (!existsSync(file)) throw new Error(`config file not found: ${file}`);
    return file;
  }
  for (const name of defaultConfigFiles) {
    const file = path.join(cwd, name);
    if (existsSync(file)) return file;
  }
  throw new Error(
    `no config file: create ${defaultConfigFiles.slice(0, 3).join(" or ")} in ${cwd}, or pass --config <path>`,
  );
}

/** Imports a config module (TypeScript through tsx) and returns its config export. */
export async function loadConfig(file: string): Promise<RowflowConfig> {
  let module: Record<string, unknown>;
  try {
    module = await importModule(file);
  } catch (error) {
    // A .ts file in a package without "type": "module" loads as CommonJS;
    // its require("rowflow") reaches rowflow's ES module through the
    // package's "default" export condition. A package that offers CommonJS
    // no export fails with Node's ERR_PACKAGE_PATH_NOT_EXPORTED (or, without
    // tsx's help, ERR_REQUIRE_ESM or a require cycle), which says something else.
    const code = (error as { code?: string }).code ?? "";
    const formatError =
      /^ERR_(PACKAGE_PATH_NOT_EXPORTED|REQUIRE_ESM|REQUIRE_CYCLE_MODULE|REQUIRE_ASYNC_MODULE)$/.test(
        code,
      );
    if (formatError && file.endsWith(".ts") && !inModulePackage(file)) {
      throw new Error(
        `${file} was loaded as CommonJS and cannot import rowflow, an ES module: rename it to ${file.replace(/\.ts$/, ".mts")}, or add "type": "module" to your package.json (${(error as Error).message})`,
        { cause: error },
      );
    }
    throw error;
  }
  const config = unwrapCommonJs(module.default ?? module.config) as RowflowConfig | undefined;
  if (!config || typeof config !== "object") {
    throw new Error(
      `${file} must export its config as the default export (export default defineConfig({ … })) or as "config"`,
    );
  }
  return config;
}

/**
 * A TypeScript config loaded as CommonJS is compiled by tsx (esbuild): its
 * `export default` becomes `exports.default` next to `__esModule`, and an
 * import of that module sees the whole `exports` object as its default.
 */
function unwrapCommonJs(exported: unknown): unknown {
  if (typeof exported !== "object" || exported === null) return exported;
  const exports = exported as { __esModule?: unknown; default?: unknown; config?: unknown };
  if (exports.__esModule !== true) return exported;
  return exports.default ?? exports.config;
}

async function importModule(file: string): Promise<Record<string, unknown>> {
  const url = pathToFileURL(file).href;
  // TypeScript always through tsx's own import, also where tsx is registered
  // process-wide (a checkout's bin/rowflow.js): a CommonJS .ts config loaded
  // by a plain import() there fails as a require(esm) cycle with itself.
  // The tsconfig.json nearest to the config (not the one of the current
  // directory, tsx's default) gives its `paths`, whichever directory the
  // command runs in.
  if (/\.[cm]?ts$/.test(file)) {
    const { tsImport } = await import("tsx/esm/api");
    const tsconfig = nearest(file, "tsconfig.json");
    return (await tsImport(url, {
      parentURL: import.meta.url,
      ...(tsconfig ? { tsconfig } : {}),
    })) as Record<string, unknown>;
  }
  return (await import(url)) as Record<string, unknown>;
}

/** The path of the file `name` in the directory of `file` or the nearest one above it. */
function nearest(file: string, name: string): string | undefined {
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, name);
    if (existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) return undefined;
  }
}

/** Whether the nearest package.json above `file` says "type": "module". */
function inModulePackage(file: string): boolean {
  const manifest = nearest(file, "package.json");
  if (!manifest) return false;
  try {
    return (JSON.parse(readFileSync(manifest, "utf8")) as { type?: unknown }).type === "module";
  } catch {
    return false;
  }
}
