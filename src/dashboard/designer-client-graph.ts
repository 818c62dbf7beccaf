// The designer's script, part 2 of 3: the graph. It is drawn from the
// server's layout (dagre; nodes keyed by step index) with the SVG DOM (no
// innerHTML: names are text); a cycle's steps and arrows are drawn red. A
// drag from one step to another connects them; a click selects a step or
// an arrow; Delete removes the selection.
export const designerGraphJs = String.raw`
const SVG = "http://www.w3.org/2000/svg";
const el = (tag, attrs, parent) => {
  const node = document.createElementNS(SVG, tag);
  for (const k in attrs) node.setAttribute(k, attrs[k]);
  if (parent) parent.appendChild(node);
  return node;
};
let drag = null;

/** Indexes of the first step of each name (a dependency names the first). */
function indexByName() {
  const map = new Map();
  steps().forEach((s, i) => { if (isRecord(s) && !map.has(s.name)) map.set(s.name, i); });
  return map;
}

function problemsByStep() {
  const map = new Map();
  for (const p of check.problems) if (p.path[0] === "steps" && typeof p.path[1] === "number") {
    if (!map.has(p.path[1])) map.set(p.path[1], []);
    map.get(p.path[1]).push(p);
  }
  return map;
}

function cycleParts() {
  const nodes = new Set(), edges = new Set();
  if (!check.cycle) return { nodes: nodes, edges: edges };
  const at = indexByName();
  for (let i = 0; i + 1 < check.cycle.length; i++) {
    const a = at.get(check.cycle[i]), b = at.get(check.cycle[i + 1]);
    nodes.add(a); nodes.add(b); edges.add(a + ">" + b);
  }
  return { nodes: nodes, edges: edges };
}

function renderGraph() {
  const svg = $("designer-svg"), layer = $("designer-layer");
  layer.replaceChildren();
  const lay = check.layout;
  const w = Math.max(lay.width, 420), h = Math.max(lay.height, 140);
  svg.setAttribute("viewBox", "0 0 " + w + " " + h);
  svg.setAttribute("width", w);
  svg.setAttribute("height", h);
  const cyc = cycleParts(), bad = problemsByStep();
  svg.classList.toggle("has-cycle", cyc.nodes.size > 0);
  for (const e of lay.edges) {
    const from = Number(e.from), to = Number(e.to);
    const inCycle = cyc.edges.has(from + ">" + to);
    const isSel = selectedEdge && selectedEdge.from === from && selectedEdge.to === to;
    const g = el("g", { class: "link" + (inCycle ? " cycle" : "") + (isSel ? " selected" : ""),
      "data-from": from, "data-to": to }, layer);
    const d = e.points.map((p, i) => (i === 0 ? "M" : "L") + p.x.toFixed(1) + "," + p.y.toFixed(1)).join(" ");
    el("path", { class: "edge-hit", d: d }, g);
    el("path", { class: "edge" + (inCycle ? " cycle" : ""), d: d,
      "marker-end": inCycle ? "url(#d-arrow-cycle)" : "url(#d-arrow)" }, g);
    const a = stepAt(from), b = stepAt(to);
    el("title", {}, g).textContent = (b ? b.name : "?") + " depends on " + (a ? a.name : "?");
  }
  for (const key of Object.keys(lay.nodes)) {
    const i = Number(key), pos = lay.nodes[key], step = stepAt(i) || {};
    const probs = bad.get(i) || [];
    const cls = ["node"];
    if (i === selected) cls.push("selected");
    if (probs.length > 0) cls.push("problem");
    if (cyc.nodes.has(i)) cls.push("cycle");
    const g = el("g", { class: cls.join(" "), "data-index": i, "data-step": step.name || "",
      transform: "translate(" + (pos.x - NODE_W / 2).toFixed(1) + "," + (pos.y - NODE_H / 2).toFixed(1) + ")" }, layer);
    el("rect", { width: NODE_W, height: NODE_H, rx: 6 }, g);
    el("text", { x: NODE_W / 2, y: 19, class: "name" }, g).textContent = step.name || "(no name)";
    el("text", { x: NODE_W / 2, y: 35, class: "status" }, g).textContent = noteOf(step);
    el("title", {}, g).textContent = [step.name].concat(probs.map((p) => p.code + " " + p.message)).join("\n");
  }
  if (Object.keys(lay.nodes).length === 0) {
    el("text", { x: w / 2, y: h / 2, class: "empty" }, layer).textContent = "No steps yet: press Add step";
  }
}

function noteOf(step) {
  if (step.human !== undefined) return "waits: human";
  if (step.wait !== undefined) return "waits: signal";
  if (step.waitFor !== undefined) return "waits: row";
  return typeof step.task === "string" ? step.task : "";
}

function svgPoint(evt) {
  const svg = $("designer-svg");
  const p = new DOMPoint(evt.clientX, evt.clientY).matrixTransform(svg.getScreenCTM().inverse());
  return p;
}

function nodeAt(evt) {
  const hit = document.elementFromPoint(evt.clientX, evt.clientY);
  return hit && hit.closest ? hit.closest("#designer-svg g.node") : null;
}

$("designer-svg").addEventListener("pointerdown", (evt) => {
  const node = evt.target.closest("g.node"), link = evt.target.closest("g.link");
  if (node) {
    evt.preventDefault();
    drag = { from: Number(node.dataset.index), x: evt.clientX, y: evt.clientY, line: null };
    return;
  }
  selected = null;
  selectedEdge = link ? { from: Number(link.dataset.from), to: Number(link.dataset.to) } : null;
  renderGraph();
  renderPanel();
});

window.addEventListener("pointermove", (evt) => {
  if (!drag) return;
  if (!drag.line && Math.hypot(evt.clientX - drag.x, evt.clientY - drag.y) < 5) return;
  const p = svgPoint(evt);
  if (!drag.line) {
    const pos = check.layout.nodes[String(drag.from)];
    drag.line = el("line", { class: "rubber", x1: pos.x + NODE_W / 2, y1: pos.y }, $("designer-layer"));
  }
  drag.line.setAttribute("x2", p.x);
  drag.line.setAttribute("y2", p.y);
  for (const n of document.querySelectorAll("#designer-svg g.node.target")) n.classList.remove("target");
  const over = nodeAt(evt);
  if (over && Number(over.dataset.index) !== drag.from) over.classList.add("target");
});

window.addEventListener("pointerup", (evt) => {
  if (!drag) return;
  const d = drag;
  drag = null;
  if (!d.line) {
    selected = d.from;
    selectedEdge = null;
    renderGraph();
    renderPanel();
    return;
  }
  d.line.remove();
  const over = nodeAt(evt);
  if (over) connect(d.from, Number(over.dataset.index));
  else renderGraph();
});

document.addEventListener("keydown", (evt) => {
  if (evt.key !== "Delete" && evt.key !== "Backspace") return;
  const tag = document.activeElement ? document.activeElement.tagName : "";
  if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT") return;
  if (selectedEdge) disconnect(selectedEdge.from, selectedEdge.to);
  else if (selected !== null) removeStep(selected);
});
`;
