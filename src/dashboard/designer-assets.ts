// The designer's stylesheet and script (/assets/designer.css, .js), served
// from memory like assets.ts: the script's three parts share one function
// scope (model, graph, panel: designer-client-*.ts).
import { designerGraphJs } from "./designer-client-graph.js";
import { designerModelJs } from "./designer-client-model.js";
import { designerPanelJs } from "./designer-client-panel.js";

export const designerJs = `(() => {
"use strict";
${designerModelJs}
${designerGraphJs}
${designerPanelJs}
})();`;

export const designerCss = `
.designer-bar{display:flex;gap:.8em;align-items:center;flex-wrap:wrap;margin-bottom:.8em}
.designer-bar .ok,.ok{color:#2f8f4e;font-weight:600}
.designer{display:grid;grid-template-columns:minmax(0,1fr) 300px 360px;gap:1em;align-items:start}
.designer .dag-box{min-height:160px}
.designer-graph{user-select:none;touch-action:none;max-width:100%;height:auto}.designer-graph g.node{cursor:grab}
.designer-graph g.node.selected rect{stroke:#2d62c4;stroke-width:3}
.designer-graph g.node.target rect{stroke:#2d62c4;stroke-width:3;fill:#e4edfc}
.designer-graph g.node.problem rect{stroke:#a3262a;stroke-dasharray:5 3}
.designer-graph g.node.cycle rect{fill:#f6c9c9;stroke:#a3262a;stroke-width:2.5;stroke-dasharray:none}
.designer-graph .edge.cycle{stroke:#a3262a;stroke-width:3}.designer-graph .cycle-head{fill:#a3262a}
.designer-graph g.link{cursor:pointer}.designer-graph g.link.selected .edge{stroke:#2d62c4;stroke-width:3}
.designer-graph .edge-hit{fill:none;stroke:transparent;stroke-width:14}
.designer-graph .rubber{stroke:#2d62c4;stroke-width:2;stroke-dasharray:6 4;pointer-events:none}
.designer-graph .empty{text-anchor:middle;fill:#7a8291}
.designer .hint{font-size:12px;margin:.4em 0}
#problems{padding-left:1.2em;margin:.3em 0}#problems li{margin:.2em 0;color:#a3262a}#problems li.to-step{cursor:pointer}#problems li.none{color:#2f8f4e;list-style:none;margin-left:-1.2em}
.panel{background:#fff;border:1px solid #e3e6eb;padding:.2em .8em .8em;max-height:calc(100vh - 190px);min-height:300px;overflow-y:auto;box-sizing:border-box}.panel h2{margin:.5em 0}
.panel fieldset{border:1px solid #e3e6eb;margin:.5em 0;padding:.3em .6em}.panel legend{font-size:12px;color:#4b5363}
.panel .field{display:block;margin:.3em 0}.panel .field>span{display:block;font-size:12px;color:#4b5363}
.panel input,.panel select,.panel textarea{width:100%;box-sizing:border-box;font:12px monospace;padding:.2em}
.panel .bad-json{outline:2px solid #a3262a}.panel .field-problem{display:block}
.panel .dep{display:flex;justify-content:space-between;align-items:center;font-family:monospace}
.panel .dep.unknown{color:#a3262a}.panel .dep button{padding:0 .5em}
.json textarea{width:100%;box-sizing:border-box;height:calc(100vh - 220px);min-height:300px;font:12px/1.35 monospace}
#export-box textarea{width:100%;height:180px;font:12px monospace}#export-box .attach label{margin-right:.6em}
`;
