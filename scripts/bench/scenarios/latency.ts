import pg from "pg";
import PgBoss from "pg-boss";

import { startChild } from "../child.js";
import { dbosSettings, pgBossOptions, pgBossSettings } from "../peer-settings.js";
import { dbosClient, prepareDbos, preparePgBoss } from "../peers.js";
import type { Scenario, ScenarioContext } from "../scenario.js";
import { percentile } from "../stats.js";
import { chainSpec, defineWorkflow } from "../workflows.js";

interface LatencyResult {
  first: number[];
  hop: number[];
}

const now = () => performance.timeOrigin + performance.now();

/** How a variant starts one run: `send(t)` resolves once the start is committed. */
interface Sender {
  send(scheduled: number): Promise<unknown>;
  close(): Promise<void>;
}

const senderConnections = 16;

/**
 * A pool with every client connected up front: a connection opened mid-run
 * (SCRAM authentication takes milliseconds) would count as commit latency.
 */
async function connectedPool(url: string): Promise<pg.Pool> {
  const pool = new pg.Pool({ connectionString: url, max: senderConnections });
  // An idle client ended by the server (the variant's database dropped with
  // FORCE while the pool winds down) must not crash the bench.
  pool.on("error", () => {});
  const clients = await Promise.all(
    Array.from({ length: senderConnections }, () => pool.connect()),
  );
  for (const client of clients) client.release();
  return pool;
}

/** One autocommit statement per run, `$1` the scheduled time. */
async function sqlSender(url: string, sql: string): Promise<Sender> {
  const pool = await connectedPool(url);
  return { send: (scheduled) => pool.query(sql, [scheduled]), close: () => pool.end() };
}

/** pg-boss's `send` on the same pre-connected pool (its `db` option). */
async function pgBossSender(url: string): Promise<Sender> {
  const pool = await connectedPool(url);
  const boss = new PgBoss({
    db: { executeSql: (text, values) => pool.query(text, values) },
    migrate: false,
    ...pgBossOptions,
  });
  boss.on("error", (error) => console.error("[pg-boss]", error));
  await boss.start();
  return {
    send: (scheduled) => boss.send("noop", { t: scheduled }),
    close: async () => {
      await boss.stop({ graceful: false });
      await pool.end();
    },
  };
}

/** DBOSClient's `enqueue` onto the bench queue, on the same pre-connected pool. */
async function dbosSender(url: string): Promise<Sender> {
  const pool = await connectedPool(url);
  const client = await dbosClient(url, pool);
  return {
    send: (scheduled) =>
      client.enqueue(
        { queueName: dbosSettings.queue, workflowName: dbosSettings.chainWorkflow },
        { t: scheduled },
      ),
    close: async () => {
      await client.destroy();
      await pool.end();
    },
  };
}

/**
 * Open-loop arrivals: request i is sent at t0 + i / rate whatever happened to
 * the earlier ones (concurrently, so a slow commit does not delay the next
 * send), and latency counts from that scheduled time. Returns each send's
 * scheduled time → commit acknowledged, in ms: the part of "commit → first
 * start" spent before the worker can know.
 */
async function sendOpenLoop(sender: Sender, count: number, rate: number): Promise<number[]> {
  const t0 = now() + 50;
  const sends: Promise<number>[] = [];
  for (let i = 0; i < count; i++) {
    const scheduled = t0 + (i * 1000) / rate;
    const wait = scheduled - now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    sends.push(sender.send(scheduled).then(() => now() - scheduled));
  }
  return await Promise.all(sends);
}

interface Variant {
  name: string;
  /** The latency-worker.ts mode. */
  mode: string;
  /** Set-up of the variant's database, before its worker starts. */
  prepare(url: string, ctx: ScenarioContext): Promise<void>;
  sender(url: string): Promise<Sender>;
  /** Its runs are 3-step chains: it has "step end → dependent start". */
  chain: boolean;
}

const variants: Variant[] = [
  {
    name: "rowflow",
    mode: "rowflow",
    chain: true,
    async prepare(url) {
      const spec = chainSpec(["a", "b", "c"]);
      for (const step of spec.steps) step.task = "chain-step";
      await defineWorkflow(url, "bench-chain", spec);
    },
    sender: (url) =>
      sqlSender(
        url,
        "select rowflow.start_run(workflow => 'bench-chain', input => jsonb_build_object('t', $1::float8))",
      ),
  },
  {
    name: "graphile-worker",
    mode: "graphile-worker",
    chain: false,
    prepare: async () => {},
    sender: (url) =>
      sqlSender(url, "select graphile_worker.add_job('noop', json_build_object('t', $1::float8))"),
  },
  {
    name: "pg-boss",
    mode: "pg-boss",
    chain: false,
    prepare: (url) => preparePgBoss(url, ["noop"]),
    sender: pgBossSender,
  },
  {
    name: "DBOS",
    mode: "dbos",
    chain: true,
    prepare: (url, ctx) => prepareDbos(url, ctx.worker.concurrency),
    sender: dbosSender,
  },
];

async function measure(ctx: ScenarioContext, variant: Variant, rep: number) {
  const db = await ctx.server.freshDatabase(variant.name);
  try {
    await variant.prepare(db.url, ctx);
    const { concurrency, localQueueSize } = ctx.worker;
    const child = startChild<LatencyResult>("latency-worker.ts", [
      variant.mode,
      db.url,
      String(ctx.sizes.latencyRuns),
      String(concurrency),
      String(localQueueSize),
    ]);
    const sender = await variant.sender(db.url);
    try {
      await child.ready;
      const { acks, result } = await db.measure(async () => {
        const acks = await sendOpenLoop(sender, ctx.sizes.latencyRuns, ctx.sizes.latencyRate);
        return { acks, result: await child.result };
      });
      const series: Array<[string, number[]]> = [
        ["commit → first start", result.first],
        ["send → commit acknowledged", acks],
      ];
      if (variant.chain) series.push(["step end → dependent start", result.hop]);
      for (const [metric, values] of series) {
        for (const p of [50, 95, 99]) {
          ctx.record({
            variant: variant.name,
            rep,
            metric: `${metric} p${p}`,
            unit: "ms",
            better: "lower",
            value: percentile(values, p),
          });
        }
      }
    } finally {
      await sender.close();
    }
  } finally {
    await db.drop();
  }
}

export const latency: Scenario = {
  name: "latency",
  description:
    "open-loop arrivals: commit → first handler start (rowflow: a 3-step chain; graphile-worker " +
    "add_job and pg-boss send: one no-op job; DBOS: DBOSClient.enqueue of a 3-step workflow) and " +
    "handler end → dependent start for the chains. pg-boss and DBOS poll: pg-boss every " +
    `${pgBossSettings.pollingIntervalSeconds} s per worker loop (its minimum), DBOS's queue every ` +
    `${dbosSettings.pollingIntervalMs} ms`,
  async run(ctx) {
    ctx.log(`  ${ctx.sizes.latencyRuns} runs at ${ctx.sizes.latencyRate}/s`);
    for (let rep = 1; rep <= ctx.sizes.reps; rep++) {
      for (const variant of variants) {
        if (!ctx.wants(variant.name) && variant.name !== "graphile-worker") continue;
        ctx.log(`  rep ${rep}/${ctx.sizes.reps}: ${variant.name}`);
        await measure(ctx, variant, rep);
      }
    }
    for (const p of [50, 95, 99])
      ctx.compare({ metric: `commit → first start p${p}`, baseline: "graphile-worker" });
  },
};
