import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const tsxCli = fileURLToPath(new URL("../../node_modules/tsx/dist/cli.mjs", import.meta.url));

/** A bench child process: `ready` resolves when it prints "ready", `result` with its last JSON line. */
export interface Child<T> {
  ready: Promise<void>;
  result: Promise<T>;
  /** Sends the child a signal (a child that runs until told to stop reports on SIGTERM). */
  kill(signal: NodeJS.Signals): void;
}

let profileDir: string | undefined;

/** From now on, children write V8 CPU profiles to `dir` (`--cpu-prof`). */
export function profileChildren(dir: string): void {
  profileDir = dir;
}

/** Starts a bench child script (scripts/bench/children/<script>) under tsx. */
export function startChild<T>(script: string, args: string[]): Child<T> {
  const file = fileURLToPath(new URL(`./children/${script}`, import.meta.url));
  // Profiled: tsx as a loader in this node process (its CLI would profile
  // only itself), so the profile is the script's.
  const argv = profileDir
    ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`, "--import", "tsx", file, ...args]
    : [tsxCli, file, ...args];
  const child = spawn(process.execPath, argv, {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  child.stdout.on("data", (chunk: Buffer) => {
    out += chunk.toString();
    if (/^ready$/m.test(out)) markReady();
  });
  const result = new Promise<T>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => {
      const lastLine = out.trim().split("\n").pop() ?? "";
      if (code !== 0) return reject(new Error(`${script} exited with ${code}: ${out.slice(-500)}`));
      try {
        resolve(JSON.parse(lastLine) as T);
      } catch (error) {
        reject(new Error(`${script} printed no JSON result: ${out.slice(-500)}`, { cause: error }));
      }
    });
  });
  // A child that dies before it is ready must not leave `ready` pending forever.
  result.catch(() => markReady());
  return { ready, result, kill: (signal) => child.kill(signal) };
}

/** Runs a child script to completion and returns its JSON result. */
export function runChild<T>(script: string, args: string[]): Promise<T> {
  return startChild<T>(script, args).result;
}
