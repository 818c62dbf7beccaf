// chaos no-notify, CI size: no NOTIFY is ever sent; polling finds everything.
import { expect, it } from "vitest";

import { noNotify } from "../../scripts/chaos/scenarios/no-notify.js";
import { useTestDatabase } from "../helpers/db.js";
import { ciSettings, expectClean, log } from "./support.js";

const db = useTestDatabase();

it("every run completes by polling when no NOTIFY is ever sent", async () => {
  const summary = await noNotify.run({ url: db.url, log }, ciSettings, { runs: 50 });
  expectClean(summary, { total: 50, succeeded: 50 });
  // The workers asked for wake-ups, and got none (the scenario checks the marks and waiters).
  expect(summary.notes.join("\n")).toMatch(/^[1-9]\d* waiter marks thrown away/m);
});
