/**
 * A worker's liveness lock: a connection of its own (never a pooled one)
 * holding the worker's session advisory lock (`rowflow.hold_worker_lock`).
 * While it is open the other workers see this worker alive; when Postgres
 * sees it close (the process was killed, the backend terminated, the server
 * restarted), the lock is free and the first live worker's
 * `rowflow.disconnected_workers` probe releases this worker's jobs and leases
 * within a second, instead of after the heartbeat timeout.
 *
 * A lost connection is made again by the next `hold()` (the liveness probe's
 * or the heartbeat's), not at once: in between the worker may be declared
 * dead, which is safe (its late completions are refused by their lease
 * tokens, and its next heartbeat registers it again).
 */
import pg from "pg";

import { registerHandle } from "../../internal/open-handles.js";
import { holdWorkerLock } from "./hold-worker-lock.js";

export interface SessionLockOptions {
  connectionString: string;
  /** The worker (pool id) and its token. */
  id: string;
  token: string;
  /** Called once each time the connection is lost (for a log line). */
  onLost?: (error: Error | undefined) => void;
}

/** Holds one worker's liveness lock; `close()` releases it. */
export class SessionLock {
  readonly #options: SessionLockOptions;
  #client: pg.Client | undefined;
  #connecting: Promise<pg.Client> | undefined;
  #closed = false;
  readonly #unregister: () => void;

  constructor(options: SessionLockOptions) {
    this.#options = options;
    this.#unregister = registerHandle({
      kind: "client",
      description: `rowflow worker liveness lock (${options.id})`,
      close: () => this.close(),
    });
  }

  /**
   * Connects if needed and takes (or confirms) the lock: true when this
   * worker now holds it; false when the worker has no row (register first)
   * or another session holds the key. Throws when the database cannot be
   * reached (the caller retries on its next beat).
   */
  async hold(): Promise<boolean> {
    if (this.#closed) return false;
    const client = this.#client ?? (await this.#connect());
    return holdWorkerLock(client, { id: this.#options.id, token: this.#options.token });
  }

  /** Whether the lock's connection is open (the lock may still be untaken). */
  get connected(): boolean {
    return this.#client !== undefined;
  }

  /** The lock connection's backend pid (for tests and logs); undefined while disconnected. */
  get backendPid(): number | undefined {
    return (this.#client as (pg.Client & { processID?: number }) | undefined)?.processID;
  }

  /** Closes the connection, which releases the lock. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#unregister();
    const client = this.#client ?? (await this.#connecting?.catch(() => undefined));
    this.#client = undefined;
    await client?.end().catch(() => {});
  }

  #connect(): Promise<pg.Client> {
    this.#connecting ??= (async () => {
      const client = new pg.Client({
        connectionString: this.#options.connectionString,
        application_name: "rowflow worker (liveness lock)",
      });
      let lost = false;
      const onGone = (error?: Error) => {
        if (lost) return;
        lost = true;
        if (this.#client === client) this.#client = undefined;
        client.end().catch(() => {});
        if (!this.#closed) this.#options.onLost?.(error);
      };
      client.on("error", onGone);
      client.on("end", () => onGone());
      try {
        await client.connect();
      } catch (error) {
        lost = true;
        await client.end().catch(() => {});
        throw error;
      }
      if (this.#closed) {
        await client.end().catch(() => {});
        throw new Error("liveness lock closed while connecting");
      }
      this.#client = client;
      return client;
    })().finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }
}
