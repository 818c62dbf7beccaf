// The failure webhook's options and backoff (src/worker/alerts/alert-options.ts).
import { describe, expect, it } from "vitest";

import { nextRetry, resolveAlertOptions } from "../../../src/worker/alerts/alert-options.js";

describe("alerts options", () => {
  it("needs a webhook or per-workflow URLs, http(s) only", () => {
    expect(() => resolveAlertOptions({})).toThrow(
      "createWorker: alerts needs a webhook URL, or workflows with theirs",
    );
    expect(() => resolveAlertOptions({ webhook: "not a url" })).toThrow(
      "createWorker: alerts.webhook is not a URL",
    );
    expect(() => resolveAlertOptions({ workflows: { a: "file:///etc/passwd" } })).toThrow(
      "createWorker: alerts.workflows.a must be an http or https URL, got file:",
    );
    expect(() => resolveAlertOptions({ webhook: "https://x.test/", timeout: 0 })).toThrow(
      "createWorker: alerts.timeout must be a positive integer, got 0",
    );
  });

  it("claims every workflow with a webhook, only the listed ones without", () => {
    expect(resolveAlertOptions({ webhook: "https://x.test/h" })).toMatchObject({
      claimWorkflows: null,
      timeout: 10_000,
      leaseMs: 25_000,
      pollInterval: 1_000,
    });
    expect(
      resolveAlertOptions({ workflows: { a: "https://a.test/", b: "https://b.test/" } })
        .claimWorkflows,
    ).toEqual(["a", "b"]);
  });

  it("doubles the delay up to the maximum and gives up after the window", () => {
    const options = resolveAlertOptions({
      webhook: "https://x.test/",
      retryDelay: 1_000,
      maxRetryDelay: 5_000,
      giveUpAfter: 20_000,
    });
    const since = new Date("2030-01-01T00:00:00Z");
    const at = (ms: number) => new Date(since.getTime() + ms);
    expect(nextRetry(options, 1, since, at(0))).toEqual(at(1_000));
    expect(nextRetry(options, 2, since, at(1_000))).toEqual(at(3_000));
    expect(nextRetry(options, 3, since, at(3_000))).toEqual(at(7_000));
    expect(nextRetry(options, 4, since, at(7_000))).toEqual(at(12_000)); // capped at 5 s
    expect(nextRetry(options, 5, since, at(15_000))).toEqual(at(20_000)); // exactly the window
    expect(nextRetry(options, 6, since, at(15_001))).toBeNull();
  });
});
