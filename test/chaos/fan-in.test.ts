// chaos fan-in, CI size: many joins racing.
import { it } from "vitest";

import { fanIn } from "../../scripts/chaos/scenarios/fan-in.js";
import { useTestDatabase } from "../helpers/db.js";
import { ciSettings, expectClean, log } from "./support.js";

const db = useTestDatabase();

it("each join runs exactly once however its branches race", async () => {
  const summary = await fanIn.run({ url: db.url, log }, ciSettings, { joins: 50, width: 4 });
  // The scenario checks one ledger row per join; the ledger check covers every step.
  expectClean(summary, { total: 50, succeeded: 50 });
});
