// The Run page: the DAG of its version coloured by step status, each step's
// output and error, explain_run's answer while it is not finished, its
// attempts as a Gantt chart (gantt.ts), the timeline (rowflow.run_timeline),
// and the operator's buttons.
import type { Queryable } from "../../db/queryable.js";
import { explainRun } from "../../db/runs/operate.js";
import { runAttempts } from "../attempt-queries.js";
import { dagSvg } from "../dag.js";
import { ganttLegend, ganttSvg } from "../gantt.js";
import { actionForm, type Html, html, json, layout, type PageContext } from "../html.js";
import { getRun, runSteps, timeline, versionSteps } from "../queries.js";
import { time } from "./runs.js";

const finished = new Set(["succeeded", "failed", "cancelled"]);

export async function runPage(
  db: Queryable,
  ctx: PageContext,
  id: string,
  message: string | undefined,
): Promise<Html | undefined> {
  const run = await getRun(db, id);
  if (run === undefined) return undefined;
  const [steps, spec, events, explained, attempts] = await Promise.all([
    runSteps(db, id),
    versionSteps(db, run.workflow, run.version),
    timeline(db, id),
    finished.has(run.status) ? Promise.resolve([]) : explainRun(db, id),
    runAttempts(db, id),
  ]);
  const byName = new Map(steps.map((s) => [s.step, s]));
  const dag = dagSvg(
    spec.map((s) => ({ name: s.name, dependsOn: s.dependsOn, status: byName.get(s.name)?.status })),
  );
  const actions = html`<div class="actions">
    ${run.status === "failed" || run.status === "cancelled" ? [actionForm(ctx, `/runs/${id}/retry`, "Retry failed steps", { mode: "failed" }), actionForm(ctx, `/runs/${id}/retry`, "Retry failed and downstream", { mode: "failed_and_downstream" })] : ""}
    ${finished.has(run.status) ? "" : actionForm(ctx, `/runs/${id}/cancel`, "Cancel run")}
    ${finished.has(run.status) ? "" : actionForm(ctx, `/runs/${id}/signal`, "Send signal", {}, html`<input name="name" placeholder="signal name" required /> <input name="payload" placeholder='{"json": "payload"}' /> `)}
  </div>`;
  const stepRows = steps.map(
    (s) =>
      html`<tr data-step-row="${s.step}">
        <td>
          ${s.step}${s.kind === "step" ? "" : html` <span class="muted">${s.kind}</span>`}${s.childRunId ? html` → <a href="/runs/${s.childRunId}" data-child-run>run ${s.childRunId}</a>` : ""}
        </td>
        <td>
          <span class="badge s-${s.status}">${s.status}</span
          >${s.elements === null ? "" : html` <span class="muted" data-elements>${s.elements.total - s.elements.open}/${s.elements.total} elements done${s.elements.failed > 0 ? `, ${s.elements.failed} failed` : ""}</span>`}
        </td>
        <td>${s.attempt}/${s.maxAttempts}</td>
        <td>${time(s.startedAt)}</td>
        <td>${duration(s.startedAt, s.finishedAt)}</td>
        <td>${s.lockedBy ?? ""}</td>
        <td>
          ${
            s.output === null
              ? ""
              : html`<details>
                  <summary>output</summary>
                  ${json(s.output)}
                </details>`
          }${
            s.error === null
              ? ""
              : html`<details open>
                  <summary>error</summary>
                  ${json(s.error)}
                </details>`
          }
        </td>
        <td>
          ${s.kind === "step" && !["succeeded", "skipped"].includes(s.status) && !finished.has(run.status) ? actionForm(ctx, `/runs/${id}/skip`, "Skip", { step: s.step }) : ""}
          ${s.kind === "step" && run.status !== "queued" ? actionForm(ctx, `/runs/${id}/rerun`, "Rerun from here", { step: s.step }) : ""}
        </td>
      </tr>`,
  );
  const body = html`<div data-refresh id="run-head">
      <h1>
        Run ${run.id} <span class="badge s-${run.status}" id="run-status">${run.status}</span>
      </h1>
      ${message ? html`<p class="notice" id="message">${message}</p>` : ""}
      <p>
        ${run.workflow} v${run.version} · created ${time(run.createdAt)} · started
        ${time(run.startedAt) || "—"} · finished ${time(run.finishedAt) || "—"} · by
        ${run.startedBy}${run.rerunOf ? html` · rerun of <a href="/runs/${run.rerunOf}">${run.rerunOf}</a>` : ""}${run.parentRunId ? html` · child of <a href="/runs/${run.parentRunId}" data-parent-run>run ${run.parentRunId}</a> step ${run.parentStep ?? ""}` : ""}
      </p>
      ${actions}
    </div>
    <div data-refresh id="run-live">
      <section>
        <h2>DAG</h2>
        <div class="dag-box">${dag}</div>
      </section>
      ${
        run.errorDetail === null
          ? ""
          : html`<section>
              <h2>Error</h2>
              ${json(run.errorDetail)}
            </section>`
      }
      ${
        explained.length === 0
          ? ""
          : html`<section>
              <h2>Why it waits</h2>
              <ul id="explain">
                ${explained.map((e) => html`<li><b>${e.step ?? "run"}</b> (${e.status}): ${e.reason} <span class="muted">${e.code}</span></li>`)}
              </ul>
            </section>`
      }
      <section>
        <h2>Steps</h2>
        <table class="steps">
          <thead>
            <tr>
              <th>Step</th>
              <th>Status</th>
              <th>Attempt</th>
              <th>Started</th>
              <th>Took</th>
              <th>Worker</th>
              <th>Output / error</th>
              <th></th>
            </tr>
          </thead>
          <tbody>
            ${stepRows}
          </tbody>
        </table>
      </section>
      <section>
        <h2>Attempts</h2>
        <div class="dag-box">${ganttSvg(attempts, run)}</div>
        ${ganttLegend}
      </section>
      <section>
        <h2>Timeline</h2>
        <table class="timeline">
          <thead>
            <tr>
              <th>At (UTC)</th>
              <th>Step</th>
              <th>Event</th>
              <th>Attempt</th>
              <th>Data</th>
            </tr>
          </thead>
          <tbody>
            ${events.map(
              (e) =>
                html`<tr>
                  <td>${time(e.at)}</td>
                  <td>${e.step ?? ""}</td>
                  <td>${e.type}</td>
                  <td>${e.attempt ?? ""}</td>
                  <td class="data">
                    ${e.data === null ? "" : JSON.stringify(e.data).slice(0, 300)}
                  </td>
                </tr>`,
            )}
          </tbody>
        </table>
      </section>
    </div>
    <section>
      <h2>Input</h2>
      ${json(run.input)}
    </section>`;
  return layout({ ...ctx, live: id }, body);
}

function duration(from: Date | null, to: Date | null): string {
  if (from === null || to === null) return "";
  const ms = to.getTime() - from.getTime();
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}
