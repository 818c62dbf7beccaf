// chaos poison, CI size: handlers that throw, exit their process, or hang.
import { expect, it } from "vitest";

import { poison } from "../../scripts/chaos/scenarios/poison.js";
import { useTestDatabase } from "../helpers/db.js";
import { ciSettings, expectClean, log } from "./support.js";

const db = useTestDatabase();

it("poison steps fail their runs and the healthy runs beside them all succeed", async () => {
  const summary = await poison.run({ url: db.url, log }, ciSettings, { runs: 10, poison: 1 });
  // The scenario checks the counts by workflow: 10 diamonds succeeded, each poison run failed.
  expectClean(summary, { total: 13, succeeded: 10, failed: 3 });
  // The exit step took its worker down on each of its attempts until it failed (at its 2nd
  // attempt, or as poison at its 3rd lost one).
  expect(summary.selfExits).toBeGreaterThanOrEqual(1);
  expect(summary.selfExits).toBeLessThanOrEqual(3);
});
