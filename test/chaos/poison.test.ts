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
  // The exit step took its worker down on each of its attempts until it failed: as poison
  // once it was the attempt its worker started last at 3 deaths (another step starting
  // later on the same worker can take that place), at the latest at its 10th lost attempt.
  expect(summary.selfExits).toBeGreaterThanOrEqual(1);
  expect(summary.selfExits).toBeLessThanOrEqual(10);
});
