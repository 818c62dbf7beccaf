// `rowflow worker --metrics-port`: usage errors exit 2 before anything
// starts; a worker started with it prints its metrics URL and serves the
// in-process and database series there until SIGINT.
import { fileURLToPath } from "node:url";

import { describe, expect, it } from "vitest";

import { useTestDatabase } from "../helpers/db.js";
import { samplesOf, scrape } from "../helpers/prometheus-text.js";
import { runCli, startCli } from "../helpers/run-cli.js";
import { waitFor } from "../helpers/wait-for.js";

const config = fileURLToPath(new URL("./fixtures/minimal.config.ts", import.meta.url));
const db = useTestDatabase();

describe("rowflow worker --metrics-port", () => {
  it.each([
    ["abc", "argument 'abc' is invalid. expected a port number from 0 to 65535."],
    ["70000", "argument '70000' is invalid. expected a port number from 0 to 65535."],
    ["-1", "argument '-1' is invalid. expected a port number from 0 to 65535."],
  ])("refuses --metrics-port %s: a usage error (exit 2)", async (value, message) => {
    const result = await runCli(["worker", "--config", config, "--metrics-port", value]);
    expect(result.code).toBe(2);
    expect(result.stderr.split("\n")[0]).toContain(message);
  });

  it("refuses --metrics-host without a port: a usage error (exit 2)", async () => {
    const result = await runCli([
      "worker",
      "--config",
      config,
      "--database-url",
      db.url,
      "--metrics-host",
      "0.0.0.0",
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      "rowflow: --metrics-host needs --metrics-port (or worker.metrics.port in the config)\n",
    );
  });

  it("lists the options in its help", async () => {
    const result = await runCli(["worker", "--help"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("--metrics-port <port>");
    expect(result.stdout).toContain("--metrics-host <host>");
  });

  it("prints the metrics URL and serves the worker's series until SIGINT", async () => {
    const cli = startCli([
      "worker",
      "--config",
      config,
      "--database-url",
      db.url,
      "--metrics-port",
      "0",
    ]);
    try {
      const url = await waitFor(
        () =>
          /rowflow worker: metrics at (http:\/\/127\.0\.0\.1:\d+\/metrics)/.exec(
            cli.out.stderr,
          )?.[1],
        { message: () => `no metrics URL printed; stderr: ${cli.out.stderr}` },
      );
      const samples = await scrape(url);
      expect(samplesOf(samples, "rowflow_handler_slots").map((s) => s.value)).toEqual([10]);
      expect(samplesOf(samples, "rowflow_workers_live").map((s) => s.value)).toEqual([1]);
    } finally {
      cli.child.kill("SIGINT");
    }
    expect(await cli.exited).toEqual({ code: null, signal: "SIGINT" });
  });
});
