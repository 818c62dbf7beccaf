// npm run bench [-- --smoke | --full] [--only drain,latency,dashboard] [--reps N] [--out file.json]
//                [--concurrency 16] [--local-queue 100] [--latency-rate 200]
//                [--pg-setting name=value …] [--cpu-prof dir] [--wait-events]
//                [--db-prefix name] [--variants rowflow,pg-boss]
//
// --pg-setting: a server setting for the embedded Postgres (repeatable;
// recorded with the results). --cpu-prof: the worker child processes write
// V8 CPU profiles (.cpuprofile) to dir. --wait-events: samples
// pg_stat_activity every 10 ms during each variant's measured part and prints
// what the busy backends waited on (a profiling aid: it costs some CPU).
// --db-prefix: the names of the databases it creates (default rowflow_bench).
// --variants: run only the variants whose names contain one of these words
// (case-insensitive), besides each ratio's baseline; for quick A/B work.
//
// Before each measured part the machine's CPU idle share is sampled
// (machine-load.ts): a rep that began on a busy machine is marked disturbed,
// kept in the JSON, and left out of the medians when undisturbed reps exist.
//
// Runs each scenario's variants interleaved (A B C A B C …), prints medians and
// ratios, and writes every sample as JSON (bench-results/<time>.json by
// default). Uses DATABASE_URL, else an embedded Postgres with durable settings.
import { mkdir, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";

import { profileChildren } from "./child.js";
import { openBenchServer } from "./database.js";
import type { MachineLoad } from "./machine-load.js";
import { type Comparison, formatTable, type Sample, summarize } from "./results.js";
import { type Scenario, sizes } from "./scenario.js";
import { scenarios } from "./scenarios/index.js";
import { formatWaits, summarizeWaits, type WaitRow, WaitSampler } from "./wait-events.js";

const { values } = parseArgs({
  options: {
    smoke: { type: "boolean", default: false },
    full: { type: "boolean", default: false },
    only: { type: "string" },
    reps: { type: "string" },
    out: { type: "string" },
    concurrency: { type: "string", default: "16" },
    "local-queue": { type: "string", default: "100" },
    "latency-rate": { type: "string" },
    "pg-setting": { type: "string", multiple: true },
    "cpu-prof": { type: "string" },
    "wait-events": { type: "boolean", default: false },
    "db-prefix": { type: "string", default: "rowflow_bench" },
    variants: { type: "string" },
  },
});

const mode = values.smoke ? "smoke" : values.full ? "full" : "default";
const size = { ...sizes[mode] };
if (values.reps) size.reps = Number(values.reps);
if (values["latency-rate"]) size.latencyRate = Number(values["latency-rate"]);
const only = values.only?.split(",").map((s) => s.trim());
const selected = scenarios.filter((s: Scenario) =>
  only ? only.includes(s.name) : !s.fullOnly || mode === "full" || mode === "smoke",
);
if (only) {
  const unknown = only.filter((name) => !scenarios.some((s) => s.name === name));
  if (unknown.length > 0) {
    console.error(
      `unknown scenario(s): ${unknown.join(", ")}; have ${scenarios.map((s) => s.name).join(", ")}`,
    );
    process.exit(2);
  }
}

const pgSettings: Record<string, string> = {};
for (const setting of values["pg-setting"] ?? []) {
  const match = /^([a-z_.]+)=(.+)$/.exec(setting);
  if (!match) {
    console.error(`--pg-setting expects name=value, got "${setting}"`);
    process.exit(2);
  }
  pgSettings[match[1]!] = match[2]!;
}
const variantWords = values.variants
  ?.split(",")
  .map((w) => w.trim().toLowerCase())
  .filter(Boolean);
const wants = (variant: string): boolean =>
  !variantWords || variantWords.some((w) => variant.toLowerCase().includes(w));
if (values["cpu-prof"]) profileChildren(path.resolve(values["cpu-prof"]));

let sampler: WaitSampler | undefined;
let currentScenario = "";
let lastLoad: MachineLoad | undefined;
const server = await openBenchServer(
  pgSettings,
  {
    started: (database, variant) => sampler?.track(database, currentScenario, variant),
    ended: (database, load) => {
      sampler?.untrack(database);
      lastLoad = load;
    },
  },
  values["db-prefix"],
);
let waitRows: WaitRow[] | undefined;
const samples: Sample[] = [];
const comparisons: Comparison[] = [];
const startedAt = new Date();
const facts = await server.facts();
console.log(`rowflow bench (${mode}) on ${server.description}, Postgres ${facts.server_version}`);
console.log(
  `machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? "cpu"}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, load ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")}`,
);

try {
  if (values["wait-events"]) sampler = await WaitSampler.start(server.adminUrl);
  for (const scenario of selected) {
    currentScenario = scenario.name;
    console.log(`\n# ${scenario.name}: ${scenario.description}`);
    await scenario.run({
      server,
      sizes: size,
      worker: {
        concurrency: Number(values.concurrency),
        localQueueSize: Number(values["local-queue"]),
      },
      wants,
      record: (sample) =>
        samples.push({
          scenario: scenario.name,
          ...sample,
          ...(lastLoad ? { load: lastLoad } : {}),
        }),
      compare: (comparison) => comparisons.push({ scenario: scenario.name, ...comparison }),
      log: (line) =>
        console.log(
          lastLoad && /^\s+rep \d+/.test(line)
            ? `${line} [load ${lastLoad.load1.toFixed(2)}, idle before ${Math.round(lastLoad.idleBefore)}%${lastLoad.disturbed ? ", DISTURBED" : ""}]`
            : line,
        ),
    });
  }
  if (sampler) {
    await sampler.stop();
    waitRows = summarizeWaits(sampler.profiles);
  }
} finally {
  await sampler?.stop().catch(() => {});
  await server.stop();
}

const rows = summarize(samples, comparisons);
console.log(`\n${formatTable(rows)}`);
if (waitRows)
  console.log(`\nwait events (pg_stat_activity every 10 ms):\n${formatWaits(waitRows)}`);
const outFile =
  values.out ?? path.join("bench-results", `${startedAt.toISOString().replace(/[:.]/g, "-")}.json`);
await mkdir(path.dirname(outFile), { recursive: true });
await writeFile(
  outFile,
  `${JSON.stringify({ mode, startedAt, server: server.description, facts, machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, memGiB: os.totalmem() / 2 ** 30, node: process.version }, sizes: size, rows, samples, waitEvents: waitRows }, null, 2)}\n`,
);
console.log(`\nraw results: ${outFile}`);
process.exit(0);
