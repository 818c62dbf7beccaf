// chaos aborts, CI size: business transactions aborted four ways.
import { expect, it } from "vitest";

import { aborts } from "../../scripts/chaos/scenarios/aborts.js";
import { useTestDatabase } from "../helpers/db.js";
import { ciSettings, expectClean, log } from "./support.js";

const db = useTestDatabase();

it("exactly the committed business transactions have runs", async () => {
  const summary = await aborts.run({ url: db.url, log }, ciSettings, { transactions: 200 });
  // 70 % commit: 140 orders, 140 runs; the scenario checks order ↔ run one to one.
  expectClean(summary, { total: 140, succeeded: 140 });
  expect(summary.faults).toBe(60);
  expect(summary.notes.join("\n")).toMatch(/140 orders and 140 runs stored$/m);
  for (const way of ["10 client-killed", "20 constraint", "20 rollback", "10 terminated-at-commit"])
    expect(summary.notes.join("\n")).toContain(way);
});
