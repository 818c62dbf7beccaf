import type { BenchServer } from "./database.js";
import type { Comparison, Sample } from "./results.js";

/** Sizes of one bench run: `--smoke` (CI), default, or `--full`. */
export interface Sizes {
  reps: number;
  insertSeconds: number;
  bulkRows: number;
  drainRuns: number;
  latencyRuns: number;
  latencyRate: number;
  historyRuns: number;
  historyMeasureRuns: number;
  /** Runs the dashboard scenario fills the tables with. */
  dashboardRuns: number;
}

export const sizes: Record<"smoke" | "default" | "full", Sizes> = {
  smoke: {
    reps: 1,
    insertSeconds: 1,
    bulkRows: 2_000,
    drainRuns: 200,
    latencyRuns: 40,
    latencyRate: 100,
    historyRuns: 2_000,
    historyMeasureRuns: 200,
    dashboardRuns: 2_000,
  },
  default: {
    reps: 3,
    insertSeconds: 8,
    bulkRows: 100_000,
    drainRuns: 20_000,
    latencyRuns: 2_000,
    latencyRate: 200,
    historyRuns: 0,
    historyMeasureRuns: 5_000,
    dashboardRuns: 1_000_000,
  },
  full: {
    reps: 3,
    insertSeconds: 10,
    bulkRows: 100_000,
    drainRuns: 20_000,
    latencyRuns: 4_000,
    latencyRate: 200,
    historyRuns: 1_000_000,
    historyMeasureRuns: 5_000,
    dashboardRuns: 1_000_000,
  },
};

export interface ScenarioContext {
  server: BenchServer;
  sizes: Sizes;
  /** Worker settings shared by every variant that runs a worker. */
  worker: { concurrency: number; localQueueSize: number };
  /** False for a variant left out by `--variants` (the baseline of a ratio is always kept). */
  wants(variant: string): boolean;
  record(sample: Omit<Sample, "scenario">): void;
  compare(comparison: Omit<Comparison, "scenario">): void;
  log(line: string): void;
}

export interface Scenario {
  name: string;
  description: string;
  /** Only with --full (slow to set up). */
  fullOnly?: boolean;
  run(ctx: ScenarioContext): Promise<void>;
}
