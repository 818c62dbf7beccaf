import {
  type CompiledQuery,
  type DatabaseConnection,
  type Kysely,
  type QueryResult,
  SingleConnectionProvider,
  Transaction,
} from "kysely";
import type pg from "pg";

import type { Queryable } from "../../db/queryable.js";
import { cancelBackend } from "../../db/session/cancel-backend.js";
import type { Database } from "../../db/types.js";
import { RowflowError } from "../../errors.js";
import type { TransactionProps } from "../worker-state.js";

/** Code of the error thrown by `ctx.tx` after the step's transaction ended (timeout, shutdown). */
export const transactionClosedCode = "RF_TX_CLOSED";

/**
 * The transaction a handler writes through (`ctx.tx`) and that later completes
 * the step. It is lazy: no connection is checked out and no BEGIN is sent
 * until the handler's first query. A handler that never touches `ctx.tx` thus
 * costs no transaction at all, and its completion is a single autocommit
 * statement (1 round trip instead of BEGIN + call + COMMIT).
 *
 * After `kill()` (timeout, shutdown) every further query fails, so a handler
 * that ignores its abort signal can never write through a connection that
 * went back to the pool.
 */
export class StepTransaction implements DatabaseConnection, Queryable {
  readonly #pool: pg.Pool;
  #client: pg.PoolClient | undefined;
  #opening: Promise<pg.PoolClient> | undefined;
  #closed = false;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  /** Whether the handler opened the transaction (made at least one query). */
  get started(): boolean {
    return this.#opening !== undefined;
  }

  /** A Kysely `Transaction` bound to this connection, built from the worker's Kysely instance. */
  kysely(base: Kysely<Database>, props: TransactionProps): Transaction<Database> {
    return new Transaction<Database>({
      ...props,
      executor: base.getExecutor().withConnectionProvider(new SingleConnectionProvider(this)),
    });
  }

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    const client = await this.#open();
    const { command, rowCount, rows } = await client.query(compiled.sql, [...compiled.parameters]);
    const changed =
      command === "INSERT" || command === "UPDATE" || command === "DELETE" || command === "MERGE";
    return changed
      ? { numAffectedRows: BigInt(rowCount ?? 0), rows: (rows ?? []) as R[] }
      : { rows: (rows ?? []) as R[] };
  }

  // eslint-disable-next-line require-yield -- streaming is not offered on ctx.tx
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new RowflowError("streaming queries are not supported on ctx.tx", {
      code: "RF_UNSUPPORTED",
    });
  }

  /** `Queryable` for the SQL-call modules: runs inside this transaction. */
  async query<R extends Record<string, unknown>>(
    text: string,
    values?: unknown[],
  ): Promise<{ rows: R[] }> {
    const client = await this.#open();
    return client.query<R>(text, values);
  }

  /** Commits and releases the connection. */
  async commit(): Promise<void> {
    await this.#finish("commit");
  }

  /** Rolls back (if anything was started) and releases the connection. */
  async rollback(): Promise<void> {
    await this.#finish("rollback");
  }

  /**
   * Ends the transaction without waiting for the handler: refuses further
   * queries, cancels the statement running on the connection (from another
   * connection of the pool), and destroys the connection, which makes the
   * server roll the transaction back. Resolves once the connection is gone.
   */
  async kill(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const client = this.#client ?? (await this.#opening?.catch(() => undefined));
    if (!client) return;
    this.#client = undefined;
    const pid = (client as unknown as { processID?: number }).processID;
    if (typeof pid === "number") {
      await cancelBackend(this.#pool, { pid }).catch(() => false);
    }
    client.release(true);
  }

  async #finish(command: "commit" | "rollback"): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (!this.#opening) return;
    let client: pg.PoolClient;
    try {
      client = await this.#opening;
    } catch (error) {
      if (command === "rollback") return; // never opened: nothing to undo
      throw error;
    }
    this.#client = undefined;
    try {
      await client.query(command);
    } catch (error) {
      client.release(true);
      throw error;
    }
    client.release();
  }

  #open(): Promise<pg.PoolClient> {
    if (this.#closed) {
      return Promise.reject(
        new RowflowError(
          "the step's transaction has ended (timeout or shutdown); ctx.tx can no longer be used",
          {
            code: transactionClosedCode,
          },
        ),
      );
    }
    this.#opening ??= (async () => {
      const client = await this.#pool.connect();
      try {
        await client.query("begin");
      } catch (error) {
        client.release(true);
        throw error;
      }
      if (this.#closed) {
        // killed while connecting: nothing was written yet
        client.release(true);
        throw new RowflowError("the step's transaction has ended", { code: transactionClosedCode });
      }
      this.#client = client;
      return client;
    })();
    return this.#opening;
  }
}
