import type pg from "pg";

/** An attachment a workflow declares with `on: [...]` in the DSL. */
export interface DeclaredAttachment {
  table: string;
  events?: readonly string[];
  when?: string;
  columns?: readonly string[];
  excludeColumns?: readonly string[];
  onDelete?: "cancel" | "compensate" | "ignore";
  supersede?: boolean;
}

export interface AttachableWorkflow {
  readonly name: string;
  readonly attachments?: readonly DeclaredAttachment[];
}

/**
 * Makes the database's attachments match the declared ones: an identical
 * attachment (table, workflow, events, when, columns, onDelete, supersede) is kept, a different one for the
 * same table and workflow is detached first, a missing one is attached
 * through `rowflow.attach`. Returns the attachments it created.
 */
export async function attachDeclared(
  pool: pg.Pool,
  workflows: readonly AttachableWorkflow[],
): Promise<string[]> {
  const created: string[] = [];
  for (const workflow of workflows) {
    for (const attachment of workflow.attachments ?? []) {
      const events = [...(attachment.events ?? ["insert"])].sort();
      const { rows } = await pool.query<{ present: boolean }>(
        `select exists (
           select 1 from rowflow.attachments
            where table_name = to_regclass($1) and workflow = $2
              and (select array_agg(e order by e) from unnest(events) as e) = $3::text[]
              and when_sql is not distinct from $4
              and columns is not distinct from $5::text[] and exclude_columns is not distinct from $6::text[]
              and on_delete = $7 and supersede = $8
         ) as present`,
        [
          attachment.table,
          workflow.name,
          events,
          attachment.when ?? null,
          attachment.columns ?? null,
          attachment.excludeColumns ?? null,
          attachment.onDelete ?? "ignore",
          attachment.supersede ?? false,
        ],
      );
      if (rows[0]?.present) continue;
      await pool.query(
        `select rowflow.detach(table_name => $1::text, workflow => $2)
          where exists (select 1 from rowflow.attachments where table_name = to_regclass($1) and workflow = $2)`,
        [attachment.table, workflow.name],
      );
      await pool.query(
        `select rowflow.attach(table_name => $1::text, workflow => $2, events => $3::text[], "when" => $4,
                               columns => $5::text[], exclude_columns => $6::text[],
                               on_delete => $7, supersede => $8)`,
        [
          attachment.table,
          workflow.name,
          events,
          attachment.when ?? null,
          attachment.columns ?? null,
          attachment.excludeColumns ?? null,
          attachment.onDelete ?? "ignore",
          attachment.supersede ?? false,
        ],
      );
      created.push(`${workflow.name} on ${attachment.table} (${events.join(", ")})`);
    }
  }
  return created;
}
