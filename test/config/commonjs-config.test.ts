// A TypeScript config in an app without "type": "module" loads as CommonJS,
// which cannot import rowflow (an ES module only): loadConfig says so and how
// to fix it, instead of Node's bare ERR_PACKAGE_PATH_NOT_EXPORTED.
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { afterAll, expect, it } from "vitest";

import { runCli } from "../helpers/run-cli.js";

const repo = fileURLToPath(new URL("../../", import.meta.url));
let dir: string | undefined;
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

it("names the fix for a .ts config loaded as CommonJS", async () => {
  dir = await mkdtemp(path.join(tmpdir(), "rowflow-cjs-app-"));
  await writeFile(
    path.join(dir, "package.json"),
    JSON.stringify({ name: "app", type: "commonjs" }),
  );
  await mkdir(path.join(dir, "node_modules"));
  await symlink(repo, path.join(dir, "node_modules", "rowflow"), "dir");
  const file = path.join(dir, "rowflow.config.ts");
  await writeFile(
    file,
    'import { defineConfig } from "rowflow";\nexport default defineConfig({});\n',
  );
  // In a child process: the test runner would transform the file itself.
  const result = await runCli(["generate-migration", "x", "--config", file, "--out", dir]);
  expect(result.code).toBe(1);
  expect(result.stderr).toMatch(
    /rowflow\.config\.ts was loaded as CommonJS and cannot import rowflow, an ES module: rename it to .*rowflow\.config\.mts, or add "type": "module" to your package\.json/,
  );
});
