"""The page runnel-inspect --html writes: one self-contained file (no network) that draws
the graph in SVG. Name scopes start folded (unless the graph is small) and open on click;
clicking a node shows its op, inputs, output shapes and attributes; the search box finds
nodes by name or op and opens the scopes around them. __DATA__ is the summary's JSON."""

TEMPLATE = r"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>__TITLE__ - runnel-inspect</title>
<style>
  body { margin: 0; font: 13px/1.4 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif;
         display: flex; height: 100vh; color: #222; }
  #side { width: 320px; padding: 10px 14px; overflow: auto; border-right: 1px solid #ccc;
          background: #fafafa; flex: none; }
  #canvas { flex: 1; overflow: auto; }
  h1 { font-size: 15px; margin: 4px 0 8px; word-break: break-all; }
  h2 { font-size: 13px; margin: 12px 0 4px; }
  input { width: 100%; box-sizing: border-box; padding: 4px; }
  table { border-collapse: collapse; width: 100%; }
  td { padding: 1px 4px; vertical-align: top; word-break: break-all; }
  .muted { color: #777; }
  g.node rect { fill: #fff; stroke: #4a6fa5; rx: 4; }
  g.node.const rect { fill: #f0f0f0; stroke: #aaa; }
  g.node.unknown rect { stroke: #c00; stroke-width: 2; }
  g.scope rect { fill: #e3ecf7; stroke: #4a6fa5; stroke-dasharray: 4 2; rx: 8; }
  g.hit rect { fill: #ffe28a; }
  g.selected rect { stroke: #e07000; stroke-width: 2.5; }
  g { cursor: pointer; }
  text { font-size: 11px; pointer-events: none; }
  path.edge { fill: none; stroke: #999; }
  path.edge.control { stroke-dasharray: 3 3; }
</style>
</head>
<body>
<div id="side">
  <h1 id="title"></h1>
  <div id="stats" class="muted"></div>
  <h2>Search</h2>
  <input id="search" placeholder="node name or op, then Enter">
  <div id="found" class="muted"></div>
  <h2>Details</h2>
  <div id="details" class="muted">Click a node; click a scope (dashed) to open it.</div>
</div>
<div id="canvas"><svg id="svg" xmlns="http://www.w3.org/2000/svg"></svg></div>
<script>
"use strict";
const DATA = __DATA__;
const NODES = DATA.nodes;
const BY_NAME = new Map(NODES.map(n => [n.name, n]));
const W = 170, H = 34, GAP_X = 24, GAP_Y = 46;
const expanded = new Set();
let selected = null, hits = new Set();

function scopesOf(name) {
  const parts = name.split("/"), out = [];
  for (let k = 1; k < parts.length; k++) out.push(parts.slice(0, k).join("/"));
  return out;
}
const scopeSize = new Map();
for (const n of NODES) for (const s of scopesOf(n.name)) scopeSize.set(s, (scopeSize.get(s) || 0) + 1);
if (NODES.length <= 60) for (const s of scopeSize.keys()) expanded.add(s);

// The box a node is drawn in: its outermost folded scope, or itself.
function unitOf(n) {
  for (const s of scopesOf(n.name)) {
    if (!expanded.has(s) && scopeSize.get(s) > 1) return "scope:" + s;
  }
  return "node:" + n.name;
}
function sourceOf(input) {
  const name = input.startsWith("^") ? input.slice(1) : input.replace(/:\d+$/, "");
  return BY_NAME.get(name);
}
function fmtShape(s) { return s ? "[" + s.map(d => d === null ? "?" : d).join(",") + "]" : "?"; }

function layout() {
  const units = new Map();  // id -> {id, nodes, preds:Set, layer, x, y}
  for (const n of NODES) {
    const id = unitOf(n);
    if (!units.has(id)) units.set(id, {id, nodes: [], preds: new Set(), control: new Set()});
    units.get(id).nodes.push(n);
  }
  for (const n of NODES) {
    const dst = unitOf(n);
    for (const i of n.inputs) {
      const src = sourceOf(i);
      if (!src) continue;
      const s = unitOf(src);
      if (s === dst) continue;
      units.get(dst).preds.add(s);
      if (i.startsWith("^")) units.get(dst).control.add(s);
    }
  }
  // Longest-path layers (GraphDefs are acyclic; the cap guards against loops).
  const layer = new Map();
  const visit = (id, depth) => {
    if (layer.has(id)) return layer.get(id);
    if (depth > 5000) return 0;
    layer.set(id, 0);
    let l = 0;
    for (const p of units.get(id).preds) l = Math.max(l, visit(p, depth + 1) + 1);
    layer.set(id, l);
    return l;
  };
  for (const id of units.keys()) visit(id, 0);
  // Then every box moves down to just above its first reader (constants and their reads
  // next to where they are used, not all at the top).
  const readers = new Map();
  for (const u of units.values()) {
    for (const p of u.preds) (readers.get(p) || readers.set(p, []).get(p)).push(u.id);
  }
  const byLayer = [...units.keys()].sort((a, b) => layer.get(b) - layer.get(a));
  for (const id of byLayer) {
    const r = readers.get(id);
    if (r) layer.set(id, Math.min(...r.map(x => layer.get(x))) - 1);
  }
  const rows = [];
  for (const [id, l] of layer) (rows[l] = rows[l] || []).push(units.get(id));
  const pos = new Map();
  rows.forEach((row, l) => {
    row.forEach(u => {
      const xs = [...u.preds].map(p => pos.get(p)).filter(x => x !== undefined);
      u.order = xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0;
    });
    row.sort((a, b) => a.order - b.order);
    row.forEach((u, k) => { u.x = 10 + k * (W + GAP_X); u.y = 10 + l * (H + GAP_Y); pos.set(u.id, k); });
  });
  return units;
}

function el(tag, attrs, parent) {
  const e = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const k in attrs) e.setAttribute(k, attrs[k]);
  if (parent) parent.appendChild(e);
  return e;
}

function label(u) {
  if (u.id.startsWith("scope:")) {
    const s = u.id.slice(6);
    return [s.split("/").pop() + "/", u.nodes.length + " nodes"];
  }
  const n = u.nodes[0];
  return [n.name.split("/").pop(), n.op + " " + (n.shapes.length ? fmtShape(n.shapes[0]) : "")];
}

function render() {
  const svg = document.getElementById("svg");
  svg.textContent = "";
  const units = layout();
  let maxX = 0, maxY = 0;
  for (const u of units.values()) { maxX = Math.max(maxX, u.x + W); maxY = Math.max(maxY, u.y + H); }
  svg.setAttribute("width", maxX + 20);
  svg.setAttribute("height", maxY + 20);
  const edges = el("g", {}, svg);
  for (const u of units.values()) {
    for (const p of u.preds) {
      const a = units.get(p);
      const x1 = a.x + W / 2, y1 = a.y + H, x2 = u.x + W / 2, y2 = u.y;
      el("path", {d: `M${x1},${y1} C${x1},${y1 + 25} ${x2},${y2 - 25} ${x2},${y2}`,
                  class: "edge" + (u.control.has(p) ? " control" : "")}, edges);
    }
  }
  let count = 0;
  for (const u of units.values()) {
    const scope = u.id.startsWith("scope:");
    const n = u.nodes[0];
    let cls = scope ? "scope" : "node";
    if (!scope && n.op === "Const") cls += " const";
    if (!scope && !n.known_op) cls += " unknown";
    if (u.nodes.some(m => hits.has(m.name))) cls += " hit";
    if (!scope && selected === n.name) cls += " selected";
    const g = el("g", {class: cls, "data-name": scope ? u.id.slice(6) : n.name,
                       transform: `translate(${u.x},${u.y})`}, svg);
    el("rect", {width: W, height: H}, g);
    const [a, b] = label(u);
    el("text", {x: 6, y: 14}, g).textContent = a.length > 26 ? a.slice(0, 25) + "…" : a;
    el("text", {x: 6, y: 28, fill: "#666"}, g).textContent = b.length > 28 ? b.slice(0, 27) + "…" : b;
    el("title", {}, g).textContent = scope ? u.id.slice(6) : n.name;
    g.addEventListener("click", () => scope ? toggle(u.id.slice(6)) : show(n));
    count++;
  }
  document.body.dataset.rendered = count;
}

function toggle(scope) {
  if (expanded.has(scope)) {
    for (const s of [...expanded]) if (s === scope || s.startsWith(scope + "/")) expanded.delete(s);
  } else {
    expanded.add(scope);
  }
  render();
}

function show(n) {
  selected = n.name;
  const rows = [["name", n.name], ["op", n.op + (n.known_op ? "" : " (unknown to Runnel)")],
                ["device", n.device || "-"],
                ["inputs", n.inputs.join("\n") || "-"],
                ["outputs", n.dtypes.map((t, i) => `${i}: ${t} ${fmtShape(n.shapes[i])}`).join("\n") || "-"]];
  for (const k in n.attrs) rows.push([k, n.attrs[k]]);
  const table = document.createElement("table");
  for (const [k, v] of rows) {
    const tr = table.insertRow();
    tr.insertCell().textContent = k;
    const cell = tr.insertCell();
    cell.style.whiteSpace = "pre-wrap";
    cell.textContent = v;
  }
  const details = document.getElementById("details");
  details.textContent = "";
  details.classList.remove("muted");
  details.appendChild(table);
  render();
}

function search(q) {
  q = q.trim().toLowerCase();
  hits = new Set(q ? NODES.filter(n => n.name.toLowerCase().includes(q) ||
                                       n.op.toLowerCase() === q).map(n => n.name) : []);
  for (const name of hits) for (const s of scopesOf(name)) expanded.add(s);
  document.getElementById("found").textContent = q ? hits.size + " found" : "";
  render();
  const first = document.querySelector("g.hit");
  if (first) first.scrollIntoView({block: "center", inline: "center"});
}

document.getElementById("title").textContent = DATA.file;
document.getElementById("stats").textContent =
  `${DATA.node_count} nodes, ${Object.keys(DATA.op_histogram).length} op types, ` +
  `${DATA.parameters.count.toLocaleString()} parameters` +
  (DATA.unknown_ops.length ? `, unknown ops: ${DATA.unknown_ops.join(", ")}` : "");
document.getElementById("search").addEventListener("keydown", e => {
  if (e.key === "Enter") search(e.target.value);
});
render();
</script>
</body>
</html>
"""
