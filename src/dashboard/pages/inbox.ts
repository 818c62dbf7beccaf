// The Inbox: one person's open and claimed human tasks (rowflow.inbox), or
// every open one, each with its form (form.ts) and a Complete button that
// calls rowflow.complete_task as that person.
import type { Queryable } from "../../db/queryable.js";
import { listTasks } from "../../db/waits/tasks.js";
import { formFields } from "../form.js";
import { actionForm, type Html, html, layout, type PageContext } from "../html.js";
import { time } from "./runs.js";

export async function inboxPage(
  db: Queryable,
  ctx: PageContext,
  assignee: string | undefined,
  message: string | undefined,
): Promise<Html> {
  const tasks = await listTasks(db, assignee ? { assignee } : { status: ["open", "claimed"] });
  const body = html`<h1>Inbox${assignee ? html` of ${assignee}` : ""}</h1>
    ${message ? html`<p class="notice" id="message">${message}</p>` : ""}
    <form method="get" action="/inbox" class="filters">
      <label>Assignee <input name="assignee" value="${assignee ?? ""}" /></label>
      <button>Show</button>
    </form>
    ${tasks.length === 0 ? html`<p class="muted">No open tasks.</p>` : ""}
    ${tasks.map(
      (t) =>
        html`<article class="task" data-task="${t.id}">
          <h2>${t.title}</h2>
          <p class="muted">
            task ${t.id} · <a href="/runs/${t.runId}">run ${t.runId}</a> ${t.workflow}/${t.step} ·
            for ${t.assignee} ·
            ${t.status}${t.dueAt ? ` · due ${time(t.dueAt)}` : ""}${t.overdue ? html` <b class="s-failed">overdue</b>` : ""}
          </p>
          ${t.description ? html`<p>${t.description}</p>` : ""}
          ${actionForm(ctx, `/tasks/${t.id}/complete`, "Complete", { by: assignee ?? t.assignee }, html`<div class="form">${formFields(t.form)}</div>`)}
        </article>`,
    )}`;
  return layout(ctx, body);
}
