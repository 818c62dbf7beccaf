// The Workflows page: each workflow's latest version with its DAG, its
// attachments and schedules, its runs per status, and its runs by outcome
// over time (failure-chart.ts; ?range=24h, 7d or 30d).
import type { Queryable } from "../../db/queryable.js";
import { dagSvg } from "../dag.js";
import { failureChart, type RangeName, ranges, rangeStart } from "../failure-chart.js";
import { type Html, html, layout, type PageContext, query } from "../html.js";
import { versionSteps } from "../queries.js";
import {
  attachments,
  outcomesOverTime,
  runCountsByWorkflow,
  schedules,
  workflows,
} from "../workflow-queries.js";

export async function workflowsPage(
  db: Queryable,
  ctx: PageContext,
  rangeName: string | undefined,
): Promise<Html> {
  const range: RangeName =
    rangeName !== undefined && rangeName in ranges ? (rangeName as RangeName) : "24h";
  const start = rangeStart(range, new Date());
  const [list, outcomes, allCounts] = await Promise.all([
    workflows(db),
    outcomesOverTime(db, start, ranges[range].width),
    runCountsByWorkflow(db),
  ]);
  const sections = await Promise.all(
    list.map(async (w, i) => {
      const counts = allCounts.get(w.name) ?? {};
      const [steps, att, sch] = await Promise.all([
        versionSteps(db, w.name, w.latestVersion),
        attachments(db, w.name),
        schedules(db, w.name),
      ]);
      const dag = dagSvg(
        steps.map((s) => ({
          name: s.name,
          dependsOn: s.dependsOn,
          note: s.wait === null ? s.task : `waits: ${(s.wait as { kind?: string }).kind ?? "?"}`,
        })),
        `dag-${i}`,
      );
      return html`<section class="workflow" data-workflow="${w.name}">
        <h2>
          ${w.name}
          <span class="muted">v${w.latestVersion} of ${w.versions}</span
          >${w.paused ? html` <span class="badge s-cancelled">paused</span>` : ""}
          <a class="badge edit-in-designer" href="/designer${query({ workflow: w.name })}"
            >Edit in designer</a
          >
        </h2>
        <p class="counts">
          ${Object.entries(counts).map(([s, n]) => html`<a class="badge s-${s}" href="/${query({ workflow: w.name, status: s })}">${s} ${n}</a> `)}
        </p>
        ${failureChart(
          range,
          start,
          outcomes.filter((o) => o.workflow === w.name),
          `failures-${i}`,
        )}
        <div class="dag-box">${dag}</div>
        ${att.length === 0 ? "" : html`<p>Attached to ${att.map((a) => html`<code>${a.table}</code> on ${a.events.join("/")}${a.when ? html` when <code>${a.when}</code>` : ""}; `)}</p>`}
        ${sch.length === 0 ? "" : html`<p>Schedules: ${sch.map((s) => html`<code>${s.name}</code> ${s.cron} ${s.timezone}${s.paused ? " (paused)" : ""}; `)}</p>`}
      </section>`;
    }),
  );
  return layout(
    ctx,
    html`<h1>Workflows</h1>
      <p class="ranges">
        Runs by outcome:
        ${Object.keys(ranges).map((r) => (r === range ? html`<b>${r}</b> ` : html`<a href="/workflows${query({ range: r })}">${r}</a> `))}
      </p>
      ${list.length === 0 ? html`<p class="muted">No workflows defined.</p>` : sections}`,
  );
}
