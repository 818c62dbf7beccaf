import { describe, expect, it, vi } from "vitest";

import { selectServer } from "../helpers/select-server.js";

describe("selectServer", () => {
  it("uses DATABASE_URL when set, without probing for containers", async () => {
    const probe = vi.fn(async () => true);
    const choice = await selectServer({
      env: { DATABASE_URL: "postgres://u@h:5432/d" },
      containerRuntimeAvailable: probe,
    });
    expect(choice).toEqual({ kind: "url", url: "postgres://u@h:5432/d" });
    expect(probe).not.toHaveBeenCalled();
  });

  it("ignores an empty DATABASE_URL", async () => {
    const choice = await selectServer({
      env: { DATABASE_URL: "  " },
      containerRuntimeAvailable: async () => false,
    });
    expect(choice).toEqual({ kind: "embedded" });
  });

  it("uses testcontainers when a container runtime answers", async () => {
    const choice = await selectServer({ env: {}, containerRuntimeAvailable: async () => true });
    expect(choice).toEqual({ kind: "testcontainers" });
  });

  it("falls back to embedded Postgres when no container runtime answers", async () => {
    const choice = await selectServer({ env: {}, containerRuntimeAvailable: async () => false });
    expect(choice).toEqual({ kind: "embedded" });
  });

  it("skips the container probe when ROWFLOW_TEST_NO_CONTAINERS=1", async () => {
    const probe = vi.fn(async () => true);
    const choice = await selectServer({
      env: { ROWFLOW_TEST_NO_CONTAINERS: "1" },
      containerRuntimeAvailable: probe,
    });
    expect(choice).toEqual({ kind: "embedded" });
    expect(probe).not.toHaveBeenCalled();
  });
});
