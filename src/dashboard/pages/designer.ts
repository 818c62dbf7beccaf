// The Designer: a workflow spec edited as a graph (add steps, drag from one
// step to another to make the second depend on the first), a side panel for
// the selected step's options, and the spec's JSON beside them, each
// following the other. The page is a shell: its script (designer-*.ts
// assets) asks POST /designer/check for the problems and the layout on
// every edit (designer-routes.ts). `?workflow=<name>` starts from that
// workflow's latest version.
import type { Queryable } from "../../db/queryable.js";
import { latestSpec } from "../designer-queries.js";
import { type Html, html, layout, type PageContext, raw } from "../html.js";

/** JSON inside a <script> element: nothing in it can close the element. */
const scriptJson = (value: unknown) =>
  raw(
    JSON.stringify(value)
      .replace(/</g, "\\u003c")
      .replace(/>/g, "\\u003e")
      .replace(/&/g, "\\u0026")
      .replace(/\u2028/g, "\\u2028")
      .replace(/\u2029/g, "\\u2029"),
  );

export async function designerPage(
  db: Queryable,
  ctx: PageContext,
  workflow: string | undefined,
): Promise<Html | undefined> {
  let start: { name: string; version: number | null; spec: unknown } = {
    name: "",
    version: null,
    spec: { steps: [] },
  };
  if (workflow !== undefined) {
    const found = await latestSpec(db, workflow);
    if (found === undefined) return undefined;
    start = { name: workflow, ...found };
  }
  const body = html`<link rel="stylesheet" href="/assets/designer.css" />
    <h1>
      Designer${
        start.version === null
          ? ""
          : html` <span class="muted">from ${start.name} v${start.version}</span>`
      }
    </h1>
    <div class="designer-bar">
      <label>Workflow <input id="wf-name" value="${start.name}" placeholder="name" /></label>
      <button type="button" id="add-step">Add step</button>
      <button type="button" id="save" ${ctx.canAct ? "" : raw("disabled")}>
        Save as new version
      </button>
      <button type="button" id="export">Export migration</button>
      <span id="check-state" class="muted">checking…</span>
      <span id="save-state"></span>
    </div>
    <div class="designer">
      <section class="canvas">
        <div class="dag-box">
          <svg id="designer-svg" class="dag designer-graph" role="img" aria-label="workflow graph">
            <defs>
              <marker
                id="d-arrow"
                viewBox="0 0 10 10"
                refX="10"
                refY="5"
                markerUnits="userSpaceOnUse"
                markerWidth="10"
                markerHeight="10"
                orient="auto-start-reverse"
              >
                <path d="M0,0 L10,5 L0,10 z" />
              </marker>
              <marker
                id="d-arrow-cycle"
                viewBox="0 0 10 10"
                refX="10"
                refY="5"
                markerUnits="userSpaceOnUse"
                markerWidth="10"
                markerHeight="10"
                orient="auto-start-reverse"
              >
                <path d="M0,0 L10,5 L0,10 z" class="cycle-head" />
              </marker>
            </defs>
            <g id="designer-layer"></g>
          </svg>
        </div>
        <p class="muted hint">
          Drag from a step to another to make the second depend on the first. Click a step to edit
          it, an arrow to remove it (or press Delete).
        </p>
        <h2>Problems</h2>
        <ul id="problems"></ul>
      </section>
      <aside id="panel" class="panel"></aside>
      <section class="json">
        <label for="spec-json"><b>Spec JSON</b> <span class="muted">(editable)</span></label>
        <textarea id="spec-json" spellcheck="false"></textarea>
        <p id="json-error" class="error"></p>
      </section>
    </div>
    <section id="export-box" hidden>
      <h2>Migration</h2>
      <p class="attach">
        Attach to a table (optional):
        <label>table <input id="attach-table" placeholder="shop.orders" /></label>
        <label><input type="checkbox" class="attach-event" value="insert" checked /> insert</label>
        <label><input type="checkbox" class="attach-event" value="update" /> update</label>
        <label><input type="checkbox" class="attach-event" value="delete" /> delete</label>
        <label>when <input id="attach-when" placeholder="new.status = 'paid'" size="30" /></label>
        <button type="button" id="export-again">Update</button>
        <button type="button" id="copy-sql">Copy</button>
      </p>
      <textarea id="export-sql" readonly spellcheck="false"></textarea>
    </section>
    <script type="application/json" id="designer-initial">
      ${scriptJson({ name: start.name, spec: start.spec })}
    </script>
    <script src="/assets/designer.js"></script>`;
  return layout(ctx, body);
}
