// A workflow version's DAG as SVG, laid out on the server by dagre
// (@dagrejs/dagre: layered Sugiyama layout, no DOM needed), so the page
// needs no layout code. Each node carries data-step and data-status; the
// page's script recolours nodes by data-status when a step changes (live).
import dagre, { type Edge, type Point } from "@dagrejs/dagre";

import { type Html, html, raw } from "./html.js";

export interface DagNode {
  name: string;
  dependsOn: readonly string[];
  /** Step status in a run; undefined on the Workflows page. */
  status?: string | undefined;
  /** Shown under the name (the task, or "waits: human"). */
  note?: string | undefined;
}

const width = 150;
const height = 46;

export function dagSvg(nodes: readonly DagNode[], id = "dag"): Html {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: "LR", nodesep: 24, ranksep: 48, marginx: 8, marginy: 8 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of nodes) g.setNode(n.name, { width, height });
  for (const n of nodes) for (const d of n.dependsOn) if (g.hasNode(d)) g.setEdge(d, n.name);
  dagre.layout(g);
  const graph = g.graph();
  const w = Math.ceil(graph.width ?? width);
  const h = Math.ceil(graph.height ?? height);
  const edges = g.edges().map((e: Edge) => {
    const points: Point[] = (g.edge(e) as { points?: Point[] }).points ?? [];
    const d = points.map(
      (p: Point, i: number) => `${i === 0 ? "M" : "L"}${p.x.toFixed(1)},${p.y.toFixed(1)}`,
    );
    return html`<path class="edge" d="${d.join(" ")}" marker-end="url(#${id}-arrow)" />`;
  });
  const boxes = nodes.map((n) => {
    const { x, y } = g.node(n.name);
    const status = n.status ?? "none";
    return html`<g
      class="node"
      data-step="${n.name}"
      data-status="${status}"
      transform="translate(${(x - width / 2).toFixed(1)},${(y - height / 2).toFixed(1)})"
    >
      <rect width="${width}" height="${height}" rx="6" />
      <text x="${width / 2}" y="19" class="name">${n.name}</text>
      <text x="${width / 2}" y="35" class="status">${n.status ?? n.note ?? ""}</text>
      <title>${n.name}${n.status ? `: ${n.status}` : ""}</title></g
    >`;
  });
  return html`<svg
    class="dag"
    id="${id}"
    viewBox="0 0 ${w} ${h}"
    width="${w}"
    height="${h}"
    role="img"
    aria-label="workflow DAG"
  >
    <defs>
      <marker
        id="${id}-arrow"
        viewBox="0 0 10 10"
        refX="10"
        refY="5"
        markerWidth="7"
        markerHeight="7"
        orient="auto-start-reverse"
      >
        <path d="M0,0 L10,5 L0,10 z" />
      </marker>
    </defs>
    ${edges}${boxes}${raw("")}
  </svg>`;
}
