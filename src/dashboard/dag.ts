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

export const nodeWidth = 150;
export const nodeHeight = 46;
const width = nodeWidth;
const height = nodeHeight;

/** A laid-out graph: node centres and edge polylines (dagre's answer). */
export interface DagLayout {
  width: number;
  height: number;
  nodes: Record<string, { x: number; y: number }>;
  edges: { from: string; to: string; points: Point[] }[];
}

/**
 * Lays nodes out left to right with dagre. `dependsOn` names other nodes'
 * ids; unknown ones are left out. A cycle is laid out too (dagre reverses
 * one of its edges to rank the nodes), so the designer can show it.
 */
export function layoutDag(
  nodes: readonly { id: string; dependsOn: readonly string[] }[],
): DagLayout {
  const g = new dagre.graphlib.Graph({ multigraph: false });
  g.setGraph({ rankdir: "LR", nodesep: 24, ranksep: 48, marginx: 8, marginy: 8 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of nodes) g.setNode(n.id, { width, height });
  for (const n of nodes)
    for (const d of n.dependsOn) if (d !== n.id && g.hasNode(d)) g.setEdge(d, n.id);
  dagre.layout(g);
  const graph = g.graph();
  const placed: DagLayout["nodes"] = {};
  for (const id of g.nodes()) {
    const { x, y } = g.node(id);
    placed[id] = { x, y };
  }
  return {
    width: Math.ceil(graph.width ?? width),
    height: Math.ceil(graph.height ?? height),
    nodes: placed,
    edges: g.edges().map((e: Edge) => ({
      from: e.v,
      to: e.w,
      points: (g.edge(e) as { points?: Point[] }).points ?? [],
    })),
  };
}

export function dagSvg(nodes: readonly DagNode[], id = "dag"): Html {
  const laid = layoutDag(nodes.map((n) => ({ id: n.name, dependsOn: n.dependsOn })));
  const w = laid.width;
  const h = laid.height;
  const edges = laid.edges.map(({ points }) => {
    const d = points.map(
      (p: Point, i: number) => `${i === 0 ? "M" : "L"}${p.x.toFixed(1)},${p.y.toFixed(1)}`,
    );
    return html`<path class="edge" d="${d.join(" ")}" marker-end="url(#${id}-arrow)" />`;
  });
  const boxes = nodes.map((n) => {
    const { x, y } = laid.nodes[n.name]!;
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
