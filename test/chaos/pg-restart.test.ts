// chaos pg-restart, CI size: the script's own embedded Postgres (durable
// settings) restarted in fast and then immediate mode under load.
import { expect, it } from "vitest";

import { pgRestart } from "../../scripts/chaos/scenarios/pg-restart.js";
import { openChaosServer } from "../../scripts/chaos/server.js";
import { ciSettings, expectClean, log } from "./support.js";

it("a fast and an immediate restart lose no committed step and double none", async () => {
  const server = await openChaosServer({ databaseUrl: undefined });
  try {
    const database = await server.freshDatabase("pg_restart");
    const summary = await pgRestart.run(
      { url: database.url, restart: server.restart, log },
      ciSettings,
      {
        durationMs: 5_000,
        everyMs: 1_000,
      },
    );
    expect(summary.faults).toBeGreaterThanOrEqual(2);
    expect(summary.notes.join("\n")).toMatch(/fast .* immediate /);
    expectClean(summary, { total: summary.runs.total, succeeded: summary.runs.total });
    expect(summary.runs.total).toBeGreaterThan(0);
  } finally {
    await server.stop();
  }
});
