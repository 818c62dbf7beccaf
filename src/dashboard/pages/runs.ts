// The Runs page: filters kept in the URL (workflow, status, since, until,
// q: a search in the input), the counts per status under them, and 50 runs
// a page, newest first, paged by id (keyset: ?before=<last id>), each page
// reading a bounded window of ids (runs-queries.ts); bulk retry and cancel
// of the ticked runs or of every run the filter selects (bulk-actions.ts).
import type { Queryable } from "../../db/queryable.js";
import { actionForm, type Html, html, layout, type PageContext, query } from "../html.js";
import { workflowNames } from "../queries.js";
import {
  countRuns,
  listRuns,
  type RunsFilter,
  runStatuses,
  runsWindow,
  windowOf,
} from "../runs-queries.js";

const pageSize = 50;

export const time = (d: Date | null) =>
  d === null ? "" : d.toISOString().replace("T", " ").slice(0, 19);

export async function runsPage(db: Queryable, ctx: PageContext, f: RunsFilter): Promise<Html> {
  const w = await runsWindow(db, f);
  const [rows, counts, names] = await Promise.all([
    listRuns(db, f, w, pageSize + 1),
    countRuns(db, f, w),
    workflowNames(db),
  ]);
  const from = w.countsOlder ? w.countsFrom : null;
  const stoppedAt = w.listOlder ? w.listFrom : null;
  const more = rows.length > pageSize;
  const shown = rows.slice(0, pageSize);
  const keep = {
    workflow: f.workflow,
    status: f.status,
    since: f.since,
    until: f.until,
    q: f.q,
    scan: f.all ? "all" : undefined,
  };
  const window = windowOf(f)?.toLocaleString("en-US");
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  const filters = html`<form method="get" action="/" class="filters" id="filters">
    <label
      >Workflow
      <select name="workflow">
        <option value="">all</option>
        ${names.map((n) => html`<option${n === f.workflow ? html` selected` : ""}>${n}</option>`)}
      </select></label
    >
    <label
      >Status
      <select name="status">
        <option value="">all</option>
        ${runStatuses.map(
          (s) => html`<option${s === f.status ? html` selected` : ""}>${s}</option>`,
        )}
      </select></label
    >
    <label
      >Since <input name="since" value="${f.since ?? ""}" placeholder="2026-12-04 09:00"
    /></label>
    <label>Until <input name="until" value="${f.until ?? ""}" placeholder="now" /></label>
    <label
      >Input has
      <input name="q" value="${f.q ?? ""}" placeholder='text, or {"customerId": 7}' size="22"
    /></label>
    <button type="submit">Filter</button> <a href="/">clear</a>
  </form>`;
  const countLinks = html`<p class="counts" id="counts">
    <a href="/${query({ ...keep, status: undefined })}" ${f.status ? "" : html` class="current"`}
      >all ${total}</a
    >${runStatuses.map(
      (s) =>
        html` <a
          class="badge s-${s}${f.status === s ? " current" : ""}"
          href="/${query({ ...keep, status: s })}"
          >${s} ${counts[s] ?? 0}</a
        >`,
    )}
    ${from === null ? "" : html`<span class="muted" id="counts-window">of the newest ${window} runs (ids from ${from}); <a href="/${query({ ...keep, scan: "all" })}">count all</a> (reads every run)</span>`}
  </p>`;
  const table = html`<table class="runs" id="runs">
      <thead>
        <tr>
          <th></th>
          <th>Run</th>
          <th>Workflow</th>
          <th>Status</th>
          <th>Created (UTC)</th>
          <th>Finished</th>
          <th>Error</th>
        </tr>
      </thead>
      <tbody>
        ${shown.map(
          (r) =>
            html`<tr data-run="${r.id}">
              <td>
                <input
                  type="checkbox"
                  name="run"
                  value="${r.id}"
                  form="selection"
                  aria-label="select run ${r.id}"
                />
              </td>
              <td><a href="/runs/${r.id}">${r.id}</a></td>
              <td>${r.workflow} <span class="muted">v${r.version}</span></td>
              <td><span class="badge s-${r.status}">${r.status}</span></td>
              <td>${time(r.createdAt)}</td>
              <td>${time(r.finishedAt)}</td>
              <td class="error">${r.error ?? ""}</td>
            </tr>`,
        )}
      </tbody>
    </table>
    ${shown.length === 0 ? html`<p class="muted">No runs match.</p>` : ""}
    <p class="paging">
      ${f.before ? html`<a href="/${query(keep)}">newest</a> ` : ""}${more ? html`<a id="next" href="/${query({ ...keep, before: shown.at(-1)!.id })}">older →</a>` : stoppedAt === null ? "" : html`<span class="muted" id="stopped">looked at ${window} runs down to id ${stoppedAt};</span> <a id="next" href="/${query({ ...keep, before: stoppedAt })}">look further →</a>`}
    </p>`;
  return layout(
    ctx,
    html`<h1>Runs</h1>
      ${filters} ${bulk(ctx, keep)}
      <div data-refresh id="runs-live">${countLinks}${table}</div>`,
  );
}

/** Retry or cancel the ticked runs, or every run the filter selects (bulk-actions.ts). */
function bulk(ctx: PageContext, keep: Record<string, string | undefined>): Html {
  const fields = Object.fromEntries(Object.entries(keep).filter(([, v]) => v)) as Record<
    string,
    string
  >;
  const selection = html`<form method="post" action="/runs/selected" id="selection" class="action">
    <input
      type="hidden"
      name="_csrf"
      value="${ctx.csrf}"
    />${Object.entries(fields).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}" />`)}
    <button type="submit" name="do" value="retry" ${ctx.canAct ? "" : html` disabled`}>
      Retry selected
    </button>
    <button type="submit" name="do" value="cancel" ${ctx.canAct ? "" : html` disabled`}>
      Cancel selected
    </button>
  </form>`;
  // retry_runs / cancel_runs filter by workflow, status and time only: with a
  // search in the input they would act on runs the list does not show.
  const matching = fields.q
    ? html`<span class="muted" id="no-matching"
        >(no "every run matching" with an input search: tick the runs instead)</span
      >`
    : [
        actionForm(ctx, "/runs/retry-matching", "Retry every failed run matching", fields),
        actionForm(ctx, "/runs/cancel-matching", "Cancel every active run matching", fields),
      ];
  return html`<div class="actions">${selection} ${matching}</div>`;
}
