// A TypeScript config in an app without "type": "module" loads as CommonJS
// (tsx compiles it so). Its require("rowflow") finds rowflow's ES module
// through the package's "default" export condition, and its `export default`
// arrives wrapped in CommonJS's `exports.default`. A package that exports
// nothing to require() (rowflow up to 0.1.0 had only "import") gets an error
// that says how to fix it instead of Node's bare ERR_PACKAGE_PATH_NOT_EXPORTED.
//
// The app's "rowflow" is a stub with the real package.json's exports
// (test/e2e/packed-package.test.ts installs the real tarball).
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

import { afterAll, beforeAll, expect, it } from "vitest";

import { runCli } from "../helpers/run-cli.js";

let dir = "";
let file = "";
const stub = () => path.join(dir, "node_modules", "rowflow");
const writeStubManifest = (exports: unknown) =>
  writeFile(
    path.join(stub(), "package.json"),
    JSON.stringify({ name: "rowflow", type: "module", exports }),
  );
const real = JSON.parse(await readFile(new URL("../../package.json", import.meta.url), "utf8")) as {
  exports: unknown;
};

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "rowflow-cjs-app-"));
  await writeFile(path.join(dir, "package.json"), JSON.stringify({ name: "app" }));
  await mkdir(path.join(stub(), "dist"), { recursive: true });
  await writeStubManifest(real.exports);
  await writeFile(
    path.join(stub(), "dist", "index.js"),
    "export const defineConfig = (config) => config;\n",
  );
  file = path.join(dir, "rowflow.config.ts");
  await writeFile(
    file,
    [
      'import { defineConfig } from "rowflow";',
      "export default defineConfig({",
      '  workflows: [{ name: "w", spec: { steps: [{ name: "a", task: "t" }] } }],',
      "});",
      "",
    ].join("\n"),
  );
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

// In a child process: the test runner would transform the file itself.
const generate = (name: string) =>
  runCli(["generate-migration", name, "--config", file, "--out", dir], { cwd: dir });

it("loads a .ts config of a CommonJS app that imports rowflow, default export and all", async () => {
  const result = await generate("cjs");
  expect(result.stderr).toBe("");
  expect(result.stdout).toMatch(/^wrote \d{14}_cjs\.sql: 1 workflow\(s\), 0 attachment\(s\)\n$/);
  expect(result.code).toBe(0);
});

it("names the fix when the package cannot be required", async () => {
  await writeStubManifest({ ".": { import: "./dist/index.js" } });
  const result = await generate("import_only");
  expect(result.code).toBe(1);
  expect(result.stderr).toMatch(
    /^rowflow: .*rowflow\.config\.ts was loaded as CommonJS and cannot import rowflow, an ES module: rename it to .*rowflow\.config\.mts, or add "type": "module" to your package\.json \(No "exports" main defined/,
  );
});
