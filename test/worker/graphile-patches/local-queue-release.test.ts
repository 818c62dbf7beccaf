// Whether src/worker/graphile-patches/local-queue-release.ts is still needed,
// checked against the installed graphile-worker: releasing a LocalQueue in
// WAITING mode (fetched jobs, every handler busy) hands its returnJobs()
// promise to background() after the mode became RELEASED, which throws. When
// the first test fails, graphile-worker fixed it: remove the patch.
import { EventEmitter } from "node:events";
import { createRequire } from "node:module";

import { describe, expect, it } from "vitest";

import { patchLocalQueueRelease } from "../../../src/worker/graphile-patches/local-queue-release.js";

const require = createRequire(import.meta.url);
const { LocalQueue } = require("graphile-worker/dist/localQueue.js") as {
  LocalQueue: { prototype: object };
};

interface QueueUnderTest {
  mode: string;
  backgroundCount: number;
  setModeReleased(): void;
}

/**
 * A LocalQueue in WAITING mode with one fetched job, built on graphile-worker's
 * own prototype (its real setModeReleased and background), whose returnJobs
 * backgrounds a promise as the real one does.
 */
function waitingQueue(): QueueUnderTest {
  const queue = Object.create(LocalQueue.prototype) as QueueUnderTest & Record<string, unknown>;
  let finished = 0;
  Object.assign(queue, {
    ctx: { events: new EventEmitter() },
    mode: "WAITING",
    backgroundCount: 0,
    jobQueue: [{ id: "1" }],
    workerQueue: [],
    ttlExpiredTimer: null,
    refetchDelayTimer: null,
    refetchDelayActive: false,
    decreaseBackgroundCount: () => finished++,
    decreaseBackgroundCountWithError: () => finished++,
    returnJobs(this: { background(p: Promise<unknown>): void }) {
      this.background(Promise.resolve());
    },
  });
  return queue;
}

describe("graphile-worker LocalQueue release in WAITING mode", () => {
  it("throws in graphile-worker as installed (the patch is still needed)", () => {
    expect(() => waitingQueue().setModeReleased()).toThrow(
      "Cannot background something when the queue is already released",
    );
  });

  it("tracks the returned jobs' promise once patched", () => {
    const queue = waitingQueue();
    patchLocalQueueRelease(queue);
    queue.setModeReleased();
    expect(queue.mode).toBe("RELEASED");
    expect(queue.backgroundCount).toBe(1);
  });
});
