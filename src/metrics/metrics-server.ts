/**
 * The worker's /metrics endpoint: a bare node:http server (one route, no
 * framework to load in the worker), binding 127.0.0.1 unless told otherwise.
 * GET /metrics answers the registry in Prometheus' text format; anything
 * else is 404 (405 for another method on /metrics). A failed collection is a
 * 500 naming the error, so Prometheus marks the target down.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

import type { Registry } from "prom-client";

import { registerHandle } from "../internal/open-handles.js";

/** A running /metrics endpoint. */
export interface MetricsServer {
  /** `http://host:port/metrics`. */
  readonly url: string;
  /** Stops listening and closes open connections. */
  close(): Promise<void>;
}

/** Starts serving `registry` on host:port (0: a free port); rejects when it cannot listen (EADDRINUSE …). */
export async function serveMetrics(options: {
  registry: Registry;
  host: string;
  port: number;
}): Promise<MetricsServer> {
  const { registry } = options;
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path !== "/metrics") {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found: try /metrics\n");
      return;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain" }).end();
      return;
    }
    registry.metrics().then(
      (text) => {
        res.writeHead(200, { "content-type": registry.contentType });
        res.end(req.method === "HEAD" ? undefined : text);
      },
      (error: unknown) => {
        res.writeHead(500, { "content-type": "text/plain" });
        res.end(`collecting metrics failed: ${String(error)}\n`);
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(":") ? `[${options.host}]` : options.host;
  const url = `http://${host}:${port}/metrics`;
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= new Promise<void>((resolve) => {
      unregister();
      server.close(() => resolve());
      server.closeAllConnections();
    }));
  const unregister = registerHandle({ kind: "server", description: `metrics ${url}`, close });
  return { url, close };
}
