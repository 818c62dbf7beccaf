// Child process for the latency scenario. Mode "rowflow": a rowflow worker
// running the 3-step chain a → b → c; mode "graphile-worker": plain
// graphile-worker running one no-op task; mode "pg-boss": pg-boss 10 workers
// (children/pg-boss.ts) running one no-op batch handler; mode "dbos": DBOS
// running the chain a → b → c as a workflow of three steps, dequeued from the
// bench queue (children/dbos.ts). Records, in epoch milliseconds:
//   first:  first handler start − the run's scheduled send time (input.t)
//   hop:    dependent start − its dependency's handler end (b after a, c after b)
// Prints { first: number[], hop: number[], maxRssMb } once `count` runs finished.
import { createWorker } from "../../../src/worker/create-worker.js";
import { dbosSettings } from "../peer-settings.js";
import { runRawGraphile } from "./raw-graphile.js";
import { silentLogger } from "./silent-logger.js";

const [mode, url, countArg, concurrencyArg, localQueueArg] = process.argv.slice(2);
const count = Number(countArg);
const concurrency = Number(concurrencyArg);
const localQueueSize = Number(localQueueArg);
const now = () => performance.timeOrigin + performance.now();

const first: number[] = [];
const hop: number[] = [];
let finished = 0;
let resolveDone: () => void = () => {};
const done = new Promise<void>((resolve) => (resolveDone = resolve));
const finish = () => {
  if (++finished >= count) resolveDone();
};

let stop: () => Promise<void>;
if (mode === "rowflow") {
  const worker = createWorker({
    connectionString: url,
    concurrency,
    localQueueSize,
    syncWorkflows: false,
    logger: silentLogger,
    tasks: {
      "chain-step": (ctx) => {
        const started = now();
        const deps = Object.values(ctx.deps) as Array<{ endedAt: number }>;
        if (deps.length === 0) first.push(started - Number(ctx.input.t));
        else hop.push(started - (deps[0]?.endedAt ?? started));
        if (ctx.step.name === "c") finish();
        return { endedAt: now() };
      },
    },
  });
  await worker.start();
  stop = () => worker.stop();
} else if (mode === "graphile-worker") {
  const runner = await runRawGraphile(url as string, concurrency, localQueueSize, {
    noop: (payload) => {
      first.push(now() - Number((payload as { t: number }).t));
      finish();
    },
  });
  stop = () => runner.stop();
} else if (mode === "pg-boss") {
  // Loaded only here: the other modes' processes do not pay for the peers' modules.
  const { startPgBoss } = await import("./pg-boss.js");
  stop = await startPgBoss(url as string, concurrency, () => ({
    noop: async (jobs) => {
      const started = now();
      for (const job of jobs) {
        first.push(started - Number(job.data.t));
        finish();
      }
    },
  }));
} else if (mode === "dbos") {
  const { DBOS } = await import("@dbos-inc/dbos-sdk");
  const { launchDbos } = await import("./dbos.js");
  const chain = async (input: { t: number }): Promise<void> => {
    const aEnded = await DBOS.runStep(
      async () => {
        first.push(now() - input.t);
        return now();
      },
      { name: "a" },
    );
    const bEnded = await DBOS.runStep(
      async () => {
        hop.push(now() - aEnded);
        return now();
      },
      { name: "b" },
    );
    await DBOS.runStep(
      async () => {
        hop.push(now() - bEnded);
        finish();
        return now();
      },
      { name: "c" },
    );
  };
  DBOS.registerWorkflow(chain, { name: dbosSettings.chainWorkflow });
  stop = await launchDbos(url as string, concurrency);
} else {
  throw new Error(`unknown latency worker mode "${mode}"`);
}
process.stdout.write("ready\n");
await done;
await stop();
process.stdout.write(
  `${JSON.stringify({ first, hop, maxRssMb: process.resourceUsage().maxRSS / 1024 })}\n`,
);
process.exit(0);
