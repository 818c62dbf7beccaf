// N worker child processes (worker-child.ts, TypeScript through tsx's loader). A worker the fleet
// kills is started again at once; one that exits by itself (a poison step's
// process.exit, a crash) is counted as a self-exit and started again too.
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

import type { WorkerChildOptions } from "./worker-child.js";

// tsx's loader in the worker's own node process, not tsx's CLI: the CLI runs
// the script in a grandchild, which a SIGKILL of the CLI leaves running.
const tsx = new URL("../../node_modules/tsx/dist/", import.meta.url);
const nodeArgs = [
  "--require",
  fileURLToPath(new URL("preflight.cjs", tsx)),
  "--import",
  new URL("loader.mjs", tsx).href,
  fileURLToPath(new URL("./worker-child.ts", import.meta.url)),
];

interface Slot {
  child: ChildProcess;
  killed: boolean;
  ready: Promise<void>;
  exited: Promise<void>;
}

export class WorkerFleet {
  readonly #options: WorkerChildOptions;
  readonly #slots: Slot[] = [];
  #stopping = false;
  /** Exits nobody asked for, with their code or signal. */
  readonly selfExits: string[] = [];
  /** SIGKILLs sent. */
  kills = 0;
  /** Stderr of the children, last lines (for a report when something breaks). */
  readonly #stderr: string[] = [];

  constructor(options: WorkerChildOptions) {
    this.#options = options;
  }

  /** Starts `n` workers and waits until each takes jobs. */
  async start(n: number): Promise<void> {
    for (let i = 0; i < n; i++) this.#slots.push(this.#spawn());
    await Promise.all(this.#slots.map((s) => s.ready));
  }

  get size(): number {
    return this.#slots.length;
  }

  /** The OS pids of the running children. */
  get pids(): number[] {
    return this.#slots.flatMap((s) => (s.child.pid === undefined ? [] : [s.child.pid]));
  }

  /** SIGKILLs worker `i` and starts a new one in its place (not waiting for it). */
  async kill(i: number): Promise<void> {
    const slot = this.#slots[i];
    if (!slot) return;
    slot.killed = true;
    slot.child.kill("SIGKILL");
    this.kills++;
    await slot.exited;
    if (!this.#stopping) this.#slots[i] = this.#spawn();
  }

  /** Stops every worker: SIGTERM (graceful drain), SIGKILL after `graceMs`. */
  async stop(graceMs = 5_000): Promise<void> {
    this.#stopping = true;
    const slots = [...this.#slots];
    for (const s of slots) {
      s.killed = true;
      s.child.kill("SIGTERM");
    }
    const timer = setTimeout(() => {
      for (const s of slots) s.child.kill("SIGKILL");
    }, graceMs);
    await Promise.all(slots.map((s) => s.exited));
    clearTimeout(timer);
  }

  /** The children's last stderr lines. */
  get stderr(): string {
    return this.#stderr.join("");
  }

  #spawn(): Slot {
    const child = spawn(process.execPath, [...nodeArgs, JSON.stringify(this.#options)], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let markReady: () => void = () => {};
    const ready = new Promise<void>((resolve) => (markReady = resolve));
    let out = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      if (/^ready$/m.test(out)) markReady();
    });
    child.stderr!.on("data", (chunk: Buffer) => {
      this.#stderr.push(chunk.toString());
      if (this.#stderr.length > 40) this.#stderr.shift();
    });
    const slot: Slot = {
      child,
      killed: false,
      ready,
      exited: new Promise<void>((resolve) => {
        child.on("exit", (code, signal) => {
          markReady();
          resolve();
          if (slot.killed || this.#stopping) return;
          this.selfExits.push(signal ?? `exit ${code}`);
          const i = this.#slots.indexOf(slot);
          if (i >= 0) this.#slots[i] = this.#spawn();
        });
      }),
    };
    return slot;
  }
}
