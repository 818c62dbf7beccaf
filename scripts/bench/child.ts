import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const tsxCli = fileURLToPath(new URL("../../node_modules/tsx/dist/cli.mjs", import.meta.url));

/** Runs a bench child script under tsx and parses the JSON line it prints last. */
export function runChild<T>(script: string, args: string[]): Promise<T> {
  const file = fileURLToPath(new URL(`./children/${script}`, import.meta.url));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [tsxCli, file, ...args], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
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
}
