// Two fresh embedded starts at once used to pick the same free port (checked
// free, then bound seconds later, after initdb), and the second postgres
// failed "Address already in use" (the cause of issue 16's start that
// printed nothing after "did not start (…):"). Here the first port handed
// out is one this test holds: the start must notice and use another.
import { chmod, mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

import { afterAll, beforeAll, expect, it, vi } from "vitest";

import { startEmbeddedPostgres } from "../../src/embedded/embedded-postgres.js";
import type * as FreePort from "../../src/embedded/free-port.js";
import { findFreePort } from "../../src/embedded/free-port.js";

const held = vi.hoisted(() => ({ port: 0, handedOut: 0 }));
vi.mock("../../src/embedded/free-port.js", async (importOriginal) => {
  const real = await importOriginal<typeof FreePort>();
  return {
    findFreePort: async (preferred?: number) => {
      // The first call: a port that looked free but is taken by the time postgres binds.
      if (held.port !== 0 && held.handedOut++ === 0) return held.port;
      return real.findFreePort(preferred);
    },
  };
});

let blocker: net.Server | undefined;
let dir = "";
beforeAll(async () => {
  blocker = net.createServer();
  await new Promise<void>((resolve) => blocker!.listen(0, "127.0.0.1", resolve));
  held.port = (blocker.address() as net.AddressInfo).port;
  dir = await mkdtemp(path.join(tmpdir(), "rowflow-port-race-"));
  await chmod(dir, 0o755); // as root, postgres runs as the OS user postgres
});
afterAll(async () => {
  await new Promise((resolve) => blocker?.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

it("starts on another port when the one it picked was taken before postgres bound it", async () => {
  const logged: string[] = [];
  const server = await startEmbeddedPostgres({
    dataDir: path.join(dir, "pgdata"),
    persistent: false,
    unsafeFast: true,
    onLog: (line) => logged.push(line),
  });
  try {
    expect(held.handedOut).toBeGreaterThanOrEqual(2);
    expect(server.port).not.toBe(held.port);
    expect(logged).toContain(
      `port ${held.port} was taken before postgres bound it; trying another\n`,
    );
    expect(await findFreePort(server.port)).not.toBe(server.port); // it listens there
  } finally {
    await server.stop();
  }
});
