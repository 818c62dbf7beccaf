// The designer's script, part 1 of 3 (designer-assets.ts joins them in one
// function scope): the state (the spec being edited, the selection, the
// server's last check), the edits of the spec, and the POSTs. Plain browser
// JavaScript in a string: no bundler, no template literals inside.
export const designerModelJs = String.raw`
const $ = (id) => document.getElementById(id);
const csrf = document.querySelector('meta[name="csrf-token"]').content;
const initial = JSON.parse($("designer-initial").textContent);
const NODE_W = 150, NODE_H = 46;
let spec = initial.spec;
let selected = null; // index of the selected step
let selectedEdge = null; // { from, to }: step indexes, "to" depends on "from"
let check = { ok: false, problems: [], cycle: null, layout: { width: 0, height: 0, nodes: {}, edges: [] } };
let seq = 0, shown = 0, timer = null;

const isRecord = (v) => typeof v === "object" && v !== null && !Array.isArray(v);
const steps = () => (isRecord(spec) && Array.isArray(spec.steps) ? spec.steps : []);
const stepAt = (i) => (isRecord(steps()[i]) ? steps()[i] : null);
const depsOf = (step) => (Array.isArray(step.dependsOn) ? step.dependsOn : []);
const wfName = () => $("wf-name").value.trim();

function ensureSteps() {
  if (!isRecord(spec)) spec = { steps: [] };
  if (!Array.isArray(spec.steps)) spec.steps = [];
  return spec.steps;
}

function post(path, body) {
  return fetch(path, {
    method: "POST",
    headers: { "content-type": "application/json", "x-csrf-token": csrf },
    body: JSON.stringify(body),
  });
}

// Every edit asks the server (the engine's validateSpec and dagre) once it
// settles; answers that come back out of order are dropped.
function scheduleCheck(delay) {
  clearTimeout(timer);
  $("check-state").textContent = "checking…";
  timer = setTimeout(runCheck, delay);
}
async function runCheck() {
  const mine = ++seq;
  try {
    const res = await post("/designer/check", { name: wfName(), spec });
    const body = await res.json();
    if (mine < shown) return;
    shown = mine;
    if (!res.ok) { $("check-state").textContent = body.error || "check failed"; return; }
    check = body;
    renderGraph();
    renderProblems();
    document.body.dataset.checked = String(mine);
  } catch (e) {
    $("check-state").textContent = "check failed: " + e.message;
  }
}

// An edit of the graph or the panel: the JSON follows; the panel is drawn
// again only when asked (not while one of its fields is being typed in).
function changed(opts) {
  opts = opts || {};
  if (!opts.fromJson) $("spec-json").value = JSON.stringify(spec, null, 2);
  if (opts.panel) renderPanel();
  scheduleCheck(opts.fromJson ? 350 : 60);
}

function freshName() {
  const names = new Set(steps().map((s) => (isRecord(s) ? s.name : null)));
  let n = steps().length + 1;
  while (names.has("step" + n)) n++;
  return "step" + n;
}

function addStep() {
  const name = freshName();
  ensureSteps().push({ name: name, task: name });
  selected = steps().length - 1;
  selectedEdge = null;
  changed({ panel: true });
}

function removeStep(i) {
  const step = stepAt(i);
  steps().splice(i, 1);
  if (step && typeof step.name === "string") {
    const others = steps().some((s) => isRecord(s) && s.name === step.name);
    if (!others) for (const s of steps()) if (isRecord(s) && Array.isArray(s.dependsOn)) {
      s.dependsOn = s.dependsOn.filter((d) => d !== step.name);
      if (s.dependsOn.length === 0) delete s.dependsOn;
    }
  }
  selected = null;
  selectedEdge = null;
  changed({ panel: true });
}

/** Makes step "to" depend on step "from". */
function connect(from, to) {
  const a = stepAt(from), b = stepAt(to);
  if (!a || !b || from === to) return;
  const deps = depsOf(b).slice();
  if (!deps.includes(a.name)) deps.push(a.name);
  b.dependsOn = deps;
  selectedEdge = null;
  selected = to;
  changed({ panel: true });
}

function disconnect(from, to) {
  const a = stepAt(from), b = stepAt(to);
  if (!a || !b) return;
  b.dependsOn = depsOf(b).filter((d) => d !== a.name);
  if (b.dependsOn.length === 0) delete b.dependsOn;
  selectedEdge = null;
  changed({ panel: true });
}

function readField(step, key) {
  if (key.startsWith("queue.")) {
    const q = step.queue;
    if (key === "queue.name") return typeof q === "string" ? q : isRecord(q) ? q.name : undefined;
    return isRecord(q) ? q.key : undefined;
  }
  const [head, tail] = key.split(".");
  const v = tail === undefined ? step[head] : isRecord(step[head]) ? step[head][tail] : undefined;
  return v;
}

// A field's text as the spec value: numbers where the spec takes numbers
// (anything else is kept as typed, for the schema to name the mistake).
function parseValue(kind, text) {
  if (text === "") return undefined;
  if (kind === "int" && /^-?\d+$/.test(text)) return Number(text);
  if (kind === "number" && text.trim() !== "" && Number.isFinite(Number(text))) return Number(text);
  if (kind === "interval" && /^\d+$/.test(text)) return Number(text);
  if (kind === "json") return JSON.parse(text);
  return text;
}

function writeField(step, key, value) {
  const put = (obj, k, v) => { if (v === undefined) delete obj[k]; else obj[k] = v; };
  if (key === "name") return rename(step, value);
  if (key.startsWith("queue.")) {
    const name = key === "queue.name" ? value : readField(step, "queue.name");
    const qkey = key === "queue.key" ? value : readField(step, "queue.key");
    put(step, "queue", qkey === undefined ? name : { name: name, key: qkey });
    return;
  }
  const [head, tail] = key.split(".");
  if (tail === undefined) return put(step, head, value);
  const obj = isRecord(step[head]) ? step[head] : {};
  put(obj, tail, value);
  put(step, head, Object.keys(obj).length === 0 ? undefined : obj);
}

/** A new name; the dependencies on the old one follow it. */
function rename(step, value) {
  const old = step.name;
  step.name = value === undefined ? "" : String(value);
  if (typeof old !== "string" || old === "") return;
  if (steps().some((s) => isRecord(s) && s !== step && s.name === old)) return;
  for (const s of steps()) if (isRecord(s) && Array.isArray(s.dependsOn)) {
    s.dependsOn = s.dependsOn.map((d) => (d === old ? step.name : d));
  }
}
`;
