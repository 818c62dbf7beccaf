// npm run chaos -- <scenario …> | --all   [options]
//
// Scenarios: kill, pg-restart, backend-kill, no-notify, aborts, poison, fan-in
// (docs/reliability.md says what each does and checks). Each runs in a fresh
// database of DATABASE_URL's server (the role needs CREATEDB), else of an
// embedded Postgres with durable settings that the script starts, restarts
// (pg-restart) and removes. Each prints one summary line; the exit code is 1
// when a scenario broke a correctness rule.
//
// Options (defaults in brackets; sizes apply to the scenarios that use them):
//   --workers N [4]  --concurrency N [8]  --step-ms N [5]  --poll-interval MS [1000]
//   --heartbeat-timeout MS [rowflow's, 30000]  --done-timeout S [300]
//   --runs N [kill 10000, backend-kill 5000, no-notify 2000, poison 500]
//   --every S [kill, backend-kill 2; pg-restart 5, i.e. a restart every 5-10 s]
//   --fault-until F [0.8: faults stop when 80 % of the runs have finished]
//   --max-faults N [no limit]  --duration S [pg-restart 60; kill, backend-kill: no limit]
//   --transactions N [20000]  --joins N [2000]  --width N [8]  --poison N [3]
//   --data-dir DIR --pg-ctl PATH   (pg-restart on DATABASE_URL's server)
//   --json FILE   (every summary as JSON)   --keep   (keep the databases)
import { writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";

import type { ChaosSettings } from "./harness.js";
import { type ScenarioOptions, scenarios } from "./scenarios/index.js";
import { openChaosServer } from "./server.js";
import { formatSummary, type Summary } from "./summary.js";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    all: { type: "boolean", default: false },
    workers: { type: "string", default: "4" },
    concurrency: { type: "string", default: "8" },
    "step-ms": { type: "string", default: "5" },
    "poll-interval": { type: "string", default: "1000" },
    "heartbeat-timeout": { type: "string" },
    "done-timeout": { type: "string", default: "300" },
    runs: { type: "string" },
    every: { type: "string" },
    "fault-until": { type: "string" },
    "max-faults": { type: "string" },
    duration: { type: "string" },
    transactions: { type: "string" },
    joins: { type: "string" },
    width: { type: "string" },
    poison: { type: "string" },
    "data-dir": { type: "string" },
    "pg-ctl": { type: "string" },
    json: { type: "string" },
    keep: { type: "boolean", default: false },
  },
});

const names = values.all ? scenarios.map((s) => s.name) : positionals;
const unknown = names.filter((name) => !scenarios.some((s) => s.name === name));
if (names.length === 0 || unknown.length > 0) {
  console.error(
    `${unknown.length > 0 ? `unknown scenario(s): ${unknown.join(", ")}\n` : ""}usage: npm run chaos -- <${scenarios.map((s) => s.name).join(" | ")} …> | --all [options] (see scripts/chaos/main.ts)`,
  );
  process.exit(2);
}

const num = (name: string, text: string | undefined, scale = 1): number | undefined => {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0) {
    console.error(`--${name} expects a non-negative number, got "${text}"`);
    process.exit(2);
  }
  return Math.round(n * scale);
};

const settings: ChaosSettings = {
  workers: num("workers", values.workers)!,
  concurrency: num("concurrency", values.concurrency)!,
  stepMs: num("step-ms", values["step-ms"])!,
  pollInterval: num("poll-interval", values["poll-interval"])!,
  heartbeatTimeout: num("heartbeat-timeout", values["heartbeat-timeout"]),
  doneTimeoutMs: num("done-timeout", values["done-timeout"], 1000)!,
};
const options: ScenarioOptions = {
  runs: num("runs", values.runs),
  everyMs: num("every", values.every, 1000),
  faultUntil: values["fault-until"] === undefined ? undefined : Number(values["fault-until"]),
  maxFaults: num("max-faults", values["max-faults"]),
  durationMs: num("duration", values.duration, 1000),
  transactions: num("transactions", values.transactions),
  joins: num("joins", values.joins),
  width: num("width", values.width),
  poison: num("poison", values.poison),
};

const server = await openChaosServer({
  databaseUrl: process.env.DATABASE_URL,
  dataDir: values["data-dir"],
  pgCtl: values["pg-ctl"],
});
console.log(`rowflow chaos on ${server.description}: ${names.join(", ")}`);
const summaries: Summary[] = [];
try {
  for (const name of names) {
    const scenario = scenarios.find((s) => s.name === name)!;
    if (name === "pg-restart" && !server.restart) {
      const skipped = emptySummary(name, server.skipReason ?? "the server cannot be restarted");
      summaries.push(skipped);
      console.log(formatSummary(skipped));
      continue;
    }
    console.log(`# ${name}: ${scenario.description}`);
    const database = await server.freshDatabase(name);
    try {
      const summary = await scenario.run(
        { url: database.url, restart: server.restart, log: (line) => console.log(line) },
        settings,
        options,
      );
      summaries.push(summary);
      console.log(formatSummary(summary));
    } finally {
      if (!values.keep) await database.drop().catch(() => {});
    }
  }
} finally {
  await server.stop();
}
if (values.json)
  await writeFile(values.json, `${JSON.stringify({ settings, options, summaries }, null, 2)}\n`);
const failed = summaries.filter((s) => s.problems.length > 0);
console.log(
  failed.length === 0
    ? `all ${summaries.length} scenario(s) ok`
    : `FAILED: ${failed.map((s) => s.scenario).join(", ")}`,
);
process.exit(failed.length === 0 ? 0 : 1);

function emptySummary(scenario: string, why: string): Summary {
  const zero = {
    total: 0,
    active: 0,
    queued: 0,
    running: 0,
    compensating: 0,
    succeeded: 0,
    failed: 0,
    cancelled: 0,
  };
  return {
    scenario,
    skipped: why,
    problems: [],
    notes: [],
    runs: zero,
    ledgerMissing: 0,
    ledgerDoubled: 0,
    externalDuplicates: 0,
    faults: 0,
    recoverySeconds: undefined,
    selfExits: 0,
    stuckSteps: 0,
    lostAttempts: 0,
    throughput: { before: undefined, during: undefined, after: undefined },
    seconds: 0,
  };
}
