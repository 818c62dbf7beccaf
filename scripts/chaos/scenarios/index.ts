import { aborts } from "./aborts.js";
import { backendKill } from "./backend-kill.js";
import { fanIn } from "./fan-in.js";
import { kill } from "./kill.js";
import { noNotify } from "./no-notify.js";
import type { Scenario } from "./options.js";
import { pgRestart } from "./pg-restart.js";
import { poison } from "./poison.js";

export type { Scenario, ScenarioOptions } from "./options.js";

/** In the order `--all` runs them. */
export const scenarios: readonly Scenario[] = [
  kill,
  pgRestart,
  backendKill,
  noNotify,
  aborts,
  poison,
  fanIn,
];
