import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { cp, mkdir, mkdtemp, readdir, readFile, rename, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const repo = fileURLToPath(new URL("../../", import.meta.url));

/** What `npm pack` reads: the package's files and what its prepack build compiles. */
const packInputs = [
  "package.json",
  "README.md",
  "LICENSE",
  "tsconfig.json",
  "tsconfig.build.json",
  "bin",
  "src",
  "sql/migrations",
];

/** The environment for an npm child: without the npm_* variables of an `npm test` that runs us. */
export function npmEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    // npm_config_local_prefix, npm_package_json, … point at this checkout.
    if (/^npm_(package_|lifecycle_|config_local_prefix$|command$)/.test(name)) continue;
    if (name === "INIT_CWD") continue;
    env[name] = value;
  }
  return { ...env, ...extra };
}

/** Runs a command to completion; rejects with its output when it exits non-zero. */
export function run(
  command: string,
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv },
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? npmEnv(),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code, signal) => {
      if (code === 0) resolve({ stdout, stderr });
      else
        reject(
          new Error(
            `${command} ${args.join(" ")} in ${options.cwd} exited ${code ?? signal}\n${stdout}\n${stderr}`,
          ),
        );
    });
  });
}

async function listFiles(relative: string): Promise<string[]> {
  const absolute = path.join(repo, relative);
  if (!existsSync(absolute)) return [];
  const entries = await readdir(absolute, { withFileTypes: true }).catch(() => undefined);
  if (!entries) return [relative]; // a file
  const nested = await Promise.all(
    entries.map((entry) => listFiles(path.join(relative, entry.name))),
  );
  return nested.flat();
}

/** A hash of every file `npm pack` reads, so an unchanged checkout packs once. */
async function packInputsHash(): Promise<string> {
  const hash = createHash("sha256");
  const files = (await Promise.all(packInputs.map(listFiles))).flat().sort();
  for (const file of files) {
    hash.update(`${file}\0`);
    hash.update(await readFile(path.join(repo, file)));
    hash.update("\0");
  }
  return hash.digest("hex").slice(0, 16);
}

/**
 * The path of `npm pack`'s tarball of this checkout. The package is packed
 * from a copy of its inputs (node_modules linked), so the prepack build does
 * not rewrite the checkout's dist/; the tarball is cached in the temporary
 * directory by a hash of those inputs (the test suite runs twice in CI, and
 * the build takes 5–15 s).
 */
export async function packedTarball(): Promise<string> {
  const cacheRoot = path.join(tmpdir(), "rowflow-packed");
  const cached = path.join(cacheRoot, await packInputsHash());
  const manifest = JSON.parse(await readFile(path.join(repo, "package.json"), "utf8")) as {
    name: string;
    version: string;
  };
  const tarball = path.join(cached, `${manifest.name}-${manifest.version}.tgz`);
  if (existsSync(tarball)) return tarball;

  await mkdir(cacheRoot, { recursive: true });
  const work = await mkdtemp(path.join(cacheRoot, "work-"));
  try {
    const source = path.join(work, "source");
    for (const input of packInputs) {
      if (!existsSync(path.join(repo, input))) continue;
      await cp(path.join(repo, input), path.join(source, input), { recursive: true });
    }
    await symlink(path.join(repo, "node_modules"), path.join(source, "node_modules"), "dir");
    const out = path.join(work, "out");
    await mkdir(out);
    await run("npm", ["pack", "--pack-destination", out, "--silent"], { cwd: source });
    // Another run may have packed the same inputs meanwhile: either copy is good.
    await rename(out, cached).catch((error: NodeJS.ErrnoException) => {
      if (!existsSync(tarball)) throw error;
    });
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  if (!existsSync(tarball)) throw new Error(`npm pack did not write ${tarball}`);
  return tarball;
}
