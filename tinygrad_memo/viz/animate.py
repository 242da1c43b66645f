"""Watch backprop run: one HTML file that replays the memo loop on the gradient-flow picture.

Why: the picture of a finished backward shows the result; this shows the algorithm. The frames
are recorded from the engine's own backward (`engine.backprop` with an observer), so what you
see is what ran: nodes taken in reverse topological order, each edge lit as its local
derivative is added into the memo, each node turning *final* once every path into it is
summed, a live memo table, and two counters side by side: local derivatives evaluated so far
by memoized backprop, and what the naive path-by-path chain rule (`memo.path_grad`) needs for
the leaves finished so far. The file is self-contained (inline SVG, CSS and script; no
network) and opens from disk.
"""
from __future__ import annotations

import html
import json
import os
from typing import Any

import numpy as np

from .. import memo
from ..core import engine
from ..core.engine import Node

#: Backprop of more values than this is too long to watch step by step.
DEFAULT_MAX_NODES = 60


class _Recorder:
    """The observer `engine.backprop` calls: turns each event into one frame."""

    def __init__(self, index: dict[Node, int], naive: dict[Node, int]) -> None:
        self.index, self.naive = index, naive
        self.frames: list[dict[str, Any]] = []

    def final(self, node: Node, g: Any) -> None:
        self.frames.append({"kind": "final", "node": self.index[node], "grad": _text(g),
                            "naive": self.naive.get(node, 0)})

    def edge(self, node: Node, i: int, inputs: tuple, local: Any, total: Any) -> None:
        self.frames.append({"kind": "edge", "node": self.index[node], "input": i,
                            "parent": self.index[inputs[i]], "local": _text(local),
                            "total": _text(total)})


def _text(g: Any) -> str:
    from .style import fmt, size_of
    if isinstance(g, Node):
        g = g.data
    if isinstance(g, np.ndarray) and g.size != 1:
        return f"norm {fmt(size_of(g))}"
    return fmt(float(np.asarray(g).reshape(())))


def _naive_costs(root: Node, leaves: list[Node]) -> tuple[dict[Node, int], int | None]:
    """Local-derivative evaluations the path-by-path chain rule spends on each leaf, from
    `memo.path_grad`; None when there are too many paths to walk (then only paths counted)."""
    try:
        costs = {leaf: memo.path_grad(root, [leaf])[1] for leaf in leaves}
    except memo.TooManyPathsError:
        return {}, None
    return costs, sum(costs.values())


def animate(root: Node, path: str | os.PathLike, *, rankdir: str = "LR",
            max_nodes: int = DEFAULT_MAX_NODES, title: str | None = None) -> str:
    """Write an HTML page replaying backprop from ``root`` (a one-element Value or Tensor)
    on its gradient-flow picture; return the path. Play/pause, step, slider, arrow keys.

    Raises `GraphTooLargeError` past ``max_nodes`` values (a replay of thousands of steps
    is unwatchable). The graph is kept (backprop here runs with ``retain_graph=True``) and
    no ``.grad`` is touched.
    """
    from .flow import _Flow, _requires_grad
    from .picture import _check_writable, to_dot
    if not isinstance(root, Node):
        raise TypeError(f"animate: root is {type(root).__name__}, expected a Value or Tensor")
    if getattr(root, "size", 1) != 1:
        raise ValueError(f"animate: root has shape {tuple(root.shape)}; backprop starts from one "
                         f"number, so pass a scalar (e.g. root.sum())")
    path_str = os.fspath(path)
    _check_writable(path_str)
    graph = to_dot(root, rankdir, max_nodes=max_nodes, legend=False)
    svg = graph.svg()
    flow = _Flow(root, None, True, limit=max_nodes)
    leaves = [n for n in flow.nodes if n._fn is None and _requires_grad(n)]
    naive, naive_total = _naive_costs(root, leaves)
    recorder = _Recorder(flow.index, naive)
    stats: dict[str, int] = {}
    engine.backprop(root, root._seed(None, False), accumulate=False, retain_graph=True,
                    stats=stats, observer=recorder)
    names = [_name(flow, n) for n in flow.nodes]
    data = {"frames": recorder.frames, "names": names,
            "ops": [n._fn is not None for n in flow.nodes],
            "memoTotal": stats["evaluations"], "naiveTotal": naive_total,
            "paths": memo.count_paths(root, leaves) if leaves else 0}
    page = _PAGE.replace("__TITLE__", html.escape(title or "backprop as memoization"))
    page = page.replace("__SVG__", svg[svg.index("<svg"):])
    page = page.replace("__DATA__", json.dumps(data).replace("</", "<\\/"))
    with open(path_str, "w", encoding="utf-8") as fh:
        fh.write(page)
    return path_str


def _name(flow: Any, node: Node) -> str:
    """How the memo table calls a value: its label, else its op and number."""
    if node.label not in (None, ""):
        return str(node.label)
    i = flow.index[node]
    return f"#{i} ({node._fn.name})" if node._fn is not None else f"#{i}"


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>__TITLE__</title>
<style>
body { font-family: "DejaVu Sans", Arial, Helvetica, sans-serif; margin: 16px; color: #222; }
h1 { font-size: 18px; margin: 0 0 8px; }
#bar { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; margin: 8px 0; }
#bar button { font-size: 14px; min-width: 44px; }
#step { width: 320px; }
#counters { display: flex; gap: 16px; margin: 8px 0; }
.counter { border: 2px solid #999; border-radius: 6px; padding: 6px 12px; min-width: 260px; }
.counter b { font-size: 22px; display: block; }
#memoCount { border-color: #31a354; } #naiveCount { border-color: #d62728; }
#caption { min-height: 1.4em; margin: 6px 0; font-size: 15px; }
#main { display: flex; gap: 16px; align-items: flex-start; flex-wrap: wrap; }
#picture { overflow: auto; max-width: 100%; border: 1px solid #ddd; }
#memo { border-collapse: collapse; font-size: 13px; }
#memo td, #memo th { border: 1px solid #ccc; padding: 2px 8px; text-align: left; }
#memo tr.final td { background: #e5f5e0; }
#memo tr.partial td { background: #fff3cd; }
#memo tr.now td { outline: 2px solid #d62728; }
svg g.node, svg g.edge { opacity: 0.25; transition: opacity 0.2s; }
svg g.partial { opacity: 0.7; }
svg g.final, svg g.lit { opacity: 1; }
svg g.now { filter: drop-shadow(0 0 4px #d62728); opacity: 1; }
svg .hidden { visibility: hidden; }
</style></head><body>
<h1>__TITLE__</h1>
<div id="bar">
<button id="first" title="first step (Home)">|&#x25C0;</button>
<button id="back" title="step back (Left arrow)">&#x25C0;</button>
<button id="play" title="play / pause (Space)">&#x25B6;</button>
<button id="fwd" title="step forward (Right arrow)">&#x25B6;&#x25B6;</button>
<button id="last" title="last step (End)">&#x25B6;|</button>
<input id="step" type="range" min="0" value="0">
<span id="where"></span>
</div>
<div id="counters">
<div class="counter" id="memoCount">memoized backprop: local derivatives evaluated<b id="memoN">0</b></div>
<div class="counter" id="naiveCount">naive chain rule, path by path, for the leaves done so far
<b id="naiveN">0</b></div>
</div>
<div id="caption"></div>
<div id="main">
<div id="picture">__SVG__</div>
<table id="memo"><thead><tr><th>memo: node</th><th>gradient so far</th><th></th></tr></thead>
<tbody></tbody></table>
</div>
<script>
"use strict";
const D = __DATA__;
const F = D.frames, N = D.names.length;
const svg = document.querySelector("#picture svg");
const el = id => svg.querySelector("#" + id);
const slider = document.getElementById("step");
slider.max = F.length;
// A value's gradient texts (from its first "grad" line on) and every edge number stay hidden
// until backprop has computed them.
const gradTexts = [];
for (let i = 0; i < N; i++) {
  const texts = [...(el("v" + i) || svg).querySelectorAll("text")];
  const k = texts.findIndex(t => t.textContent.trim().startsWith("grad"));
  gradTexts.push(k < 0 ? [] : texts.slice(k));
}
const edgeOf = f => f.kind === "edge" ? "e" + f.node + "_" + f.input : null;
function state(step) {
  const s = {memo: new Map(), final: new Set(), lit: new Set(), evals: 0, naive: 0};
  for (const f of F.slice(0, step)) {
    if (f.kind === "final") { s.final.add(f.node); s.memo.set(f.node, f.grad); s.naive += f.naive; }
    else { s.lit.add(edgeOf(f)); s.memo.set(f.parent, f.total); s.evals += 1; }
  }
  return s;
}
function caption(f) {
  if (!f) return "Press \\u25B6 or the right arrow: backprop starts at the output, whose gradient is 1.";
  if (f.kind === "final") return "final: " + D.names[f.node] + " = " + f.grad +
    " \\u2014 every path into it is summed, so it is passed on to its inputs once";
  return "local derivative along " + D.names[f.node] + " \\u2192 " + D.names[f.parent] + ": " +
    f.local + "; memo[" + D.names[f.parent] + "] = " + f.total;
}
let step = 0, timer = null;
function show(n) {
  step = Math.max(0, Math.min(F.length, n));
  const s = state(step), f = F[step - 1];
  for (let i = 0; i < N; i++) {
    const cls = s.final.has(i) ? "final" : s.memo.has(i) ? "partial" : "";
    for (const id of ["v" + i, "op" + i, "o" + i]) {
      const g = el(id);
      if (g) { g.classList.remove("final", "partial", "now"); if (cls) g.classList.add(cls); }
    }
    for (const t of gradTexts[i]) t.classList.toggle("hidden", !s.final.has(i));
  }
  for (const g of svg.querySelectorAll("g.edge")) {
    g.classList.remove("now");
    const on = s.lit.has(g.id);
    g.classList.toggle("lit", on);
    for (const t of g.querySelectorAll("text")) t.classList.toggle("hidden", !on);
  }
  if (f) {
    const now = f.kind === "final" ? el("v" + f.node) : el(edgeOf(f));
    if (now) now.classList.add("now");
  }
  const body = document.querySelector("#memo tbody");
  body.innerHTML = "";
  for (const [i, g] of s.memo) {
    const tr = document.createElement("tr");
    tr.className = (s.final.has(i) ? "final" : "partial") +
      (f && (f.node === i && f.kind === "final" || f.parent === i) ? " now" : "");
    for (const text of [D.names[i], g, s.final.has(i) ? "final" : "partial sum"]) {
      const td = document.createElement("td"); td.textContent = text; tr.appendChild(td);
    }
    body.appendChild(tr);
  }
  document.getElementById("memoN").textContent = s.evals + " of " + D.memoTotal;
  document.getElementById("naiveN").textContent = D.naiveTotal === null
    ? "over " + D.paths + " paths: too many to walk"
    : s.naive + " of " + D.naiveTotal + " (" + D.paths + " paths)";
  document.getElementById("caption").textContent = caption(f);
  document.getElementById("where").textContent = "step " + step + " of " + F.length;
  slider.value = step;
  document.body.dataset.step = step;
  document.body.dataset.evals = s.evals;
  document.body.dataset.naive = s.naive;
  document.body.dataset.final = s.final.size;
}
function play() {
  if (timer) { clearInterval(timer); timer = null; }
  else {
    if (step >= F.length) show(0);
    timer = setInterval(() => { if (step >= F.length) play(); else show(step + 1); }, 700);
  }
  document.getElementById("play").innerHTML = timer ? "||" : "&#x25B6;";
}
document.getElementById("first").onclick = () => show(0);
document.getElementById("back").onclick = () => show(step - 1);
document.getElementById("fwd").onclick = () => show(step + 1);
document.getElementById("last").onclick = () => show(F.length);
document.getElementById("play").onclick = play;
slider.oninput = () => show(+slider.value);
document.addEventListener("keydown", e => {
  const go = {ArrowRight: step + 1, ArrowLeft: step - 1, Home: 0, End: F.length}[e.key];
  if (go !== undefined) { show(go); e.preventDefault(); }
  else if (e.key === " ") { play(); e.preventDefault(); }
});
show(0);
</script>
</body></html>
"""
