import type { MachineLoad } from "./machine-load.js";
import { median } from "./stats.js";

/** One measurement of one variant in one repetition. */
export interface Sample {
  scenario: string;
  variant: string;
  rep: number;
  metric: string;
  unit: string;
  value: number;
  /** Higher is better (throughput) or lower is better (latency, memory). */
  better: "higher" | "lower";
  /** The machine's load around the measured part the sample came from. */
  load?: MachineLoad;
}

/** A scenario's comparison: which variant the ratios are taken against. */
export interface Comparison {
  scenario: string;
  metric: string;
  baseline: string;
}

export interface Row {
  scenario: string;
  metric: string;
  variant: string;
  unit: string;
  median: number;
  reps: number;
  /** Reps that began on a busy machine; left out of the median when others exist. */
  disturbed: number;
  ratio: number | undefined;
}

/** Medians per (scenario, metric, variant), with the ratio to the comparison's baseline. */
export function summarize(samples: readonly Sample[], comparisons: readonly Comparison[]): Row[] {
  const groups = new Map<string, Sample[]>();
  for (const s of samples) {
    const key = `${s.scenario}\u0000${s.metric}\u0000${s.variant}`;
    const list = groups.get(key) ?? [];
    list.push(s);
    groups.set(key, list);
  }
  const rows: Row[] = [];
  for (const list of groups.values()) {
    const first = list[0] as Sample;
    const quiet = list.filter((s) => !s.load?.disturbed);
    rows.push({
      scenario: first.scenario,
      metric: first.metric,
      variant: first.variant,
      unit: first.unit,
      median: median((quiet.length > 0 ? quiet : list).map((s) => s.value)),
      reps: list.length,
      disturbed: list.length - quiet.length,
      ratio: undefined,
    });
  }
  for (const c of comparisons) {
    const base = rows.find(
      (r) => r.scenario === c.scenario && r.metric === c.metric && r.variant === c.baseline,
    );
    if (!base || base.median === 0) continue;
    for (const r of rows) {
      if (r.scenario === c.scenario && r.metric === c.metric) r.ratio = r.median / base.median;
    }
  }
  return rows;
}

/** A plain-text table of the rows. */
export function formatTable(rows: readonly Row[]): string {
  const header = ["scenario", "metric", "variant", "median", "unit", "ratio", "reps"];
  const body = rows.map((r) => [
    r.scenario,
    r.metric,
    r.variant,
    formatNumber(r.median),
    r.unit,
    r.ratio === undefined ? "" : `${r.ratio.toFixed(2)}x`,
    r.disturbed > 0 ? `${r.reps} (${r.disturbed} disturbed)` : String(r.reps),
  ]);
  const widths = header.map((h, i) =>
    Math.max(h.length, ...body.map((row) => (row[i] ?? "").length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, i) =>
        i === 3 || i === 5 ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0),
      )
      .join("  ");
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...body.map(line)].join("\n");
}

function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString("en-US");
  return value.toFixed(2);
}
