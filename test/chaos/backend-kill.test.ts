// chaos backend-kill, CI size: the workers' backends terminated from outside.
import { expect, it } from "vitest";

import { backendKill } from "../../scripts/chaos/scenarios/backend-kill.js";
import { useTestDatabase } from "../helpers/db.js";
import { ciSettings, expectClean, log } from "./support.js";

const db = useTestDatabase();

it("workers whose backends (or LISTEN connections) are terminated reconnect and finish every run once", async () => {
  const summary = await backendKill.run(
    { url: db.url, log },
    { ...ciSettings, stepMs: 50 },
    {
      runs: 100,
      everyMs: 500,
    },
  );
  expectClean(summary, { total: 100, succeeded: 100 });
  // Both kinds of termination happened: every worker backend, then LISTEN only.
  expect(summary.faults).toBeGreaterThanOrEqual(2);
  expect(summary.selfExits).toBe(0);
});
