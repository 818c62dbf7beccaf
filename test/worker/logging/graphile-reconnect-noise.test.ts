// src/worker/lifecycle/graphile-logger.ts: graphile-worker's LISTEN
// reconnect errors are one warning per outage and one info line on
// recovery; its other errors pass through as errors.
import { EventEmitter } from "node:events";

import { describe, expect, it } from "vitest";

import { toGraphileLogger } from "../../../src/worker/lifecycle/graphile-logger.js";

function capture() {
  const lines: { level: string; message: string }[] = [];
  const at = (level: string) => (message: string) => lines.push({ level, message });
  return {
    lines,
    logger: { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") },
  };
}

describe("graphile-worker's reconnect noise", () => {
  it("folds an outage's reconnect errors into one warning and one recovery line", () => {
    const { lines, logger } = capture();
    const events = new EventEmitter();
    const graphile = toGraphileLogger(logger, events);
    for (let i = 0; i < 5; i++) {
      graphile.error(
        `Error with notify listener (trying again in ${100 * i}ms): Connection terminated`,
      );
    }
    graphile.error("Failed to reset locked; we'll try again in 2000ms");
    graphile.error("Releasing local queue failed: boom"); // not reconnect noise
    expect(lines.filter((l) => l.level !== "debug")).toEqual([
      { level: "warn", message: expect.stringContaining("lost its LISTEN connection") },
      { level: "error", message: "Releasing local queue failed: boom" },
    ]);
    expect(lines.filter((l) => l.level === "debug")).toHaveLength(5);
    events.emit("pool:listen:success", {});
    expect(lines.at(-1)).toEqual({
      level: "info",
      message: expect.stringContaining("listening again (5 more reconnect message(s)"),
    });
    // A success without an outage says nothing; the next outage warns again.
    events.emit("pool:listen:success", {});
    graphile.error("Error with notify listener (trying again in 50ms): ECONNREFUSED");
    expect(lines.filter((l) => l.level === "warn")).toHaveLength(2);
    expect(lines.filter((l) => l.level === "info")).toHaveLength(1);
  });
});
