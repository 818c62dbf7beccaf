// What the chaos scenarios run: the bench's diamond a → (b, c) → d and a
// fan-in a → (b1 … bN) → join, whose steps write one ledger row each through
// ctx.tx (invariant 2: committed exactly once with the step) and append the
// step's idempotency key to an "external system" (a file per worker process,
// outside any transaction: at-least-once, so re-executions show as
// duplicates); and the poison steps (throw, process.exit, a loop that
// ignores its signal).
import { appendFileSync } from "node:fs";
import path from "node:path";

import { sql } from "kysely";

import type { HandlerContext } from "../../src/definition/handler-context.js";
import type { TaskMap } from "../../src/worker/task-registry.js";
import { diamondSpec } from "../bench/workflows.js";

/** Tunables of the workload, from the scenario (worker children get them as JSON). */
export interface WorkloadOptions {
  /** A ledger step sleeps this long after its ledger write, so faults land in handlers. */
  stepMs: number;
  /** Where the external effects go: one file per worker process (`<pid>.log`). */
  externalDir: string;
}

/** Attempts of every chaos step (rowflow's default is 3: see docs/reliability.md). */
export const chaosAttempts = 5;
const policy = { attempts: chaosAttempts, backoff: { type: "fixed", base: "100 ms", jitter: 0 } };

/** The diamond, its steps writing the ledger. */
export const diamond = {
  name: "chaos-diamond",
  spec: { steps: diamondSpec.steps.map((s) => ({ ...s, task: "chaos.ledger", ...policy })) },
};

/** a → (b1 … bN) → join: N branches race to release the join (invariant 3). */
export function fanIn(width: number) {
  const branches = Array.from({ length: width }, (_, i) => `b${i + 1}`);
  return {
    name: "chaos-fan-in",
    spec: {
      steps: [
        { name: "a", task: "chaos.ledger", ...policy },
        ...branches.map((name) => ({ name, task: "chaos.ledger", dependsOn: ["a"], ...policy })),
        { name: "join", task: "chaos.ledger", dependsOn: branches, ...policy },
      ],
    },
  };
}

/** One-step workflows whose handler misbehaves; 2 attempts each, then the run fails. */
export const poison = ["throw", "exit", "hang"].map((kind) => ({
  name: `chaos-poison-${kind}`,
  spec: {
    steps: [
      {
        name: "p",
        task: `chaos.${kind}`,
        attempts: 2,
        backoff: { type: "fixed", base: "100 ms", jitter: 0 },
        ...(kind === "hang" ? { timeout: "1 s" } : {}),
      },
    ],
  },
}));

/** Created in each scenario's database before the workers start. */
export const setupSql = `
  create table if not exists chaos_ledger (
    run_id bigint not null, step text not null, attempt int not null, pid int not null);
  create index if not exists chaos_ledger_run_step on chaos_ledger (run_id, step);
`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The handlers every chaos worker registers. */
export function chaosTasks(options: WorkloadOptions): TaskMap {
  const external = path.join(options.externalDir, `${process.pid}.log`);
  return {
    "chaos.ledger": async (ctx: HandlerContext) => {
      appendFileSync(external, `${ctx.idempotencyKey}\n`);
      await sql`insert into chaos_ledger (run_id, step, attempt, pid)
                values (${ctx.run.id}, ${ctx.step.name}, ${ctx.attempt}, ${process.pid})`.execute(
        ctx.tx,
      );
      if (options.stepMs > 0) await sleep(options.stepMs);
      return {};
    },
    "chaos.throw": () => {
      throw new Error("poison: this handler always throws");
    },
    "chaos.exit": () => {
      // The worker dies with its step; a live worker releases it later.
      process.exit(3);
    },
    "chaos.hang": async () => {
      // Ignores ctx.signal: its step timeout must fail the attempt anyway.
      for (;;) await sleep(50);
    },
  };
}
