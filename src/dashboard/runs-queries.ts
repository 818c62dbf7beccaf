// The Runs page's reads, each bounded to a window of ids so that no page
// reads the whole table (docs/dashboard.md, "Cost on a large database").
// rowflow.runs has no index on workflow, status, created_at or input on
// purpose (every index costs every start: sql/schema/20_tables/20_runs.sql),
// so a filter is checked run by run, walking the primary key down from the
// page's top id. A page looks at no more than `window` ids below its top
// (100,000; 20,000 with a text search, which costs ~5 µs a run to turn each
// input to text), and says where it stopped when older runs remain: one
// link goes on below. The counts per status cover the newest `window` ids
// the same way, labelled when the table has older runs. `scan=all` lifts
// the bound (exact, and a scan of the whole table).
import type { Queryable } from "../db/queryable.js";
import type { RunRow } from "./queries.js";

export const runStatuses = [
  "queued",
  "running",
  "compensating",
  "succeeded",
  "failed",
  "cancelled",
];

/** Ids a page looks at (below its top): plain filters, and with a text search. */
export const scanWindow = 100_000;
export const textSearchWindow = 20_000;

export interface RunsFilter {
  workflow?: string | undefined;
  status?: string | undefined;
  /** ISO times or anything Postgres reads as timestamptz. */
  since?: string | undefined;
  until?: string | undefined;
  /**
   * Search in the input: a JSON object is matched by containment
   * (`input @> q`), anything else as text in the input (`input::text ILIKE
   * %q%`, case-insensitive).
   */
  q?: string | undefined;
  /** Keyset: only runs with a smaller id. */
  before?: string | undefined;
  /** Look at every run, not only a window of ids. */
  all?: boolean | undefined;
}

/** A JSON object's text for containment, or null for a text search. */
export function containment(q: string | undefined): string | null {
  if (q === undefined || !q.trimStart().startsWith("{")) return null;
  try {
    const value: unknown = JSON.parse(q);
    return typeof value === "object" && value !== null && !Array.isArray(value) ? q : null;
  } catch {
    return null;
  }
}

/** How many ids a page with this filter looks at; null: all. */
export const windowOf = (f: RunsFilter): number | null =>
  f.all ? null : f.q !== undefined && containment(f.q) === null ? textSearchWindow : scanWindow;

const where = `($1::text is null or r.workflow = $1)
  and ($2::text is null or r.status = $2)
  and ($3::timestamptz is null or r.created_at >= $3)
  and ($4::timestamptz is null or r.created_at < $4)
  and ($5::jsonb is null or r.input @> $5)
  and ($6::text is null or r.input::text ilike '%' || $6 || '%')`;

const likeEscaped = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

const args = (f: RunsFilter, withStatus = true) => {
  const json = containment(f.q);
  return [
    f.workflow ?? null,
    withStatus ? (f.status ?? null) : null,
    f.since ?? null,
    f.until ?? null,
    json,
    f.q !== undefined && json === null ? likeEscaped(f.q) : null,
  ];
};

/**
 * Where a page's reads stop: the list looks at ids in [listFrom, before or
 * the newest), the counts at ids from countsFrom; each "older" says whether
 * runs below were left unread. One look at the primary key.
 */
export interface RunsWindow {
  top: string;
  listFrom: string;
  listOlder: boolean;
  countsFrom: string;
  countsOlder: boolean;
}

export async function runsWindow(db: Queryable, f: RunsFilter): Promise<RunsWindow> {
  const { rows } = await db.query<RunsWindow & Record<string, unknown>>(
    `select b.top::text as top, b.list_from::text as "listFrom", b.counts_from::text as "countsFrom",
       exists (select 1 from rowflow.runs as o where o.id < b.list_from) as "listOlder",
       exists (select 1 from rowflow.runs as o where o.id < b.counts_from) as "countsOlder"
     from (select t.top, coalesce($1::bigint, t.top) - coalesce($2::int, t.top) as list_from,
             t.top - coalesce($2::int, t.top) as counts_from
           from (select coalesce(max(id), 0) + 1 as top from rowflow.runs) as t) as b`,
    [f.before ?? null, windowOf(f)],
  );
  return rows[0]!;
}

/** Up to `limit` runs below `before` (or the newest), at or above `from`: the primary key, walked down. */
export async function listRuns(
  db: Queryable,
  f: RunsFilter,
  w: RunsWindow,
  limit: number,
): Promise<RunRow[]> {
  const { rows } = await db.query<RunRow>(
    `select r.id::text as id, r.workflow, r.version, r.status, r.created_at as "createdAt",
       r.finished_at as "finishedAt", r.error ->> 'message' as error
     from rowflow.runs as r
     where ${where} and r.id < $7 and r.id >= $8
     order by r.id desc limit $9`,
    [...args(f), f.before ?? w.top, w.listFrom, limit],
  );
  return rows;
}

/**
 * Runs per status under the filter's workflow, times and search (the
 * status filter aside), with ids from the window's countsFrom.
 */
export async function countRuns(
  db: Queryable,
  f: RunsFilter,
  w: RunsWindow,
): Promise<Record<string, number>> {
  const { rows } = await db.query<{ status: string; n: number }>(
    `select r.status, count(*)::int as n from rowflow.runs as r
     where ${where} and r.id >= $7 group by r.status`,
    [...args(f, false), w.countsFrom],
  );
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}
