// The designer's script, part 3 of 3: the side panel (the selected step's
// fields, the selected arrow, or the workflow's own fields), the problems
// next to their step and field, the JSON editor, save and export.
export const designerPanelJs = String.raw`
const STEP_FIELDS = [
  ["Step", [["name", "Name", "text"], ["task", "Task", "text"]]],
  ["Retries", [["attempts", "Attempts", "int", "3"],
    ["backoff.type", "Backoff", "select", "exponential", ["", "exponential", "fixed"]],
    ["backoff.base", "Backoff base", "interval", "1 second"], ["backoff.max", "Backoff max", "interval", "5 minutes"],
    ["backoff.jitter", "Jitter", "number", "0.2"]]],
  ["Timing", [["timeout", "Timeout", "interval", "none"], ["delay", "Delay", "interval", "none"],
    ["priority", "Priority", "int", "0"]]],
  ["Queue", [["queue.name", "Queue", "text", "none"], ["queue.key", "Queue key (path)", "text", "$.input.id"]]],
  ["Conditions", [["if", "Run if (path)", "text", "$.input.amount > 100"],
    ["compensate", "Compensation task", "text", "none"]]],
  ["Waits (JSON)", [["startAt", "startAt", "json", '{"at": "$.input.when"}'], ["wait", "wait", "json", '{"signal": "approved"}'],
    ["human", "human", "json", '{"assignee": "ann", "title": "…"}'], ["waitFor", "waitFor", "json", ""]]],
];
const WORKFLOW_FIELDS = [["description", "Description", "text", ""], ["onFailure", "On failure (task)", "text", "none"]];

function fieldHtml(key, label, kind, hint, options, value) {
  const wrap = document.createElement("label");
  wrap.className = "field";
  wrap.dataset.field = key;
  const span = document.createElement("span");
  span.textContent = label;
  wrap.appendChild(span);
  let input;
  if (kind === "select") {
    input = document.createElement("select");
    for (const o of options) {
      const opt = document.createElement("option");
      opt.value = o; opt.textContent = o === "" ? "(default: " + hint + ")" : o;
      input.appendChild(opt);
    }
  } else if (kind === "json") {
    input = document.createElement("textarea");
    input.rows = 2;
  } else input = document.createElement("input");
  input.name = key;
  input.dataset.kind = kind;
  if (hint) input.placeholder = hint;
  input.value = value === undefined ? "" : kind === "json" ? JSON.stringify(value) : String(value);
  wrap.appendChild(input);
  const problem = document.createElement("small");
  problem.className = "field-problem error";
  wrap.appendChild(problem);
  return wrap;
}

function renderPanel() {
  const panel = $("panel");
  panel.replaceChildren();
  const h = document.createElement("h2");
  panel.appendChild(h);
  if (selectedEdge) {
    const a = stepAt(selectedEdge.from), b = stepAt(selectedEdge.to);
    h.textContent = "Dependency";
    const p = document.createElement("p");
    p.textContent = (b ? b.name : "?") + " depends on " + (a ? a.name : "?");
    panel.appendChild(p);
    panel.appendChild(button("Remove dependency", "remove-edge", () => disconnect(selectedEdge.from, selectedEdge.to)));
    return;
  }
  const step = selected === null ? null : stepAt(selected);
  if (!step) {
    h.textContent = "Workflow";
    const target = isRecord(spec) ? spec : {};
    for (const [key, label, kind, hint] of WORKFLOW_FIELDS) panel.appendChild(fieldHtml(key, label, kind, hint, null, target[key]));
    panel.dataset.target = "workflow";
    showPanelProblems();
    return;
  }
  h.textContent = "Step " + (step.name || "");
  panel.dataset.target = String(selected);
  const general = document.createElement("p");
  general.className = "step-problems error";
  panel.appendChild(general);
  for (const [legend, fields] of STEP_FIELDS) {
    const set = document.createElement("fieldset");
    const lg = document.createElement("legend");
    lg.textContent = legend;
    set.appendChild(lg);
    for (const [key, label, kind, hint, options] of fields) set.appendChild(fieldHtml(key, label, kind, hint, options, readField(step, key)));
    panel.appendChild(set);
  }
  const deps = document.createElement("fieldset");
  deps.className = "field";
  deps.dataset.field = "dependsOn";
  const lg = document.createElement("legend");
  lg.textContent = "Depends on";
  deps.appendChild(lg);
  for (const d of depsOf(step)) {
    const row = document.createElement("div");
    row.className = "dep";
    row.dataset.dep = d;
    row.append(String(d) + " ");
    const from = indexByName().get(d);
    row.appendChild(button("×", "remove-dep", () => {
      step.dependsOn = depsOf(step).filter((x) => x !== d);
      if (step.dependsOn.length === 0) delete step.dependsOn;
      changed({ panel: true });
    }));
    if (from === undefined) row.classList.add("unknown");
    deps.appendChild(row);
  }
  if (depsOf(step).length === 0) deps.append("none: drag from another step onto this one");
  const problem = document.createElement("small");
  problem.className = "field-problem error";
  deps.appendChild(problem);
  panel.appendChild(deps);
  panel.appendChild(button("Remove step", "remove-step", () => removeStep(selected)));
  showPanelProblems();
}

function button(text, cls, onClick) {
  const b = document.createElement("button");
  b.type = "button"; b.className = cls; b.textContent = text;
  b.addEventListener("click", onClick);
  return b;
}

$("panel").addEventListener("input", (evt) => {
  const input = evt.target;
  if (!input.name) return;
  const target = $("panel").dataset.target;
  const obj = target === "workflow" ? (isRecord(spec) ? spec : (spec = { steps: [] })) : stepAt(Number(target));
  if (!obj) return;
  let value;
  try { value = parseValue(input.dataset.kind, input.value); input.classList.remove("bad-json"); }
  catch (e) { input.classList.add("bad-json"); return; }
  if (target === "workflow") { if (value === undefined) delete obj[input.name]; else obj[input.name] = value; }
  else writeField(obj, input.name, value);
  if (input.name === "name" && target !== "workflow") $("panel").querySelector("h2").textContent = "Step " + (obj.name || "");
  changed({});
});

/** Where a problem's path belongs in the panel: the deepest field it is under. */
function fieldFor(path) {
  const key = path.filter((s) => typeof s === "string").join(".");
  const fields = [...document.querySelectorAll("#panel .field")];
  return fields.find((f) => f.dataset.field === key) ||
    fields.find((f) => key.startsWith(f.dataset.field + ".")) ||
    fields.find((f) => f.dataset.field.startsWith(key + ".") && key !== "");
}

function showPanelProblems() {
  for (const s of document.querySelectorAll("#panel .field-problem, #panel .step-problems")) s.textContent = "";
  const target = $("panel").dataset.target;
  for (const p of check.problems) {
    const forStep = p.path[0] === "steps" && typeof p.path[1] === "number";
    if (target === "workflow" ? forStep : !forStep || String(p.path[1]) !== target) continue;
    const where = fieldFor(forStep ? p.path.slice(2) : p.path);
    const slot = where ? where.querySelector(".field-problem") : document.querySelector("#panel .step-problems");
    if (slot) slot.textContent += (slot.textContent ? " " : "") + p.code + ": " + p.message;
  }
}

function renderProblems() {
  const list = $("problems");
  list.replaceChildren();
  for (const p of check.problems) {
    const li = document.createElement("li");
    li.dataset.code = p.code;
    const code = document.createElement("b");
    code.textContent = p.code + " ";
    li.append(code, p.message);
    if (p.path[0] === "steps" && typeof p.path[1] === "number") {
      li.className = "to-step";
      li.addEventListener("click", () => { selected = p.path[1]; selectedEdge = null; renderGraph(); renderPanel(); });
    }
    list.appendChild(li);
  }
  const n = check.problems.length;
  if (n === 0) {
    const li = document.createElement("li");
    li.className = "none";
    li.textContent = "None: define_workflow would accept this spec" + (wfName() === "" ? " (give the workflow a name to save it)" : "") + ".";
    list.appendChild(li);
  }
  $("check-state").textContent = n === 0 ? "valid" : n + " problem" + (n === 1 ? "" : "s");
  $("check-state").className = n === 0 ? "ok" : "error";
  showPanelProblems();
}

$("spec-json").addEventListener("input", () => {
  clearTimeout(timer);
  timer = setTimeout(() => {
    try {
      spec = JSON.parse($("spec-json").value);
      $("json-error").textContent = "";
    } catch (e) {
      $("json-error").textContent = "JSON: " + e.message;
      $("check-state").textContent = "the JSON does not parse";
      return;
    }
    if (selected !== null && !stepAt(selected)) selected = null;
    selectedEdge = null;
    renderPanel();
    runCheck();
  }, 350);
});
$("wf-name").addEventListener("input", () => scheduleCheck(300));
$("add-step").addEventListener("click", addStep);

$("save").addEventListener("click", async () => {
  const state = $("save-state");
  state.textContent = "saving…";
  const res = await post("/designer/save", { name: wfName(), spec: spec });
  const body = await res.json();
  state.replaceChildren();
  if (res.ok) {
    const a = document.createElement("a");
    a.href = "/workflows";
    a.textContent = "saved " + body.name + " v" + body.version;
    state.appendChild(a);
    state.className = "ok";
  } else {
    state.textContent = body.error + (body.code ? " [" + body.code + "]" : "");
    state.className = "error";
  }
});

async function exportSql() {
  const events = [...document.querySelectorAll(".attach-event:checked")].map((c) => c.value);
  const attach = { table: $("attach-table").value, events: events, when: $("attach-when").value };
  const res = await post("/designer/export", { name: wfName(), spec: spec, attach: attach });
  const body = await res.json();
  $("export-box").hidden = false;
  $("export-sql").value = res.ok ? body.sql : "-- " + body.error;
}
$("export").addEventListener("click", exportSql);
$("export-again").addEventListener("click", exportSql);
$("copy-sql").addEventListener("click", () => {
  $("export-sql").select();
  if (navigator.clipboard) navigator.clipboard.writeText($("export-sql").value).catch(() => {});
});

$("spec-json").value = JSON.stringify(spec, null, 2);
renderPanel();
runCheck();
`;
