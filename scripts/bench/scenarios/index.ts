import type { Scenario } from "../scenario.js";
import { bulk } from "./bulk.js";
import { dashboard } from "./dashboard.js";
import { drain } from "./drain.js";
import { history } from "./history.js";
import { latency } from "./latency.js";
import { map } from "./map.js";
import { scale } from "./scale.js";
import { writeOverhead } from "./write-overhead.js";

/** Every scenario, in the order they run. */
export const scenarios: Scenario[] = [
  writeOverhead,
  bulk,
  drain,
  map,
  scale,
  latency,
  history,
  dashboard,
];
