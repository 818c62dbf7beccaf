import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const bin = fileURLToPath(new URL("../../bin/rowflow.js", import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A running `rowflow` child process and what it printed so far. */
export interface CliProcess {
  child: ChildProcess;
  /** Grows while the process writes. */
  out: { stdout: string; stderr: string };
  /** Resolves when the process exits. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `rowflow <args>` as a child process, collecting its output as it comes. */
export function startCli(
  args: string[],
  options: { env?: Record<string, string | undefined>; cwd?: string } = {},
): CliProcess {
  const child = spawn(process.execPath, [bin, ...args], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const out = { stdout: "", stderr: "" };
  child.stdout?.on("data", (chunk: Buffer) => (out.stdout += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (out.stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(
    (resolve, reject) => {
      child.on("error", reject);
      child.on("close", (code, signal) => resolve({ code, signal }));
    },
  );
  return { child, out, exited };
}

/** Runs `rowflow <args>` as a child process and collects its output. */
export async function runCli(
  args: string[],
  options: { env?: Record<string, string | undefined>; cwd?: string } = {},
): Promise<CliResult> {
  const cli = startCli(args, options);
  const { code } = await cli.exited;
  return { code, ...cli.out };
}

/**
 * Runs `rowflow <args>` on a pseudo-terminal (util-linux `script`), so that
 * its stdout and stderr are TTYs and it shows what it shows a person (the
 * progress of `rowflow purge`). Both streams arrive merged, in order, in
 * `stdout`, with the terminal's `\r\n` line ends.
 */
export async function runCliOnTerminal(
  args: string[],
  options: { env?: Record<string, string | undefined>; cwd?: string } = {},
): Promise<CliResult> {
  const quote = (arg: string) => `'${arg.replaceAll("'", `'\\''`)}'`;
  const command = [process.execPath, bin, ...args].map(quote).join(" ");
  // -q: no "Script started" lines; -e: its exit code is the command's; -c:
  // the command (through sh); /dev/null: keep no typescript file.
  const child = spawn("script", ["-qec", command, "/dev/null"], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const out = { stdout: "", stderr: "" };
  child.stdout.on("data", (chunk: Buffer) => (out.stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (out.stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (exitCode) => resolve(exitCode));
  });
  return { code, ...out };
}
