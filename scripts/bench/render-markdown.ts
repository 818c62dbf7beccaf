// npx tsx scripts/bench/render-markdown.ts bench-results/<file>.json
// Prints the run's facts and its medians/ratios as Markdown, for docs/benchmarks.md.
import { readFile } from "node:fs/promises";

import type { Row } from "./results.js";

const file = process.argv[2];
if (!file) {
  console.error("usage: render-markdown.ts <results.json>");
  process.exit(2);
}
const data = JSON.parse(await readFile(file, "utf8")) as {
  mode: string;
  startedAt: string;
  server: string;
  facts: Record<string, string>;
  machine: { cpus: number; model: string; memGiB: number; node: string };
  sizes: Record<string, number>;
  rows: Row[];
};

const fmt = (v: number) =>
  Math.abs(v) >= 100 ? Math.round(v).toLocaleString("en-US") : v.toFixed(2);
console.log(`Run of ${data.startedAt} (${data.mode}), ${data.server}.\n`);
console.log(
  `- Machine: ${data.machine.cpus} × ${data.machine.model}, ${Math.round(data.machine.memGiB)} GiB, Node ${data.machine.node}`,
);
console.log(
  `- Postgres ${data.facts.server_version}: ${Object.entries(data.facts)
    .filter(([k]) => k !== "server_version")
    .map(([k, v]) => `${k}=${v}`)
    .join(", ")}`,
);
console.log(
  `- Repetitions: ${data.sizes.reps} (interleaved); sizes: ${JSON.stringify(data.sizes)}\n`,
);
console.log("| scenario | metric | variant | median | ratio |");
console.log("|---|---|---|---:|---:|");
for (const r of data.rows) {
  console.log(
    `| ${r.scenario} | ${r.metric} | ${r.variant} | ${fmt(r.median)} ${r.unit} | ${r.ratio === undefined ? "" : `${r.ratio.toFixed(2)}×`} |`,
  );
}
