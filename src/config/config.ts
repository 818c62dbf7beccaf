/**
 * The `rowflow.config.ts` (or `.js`) module the `rowflow worker` command
 * loads: tasks, workflows and worker options. TypeScript configs load without
 * a build step through tsx.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

import type { TaskMap } from "../worker/task-registry.js";
import type { WorkerOptions, WorkflowSource } from "../worker/worker-options.js";
import type { DevHooks } from "./dev-hooks.js";

/** What a config module exports (as its default export, or as `config`). */
export interface RowflowConfig {
  /** Postgres connection string. (Default: `--database-url`, then `DATABASE_URL`, then the embedded Postgres) */
  connectionString?: string;
  /** Handlers by task name. (Default: none) */
  tasks?: TaskMap;
  /** Workflow definitions to define at start; their tasks join `tasks`. (Default: none) */
  workflows?: readonly WorkflowSource[];
  /** Worker options (concurrency, heartbeats, grace period, logger, …). (Default: the worker's defaults) */
  worker?: Omit<WorkerOptions, "connectionString" | "tasks" | "workflows">;
  /** What `rowflow dev` runs: the app's table setup, a demo acting like the app, SQL to try. (Default: none) */
  dev?: DevHooks;
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
  const url = pathToFileURL(file).href;
  let module: Record<string, unknown>;
  try {
    module = (await import(url)) as Record<string, unknown>;
  } catch (error) {
    // Plain Node cannot import .ts; tsx can, without a build step.
    if ((error as { code?: string }).code !== "ERR_UNKNOWN_FILE_EXTENSION") throw error;
    const { tsImport } = await import("tsx/esm/api");
    module = (await tsImport(url, import.meta.url)) as Record<string, unknown>;
  }
  const config = (module.default ?? module.config) as RowflowConfig | undefined;
  if (!config || typeof config !== "object") {
    throw new Error(
      `${file} must export its config as the default export (export default defineConfig({ … })) or as "config"`,
    );
  }
  return config;
}
