/**
 * A local HTTP receiver for the failure webhook's tests: records every
 * request (headers and JSON body) and answers each with the next status of
 * its script (then 200), or holds it without answering (`"hang"`) until
 * `close()`.
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

export interface WebhookReceiver {
  readonly url: string;
  readonly port: number;
  readonly requests: ReceivedRequest[];
  /** Statuses for the next requests, in order ("hang": never answer); then 200. */
  script: (number | "hang")[];
  close(): Promise<void>;
}

/** Listens on 127.0.0.1 (`port`, or a free one). */
export async function startReceiver(port = 0): Promise<WebhookReceiver> {
  const requests: ReceivedRequest[] = [];
  const hanging: ServerResponse[] = [];
  const receiver = {
    url: "",
    port: 0,
    requests,
    script: [] as (number | "hang")[],
    close: async () => {
      for (const response of hanging) response.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = createServer((request, response) => {
    let text = "";
    request.on("data", (chunk: Buffer) => (text += chunk.toString()));
    request.on("end", () => {
      requests.push({
        method: request.method ?? "",
        path: request.url ?? "",
        headers: request.headers,
        body: JSON.parse(text) as Record<string, unknown>,
      });
      const next = receiver.script.shift() ?? 200;
      if (next === "hang") {
        hanging.push(response);
        return;
      }
      response.writeHead(next, { "content-type": "text/plain" });
      response.end(next >= 300 ? "receiver says no" : "ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  receiver.port = (server.address() as AddressInfo).port;
  receiver.url = `http://127.0.0.1:${receiver.port}/hooks/rowflow`;
  return receiver;
}
