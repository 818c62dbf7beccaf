import type { ChaosEnv, ChaosSettings } from "../harness.js";
import type { Summary } from "../summary.js";

/** Sizes of the scenarios (npm run chaos options); each scenario has its own defaults. */
export interface ScenarioOptions {
  /** Runs started up front (kill, backend-kill, no-notify, poison's healthy runs). */
  runs?: number | undefined;
  /** A fault every this many ms (kill, backend-kill). */
  everyMs?: number | undefined;
  /** How long the faults go on (pg-restart; kill and backend-kill stop earlier when `faultUntil` is reached). */
  durationMs?: number | undefined;
  /** At most this many faults (kill, backend-kill). (Default: no limit) */
  maxFaults?: number | undefined;
  /** Faults stop once this share of the runs has finished (kill, backend-kill). (Default: 0.8) */
  faultUntil?: number | undefined;
  /** Business transactions (aborts). */
  transactions?: number | undefined;
  /** Fan-in runs (each one join) and their width. */
  joins?: number | undefined;
  width?: number | undefined;
  /** Runs of each poison kind (throw, exit, hang). */
  poison?: number | undefined;
}

export type ScenarioRun = (
  env: ChaosEnv,
  settings: ChaosSettings,
  options: ScenarioOptions,
) => Promise<Summary>;

export interface Scenario {
  name: string;
  description: string;
  run: ScenarioRun;
}
