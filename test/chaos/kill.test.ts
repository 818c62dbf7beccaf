// chaos kill, CI size: workers SIGKILLed while diamond runs drain.
import { expect, it } from "vitest";

import { kill } from "../../scripts/chaos/scenarios/kill.js";
import { useTestDatabase } from "../helpers/db.js";
import { ciSettings, expectClean, log } from "./support.js";

const db = useTestDatabase();

it("SIGKILLed workers lose no ledger write and double none", async () => {
  const summary = await kill.run(
    { url: db.url, log },
    { ...ciSettings, stepMs: 50 },
    {
      runs: 100,
      everyMs: 700,
      maxFaults: 2,
      faultUntil: 1,
    },
  );
  expectClean(summary, { total: 100, succeeded: 100 });
  expect(summary.faults).toBeGreaterThanOrEqual(1);
  expect(summary.selfExits).toBe(0);
});
