"""Gradient-flow pictures: the graph below a Value or Tensor as Graphviz, drawn to see backprop.

Why this module exists: backpropagation is easiest to believe when you can see it. Every
value becomes a box (its label, its data or shape, and d(root)/d(value)), every op a small
oval, and every edge is drawn as thick and as dark as the gradient flowing back along it
(log scale, with a legend). A value reached by several paths shows each path's share on its
edges and their sum in its box: the memo at work. Zero gradients (a dead ReLU) are drawn
dashed orange, NaN/inf ones bold red, so the pathologies stand out.

Two views:
  * the full view (default): one box per value. Readable up to a few hundred nodes, so
    `max_nodes` guards it with a clear error rather than a picture nobody can read;
  * the collapsed view (``group_by="layer"``): one box per module/layer, found from the
    parameters' labels (``layers.0.weight`` -> ``layers.0``), with edges carrying the total
    gradient between layers. Made for scalar MLPs over a batch (tens of thousands of nodes).

Gradients are computed here, from ``root``, with the engine's own memo loop
(`tinygrad_memo.core.engine.grad`), so a picture is truthful whatever ``.grad`` holds
(intermediate Tensors included) and drawing never touches any ``.grad``.
Rendering goes through `tinygrad_memo.viz.render`: system ``dot`` when installed, otherwise a
renderer from PyPI, so SVG export and Jupyter display work on a machine without Graphviz.
"""
from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
from collections import Counter
from html import escape as _html_escape
from pathlib import Path
from typing import Any, Callable, Iterable

import graphviz
import numpy as np

from ..core import engine
from ..core.engine import Node, toposort


__all__ = ["to_dot", "draw", "GradientGraph", "GraphTooLargeError", "layer_of",
           "SUPPORTED_FORMATS", "DEFAULT_MAX_NODES"]

#: Output formats `draw` accepts ("dot" is the Graphviz source itself, no rendering).
SUPPORTED_FORMATS: tuple[str, ...] = ("svg", "png", "pdf", "dot")
#: The full view's default limit: past a few hundred boxes a picture is no longer readable.
DEFAULT_MAX_NODES = 250
RANKDIRS = ("LR", "TB", "RL", "BT")
GroupBy = None | str | Callable[[Node], str | None]

# -- colours: one sequential scale for |gradient|, two alarms, four kinds of node -----------
_SCALE = ("#9ecae1", "#4292c6", "#2166ac", "#08306b")   # small -> large |gradient|
_ZERO = "#f28e2b"       # no gradient flows: dead ReLU, a zero input, a saturated op
_ZERO_TEXT = "#b35806"  # the same, darkened to be readable as text
_NONFINITE = "#d62728"  # NaN or inf in the gradient
_NOGRAD = "#b0b0b0"     # constants: no gradient is asked for
# Text is laid out with DejaVu Sans' metrics (built into Graphviz), the widest of the fonts the
# SVG then asks for: drawn in DejaVu Sans it fits exactly, in Arial/Helvetica/Liberation Sans
# (14-21% narrower) with room to spare. Laid out for Arial, DejaVu Sans (the only font of
# many Linux installs) overflowed its boxes. The DOT names one font (a list would be measured
# as Times); the SVG gets the full list (`_with_fonts`).
_FONT = "DejaVu Sans"
_SVG_FONTS = "DejaVu Sans,Bitstream Vera Sans,Arial,Helvetica,Liberation Sans,sans-serif"
_KIND_STYLE = {         # kind -> (fill, border)
    "param": ("#e5f5e0", "#31a354"),
    "value": ("#ffffff", "#6f6f6f"),
    "const": ("#f7f7f7", "#9e9e9e"),
    "output": ("#fff3cd", "#b8860b"),
}
_KIND_NAME = {"param": "leaf / parameter", "value": "intermediate",
              "const": "constant (no grad)", "output": "output (root)"}
_OP_SYMBOL = {"add": "+", "sub": "-", "mul": "\u00d7", "div": "/", "matmul": "@", "neg": "neg",
              "getitem": "index", "broadcast_to": "broadcast"}
_MAX_LABEL = 40        # characters of a label shown before an ellipsis


class GraphTooLargeError(ValueError):
    """The full view would have more boxes than ``max_nodes``: say what to do instead."""

    def __init__(self, message: str, count: int, limit: int) -> None:
        super().__init__(message)
        self.count, self.limit = count, limit


class GradientGraph(graphviz.Digraph):
    """A `graphviz.Digraph` that renders itself without a system Graphviz.

    Why a subclass: graphviz's own ``render``, ``view``, ``pipe`` and Jupyter display need
    the ``dot`` program. This class keeps everything a Digraph offers (``.source``, ``.node``,
    ``.edge``, ``.attr``, ``.save``) and renders through `tinygrad_memo.viz.render` instead,
    with graphviz's signatures and return values, so ``dot.render('gout')`` (micrograd's
    notebook), ``.pipe()``, ``.view()``, ``.svg()`` and ``.draw(path)`` work on any machine.
    The default format is SVG.
    """

    directory: str  # (graphviz's; render may set it)

    def __repr__(self) -> str:
        attrs = ("\tnode ", "\tedge ", "\tgraph ")
        lines = [line for line in self.body if not line.startswith(attrs)]
        edges = sum(" -> " in line for line in lines)
        return (f"<GradientGraph: {len(lines) - edges} nodes, {edges} edges; display it in "
                f"Jupyter, or .draw('graph.svg'), .render(), .view(), .svg()>")

    def svg(self) -> str:
        """The picture as SVG text."""
        return _rendered(self.source, "svg").decode("utf-8")

    def draw(self, path: str | os.PathLike, format: str | None = None) -> str:
        """Write the picture to ``path`` (format from ``format`` or the file suffix); see `draw`."""
        return draw(self, path, format=format)

    def pipe(self, format: str | None = None, renderer: str | None = None,
             formatter: str | None = None, neato_no_op: bool | int | None = None,
             quiet: bool = False, *, engine: str | None = None,
             encoding: str | None = None) -> bytes | str:
        """The rendered picture as bytes (as text if ``encoding`` is given), like graphviz's."""
        data = self._pipe(format, renderer, formatter, neato_no_op, engine)
        return data.decode(encoding) if encoding else data

    def render(self, filename: str | os.PathLike | None = None,
               directory: str | os.PathLike | None = None, view: bool = False,
               cleanup: bool = False, format: str | None = None, renderer: str | None = None,
               formatter: str | None = None, neato_no_op: bool | int | None = None,
               quiet: bool = False, quiet_view: bool = False, *,
               outfile: str | os.PathLike | None = None, engine: str | None = None,
               raise_if_result_exists: bool = False, overwrite_source: bool = False) -> str:
        """Save the DOT source to ``filename`` and render it next to it, like graphviz's:
        returns the rendered file's path (``filename + '.' + format``, or ``outfile``).
        ``cleanup`` deletes the source afterwards. Rendering happens first, so a failure
        leaves no file behind."""
        if outfile is not None:
            outfile = os.fspath(outfile)
            if format is None:
                format = _format_of(outfile, "render")
            if directory is None:
                outfile = os.path.join(self.directory, outfile)
            if filename is None:
                filename = os.path.splitext(os.path.basename(outfile))[0] + ".gv"
        data = self._pipe(format, renderer, formatter, neato_no_op, engine)
        if filename is not None:
            self.filename = os.fspath(filename)
        if directory is not None:
            self.directory = os.fspath(directory)
        rendered = outfile or f"{self.filepath}.{(format or self.format).lower()}"
        if raise_if_result_exists and os.path.exists(rendered):
            raise graphviz.FileExistsError(f"output file exists: {rendered!r}")
        if os.path.abspath(rendered) == os.path.abspath(self.filepath) and not overwrite_source:
            raise ValueError(f"render: outfile {rendered!r} is the DOT source file; pass "
                             f"overwrite_source=True to replace it")
        if not cleanup:
            self.save()
        elif os.path.dirname(rendered):
            os.makedirs(os.path.dirname(rendered), exist_ok=True)
        with open(rendered, "wb") as fh:
            fh.write(data)
        if view or quiet_view:
            _open(rendered, quiet_view)
        return rendered

    def view(self, filename: str | os.PathLike | None = None,
             directory: str | os.PathLike | None = None, cleanup: bool = False,
             quiet: bool = False, quiet_view: bool = False) -> str:
        """`render` and open the result in the system's viewer; returns the rendered path."""
        return self.render(filename=filename, directory=directory, view=True, cleanup=cleanup,
                           quiet=quiet, quiet_view=quiet_view)

    def _pipe(self, format: str | None, renderer: str | None, formatter: str | None,
              neato_no_op: bool | int | None, engine: str | None) -> bytes:
        if renderer is not None or formatter is not None or neato_no_op is not None:
            raise ValueError("GradientGraph renders without a system Graphviz, which has no "
                             "renderer/formatter/neato_no_op choice; leave them out")
        fmt_ = (format or self.format).lower()
        return _rendered(self.source, "jpeg" if fmt_ == "jpg" else fmt_, engine or self.engine)

    def _repr_svg_(self) -> str:
        return self.svg()

    def _repr_image_svg_xml(self) -> str:
        return self.svg()

    def _repr_mimebundle_(self, include: Iterable[str] | None = None,
                          exclude: Iterable[str] | None = None, **_: Any) -> dict[str, str]:
        mimetype = "image/svg+xml"
        if (include is not None and mimetype not in include) or (exclude and mimetype in exclude):
            return {}
        return {mimetype: self.svg()}


def _open(path: str, quiet: bool) -> None:
    """Open a file in the system's default viewer, or say clearly that there is none."""
    if sys.platform == "win32":
        os.startfile(os.path.normpath(path))  # type: ignore[attr-defined]
        return
    opener = "open" if sys.platform == "darwin" else "xdg-open"
    if shutil.which(opener) is None:
        raise RuntimeError(f"view: wrote {path!r}, but there is no viewer to open it ({opener!r} "
                           f"is not installed); open the file yourself")
    subprocess.Popen([opener, path], stderr=subprocess.DEVNULL if quiet else None)


# -- public API --------------------------------------------------------------------------------


def to_dot(root: Node, rankdir: str = "LR", *, max_nodes: int = DEFAULT_MAX_NODES,
           group_by: GroupBy = None, grad_output: Any = None, show_grad: bool = True,
           edge_labels: bool | None = None, legend: bool = True,
           title: str | None = None,
           scale: tuple[float, float] | None = None) -> GradientGraph:
    """The graph below ``root`` (a Value or Tensor) as a `graphviz.Digraph` (a `GradientGraph`).

    - ``rankdir``: "LR" (inputs left, root right), "TB", "RL" or "BT".
    - ``max_nodes``: the full view refuses graphs with more values than this
      (`GraphTooLargeError`); use ``group_by="layer"`` for those.
    - ``group_by``: None for the full view; "layer" for one box per module/layer, grouped by
      the labels' prefix (see `layer_of`); or a function node -> group name (None: inherit).
    - ``grad_output``: the seed of the backward pass, as in `tinygrad_memo.grad`; for a root with
      more than one element it defaults to ones, i.e. the picture shows d(sum(root))/d(node).
    - ``show_grad``: False draws the forward graph only.
    - ``edge_labels``: write the gradient's size on each edge (default: in graphs up to 60 values).
    - ``scale``: ``(smallest, largest)`` |gradient| of the edges' width and colour scale, fixed
      so that two pictures compare; sizes outside it are drawn as its ends. Default: fitted
      to this picture, from its smallest gradient to the largest one reaching a parameter
      (bigger ones, such as the loss's own bookkeeping, are drawn as that largest).
    """
    if rankdir not in RANKDIRS:
        raise ValueError(f"to_dot: rankdir must be one of {', '.join(RANKDIRS)}, got {rankdir!r}")
    if not isinstance(root, Node):
        raise TypeError(f"to_dot: root is {type(root).__name__}, expected a Value or Tensor")
    if not isinstance(max_nodes, int) or max_nodes < 1:
        raise ValueError(f"to_dot: max_nodes must be a positive int, got {max_nodes!r}")
    if scale is not None:
        if (not isinstance(scale, (tuple, list)) or len(scale) != 2
                or not all(isinstance(v, (int, float)) and 0 < v < math.inf for v in scale)
                or not scale[0] < scale[1]):
            raise ValueError(f"to_dot: scale must be (smallest, largest), two positive "
                             f"numbers with smallest < largest, got {scale!r}")
    key = _group_function(group_by)
    try:
        flow = _Flow(root, grad_output if show_grad else None, show_grad,
                     limit=None if key else max_nodes)
    except engine.GraphFreedError as exc:
        raise type(exc)(
            "to_dot: an earlier backward() or grad() freed this graph, so there is nothing left "
            "to draw. Draw before calling backward() (the picture computes its own gradients), "
            "or call backward(retain_graph=True).") from None
    graph = GradientGraph(name="gradient_flow", format="svg")
    graph.attr(rankdir=rankdir, bgcolor="white", fontname=_FONT, fontsize="11", pad="0.25",
               nodesep="0.22", ranksep="0.35", labelloc="b", labeljust="l", newrank="true")
    graph.attr("node", fontname=_FONT, fontsize="11", shape="plain")
    # Arrows point the way the gradient flows: from the root back to the inputs.
    graph.attr("edge", fontname=_FONT, fontsize="9", arrowsize="0.6",
               dir="back" if flow.grads else "forward")
    if key:
        drawn = _collapsed(graph, flow, key, edge_labels is not False, scale, max_nodes)
    else:
        drawn = _full(graph, flow, len(flow.nodes) <= 60 if edge_labels is None else edge_labels,
                      scale)
    if legend or title:
        graph.attr(label=_legend(flow, drawn, title, legend, bool(key)))
    return graph


def draw(root: Node | graphviz.Digraph, path: str | os.PathLike, format: str | None = None,
         **kwargs: Any) -> str:
    """Write the picture of ``root`` (or of a Digraph from `to_dot`) to ``path``; return the path.

    ``format`` is "svg", "png", "pdf" or "dot" (the Graphviz source), in any case; if omitted
    it comes from the file's suffix (".gv" is DOT), and is "svg" for a name without one. Any
    other suffix is refused rather than written as SVG under a misleading name (".jpg"
    holding SVG). ``kwargs`` go to `to_dot`.
    Works without a system Graphviz (see `tinygrad_memo.viz.render`). The file is written only
    after rendering succeeded, so a failure never leaves a half-written picture.
    """
    path_str = os.fspath(path)
    if format is None:
        suffix = Path(path_str).suffix.lower().lstrip(".")
        format = {"": "svg", "gv": "dot"}.get(suffix, suffix)
        if format not in SUPPORTED_FORMATS:
            raise ValueError(f"draw: cannot tell the format from {path_str!r}: its suffix "
                             f".{suffix} is not one of "
                             f"{', '.join('.' + f for f in SUPPORTED_FORMATS)}; pass format=")
    if not isinstance(format, str) or format.lower() not in SUPPORTED_FORMATS:
        raise ValueError(f"draw: unknown format {format!r}; supported formats: "
                         f"{', '.join(SUPPORTED_FORMATS)}")
    format = format.lower()
    _check_writable(path_str)
    graph = root if isinstance(root, graphviz.Digraph) else to_dot(root, **kwargs)
    data = _rendered(graph.source, format)
    try:
        with open(path_str, "wb") as fh:
            fh.write(data)
    except OSError as exc:
        raise type(exc)(exc.errno, f"draw: cannot write {path_str!r}: {exc.strerror}") from None
    return path_str


def _format_of(path: str, who: str) -> str:
    """The format a file name asks for by its suffix (case-insensitive), or a clear error."""
    from .render import FORMATS
    suffix = Path(path).suffix.lower().lstrip(".")
    suffix = {"jpg": "jpeg", "gv": "dot"}.get(suffix, suffix)
    if suffix not in FORMATS:
        raise ValueError(f"{who}: cannot tell the format from the file name {path!r}; use one "
                         f"of the suffixes {', '.join('.' + f for f in FORMATS)} or pass format=")
    return suffix


def _rendered(source: str, format: str, engine: str = "dot") -> bytes:
    """The DOT source rendered to ``format`` ("dot": the source itself); SVG asks for
    DejaVu Sans or, where it is missing, a narrower sans-serif font (see `_FONT`)."""
    if format in ("dot", "gv"):
        return source.encode("utf-8")
    from . import render as _render
    if format in ("png", "jpeg") and _render.backend() == _render.FALLBACK:
        # graphviz-pure draws raster text with its own built-in Arial-metric sans font
        # (DejaVu Sans would come out in its serif fallback): measure with the one that draws.
        source = source.replace(f'fontname="{_FONT}"', "fontname=Arial")
    data = _render.render(source, format, engine)
    if format == "svg":
        data = data.replace(f'font-family="{_FONT}"'.encode(),
                            f'font-family="{_SVG_FONTS}"'.encode())
    return data


def layer_of(label: str) -> str:
    """The module/layer a label belongs to: its prefix up to the first index, or its parent.

    ``layers.0.weight`` -> ``layers.0``; ``layers.1.neurons.3.w.0`` -> ``layers.1``;
    ``fc1.bias`` -> ``fc1``; ``w1`` -> ``w1``.
    """
    parts = label.split(".")
    for i, part in enumerate(parts):
        if part.isdigit():
            return ".".join(parts[:i + 1])
    return ".".join(parts[:-1]) if len(parts) > 1 else label


# -- the analysis: nodes, gradients, the gradient along each edge ------------------------------


class _Flow:
    """Everything a picture needs, computed once: nodes in order, d(root)/d(node), edge flows.

    ``nodes`` lists the values inputs first (constants, which the engine's toposort skips,
    just before their first consumer). ``grads[node]`` is d(root)/d(node) from the engine.
    ``edges[(child, i)]`` is the size of the gradient the i-th input receives through
    ``child`` alone (the vjp of that one edge): a node's grad is the sum over its out-edges.
    Sizes are |g| for scalars and the L2 norm for arrays; NaN if any element is NaN or inf.
    """

    def __init__(self, root: Node, grad_output: Any, show_grad: bool, limit: int | None) -> None:
        self.root = root
        self.seeded_ones = False
        order = toposort(root)
        nodes: list[Node] = []
        seen: set[Node] = set()
        for node in order:
            for p in node._inputs:
                if p not in seen and not _requires_grad(p):
                    seen.add(p)
                    nodes.append(p)
            seen.add(node)
            nodes.append(node)
            if limit is not None and len(nodes) > limit:
                count = _count(root)
                raise GraphTooLargeError(
                    f"to_dot: the graph has {count:,} values, more than max_nodes={limit}; "
                    f"a picture that large is unreadable. Use to_dot(root, group_by='layer') for "
                    f"one box per layer, draw a smaller part (e.g. one sample of the batch), "
                    f"or raise max_nodes.", count, limit)
        self.nodes = nodes
        self.index = {n: i for i, n in enumerate(nodes)}
        self.grads: dict[Node, Any] = {}
        self.edges: dict[tuple[Node, int], float] = {}
        if not show_grad or not _requires_grad(root):
            return
        seed = grad_output
        if seed is None and getattr(root, "size", 1) != 1:
            seed, self.seeded_ones = np.ones_like(root.data), True
        with np.errstate(all="ignore"):
            grads = engine.grad(root, order, grad_output=seed, retain_graph=True)
            self.grads = dict(zip(order, grads))
            for node in order:
                op, g = node._fn, self.grads.get(node)
                if op is None or g is None:
                    continue
                inputs = [p.data for p in node._inputs]
                for i, (p, vjp) in enumerate(zip(node._inputs, op.vjps)):
                    if _requires_grad(p):
                        self.edges[(node, i)] = size_of(vjp(g, node.data, node._ctx, *inputs))

    def kind(self, node: Node) -> str:
        if node is self.root:
            return "output"
        if node._fn is not None:
            return "value"
        return "param" if _requires_grad(node) else "const"


def _count(root: Node) -> int:
    """Values below root, constants included (only for the error message)."""
    order = toposort(root)
    consts = {p for n in order for p in n._inputs if not _requires_grad(p)}
    return len(order) + len(consts)


def _requires_grad(node: Node) -> bool:
    return bool(getattr(node, "requires_grad", True))


def size_of(g: Any) -> float:
    """|g| for a number, the L2 norm for an array; NaN when any element is NaN or inf."""
    if isinstance(g, Node):
        g = g.data
    if isinstance(g, (int, float)):
        x = abs(float(g))
        return x if x != math.inf else math.nan
    a = np.asarray(g, dtype=np.float64)
    if not np.isfinite(a).all():
        return math.nan
    m = float(np.abs(a).max()) if a.size else 0.0
    if m == 0.0:
        return 0.0
    return m * float(np.sqrt(np.sum(np.square(a / m))))   # no overflow for huge entries


class _Scale:
    """Log-scale map from |gradient| to pen width and colour, over a fixed or a fitted range.

    Fitted, it runs from the smallest size to ``top`` (the largest gradient reaching a
    parameter) when given, so one huge bookkeeping edge cannot wash out every parameter's.
    It records what it drew (zero, nan/inf, sizes past either end), for the legend.
    """

    def __init__(self, sizes: Iterable[float], top: float | None = None,
                 fixed: tuple[float, float] | None = None) -> None:
        if fixed is not None:
            self.lo, self.hi = math.log10(fixed[0]), math.log10(fixed[1])
        else:
            logs = [math.log10(s) for s in sizes if s == s and 0.0 < s < math.inf]
            self.lo, self.hi = (min(logs), max(logs)) if logs else (0.0, 0.0)
            if top is not None and top == top and 0.0 < top < math.inf:
                self.hi = max(self.lo, min(self.hi, math.log10(top)))
        self.drawn: set[str] = set()   # of "flow", "zero", "nonfinite", "above", "below"

    def t(self, s: float) -> float:
        if self.hi - self.lo < 1e-12:
            return 0.75
        return min(1.0, max(0.0, (math.log10(s) - self.lo) / (self.hi - self.lo)))

    def color(self, s: float) -> str:
        return _interpolate(_SCALE, self.t(s))

    def width(self, s: float) -> float:
        return 0.8 + 4.7 * self.t(s)

    def ticks(self) -> list[tuple[float, str]]:
        """The legend's samples: both ends of the range and round values (1, 2, 5 x 10^k)
        between, as (size, text); an end past which sizes were clipped says so."""
        lo, hi = self.lo, self.hi
        if hi - lo < 1e-12:
            return [(10 ** lo, f"{10 ** lo:.2g}")]
        gap = (hi - lo) / 4
        picked = [lo]
        for e in range(math.floor(lo), math.ceil(hi) + 1):
            for m in (1, 2, 5):
                x = math.log10(m) + e
                if x - picked[-1] >= gap and hi - x >= gap:
                    picked.append(x)
        picked.append(hi)
        ticks = [(10 ** x, f"{10 ** x:.2g}") for x in picked]
        if "below" in self.drawn:
            ticks[0] = (ticks[0][0], "<= " + ticks[0][1])
        if "above" in self.drawn:
            ticks[-1] = (ticks[-1][0], ">= " + ticks[-1][1])
        return ticks

    def edge(self, s: float | None, label: bool, note: str = "") -> dict[str, str]:
        """Graphviz attributes of an edge carrying a gradient of size ``s`` (None: no gradient);
        ``label`` writes the size on it, ``note`` a line under it."""
        if s is None:
            return {"color": _NOGRAD, "style": "dotted", "penwidth": "0.8", "dir": "none"}
        if s != s:
            self.drawn.add("nonfinite")
            attrs = {"color": _NONFINITE, "penwidth": "3.5", "style": "bold"}
            text, fc, w = "nan/inf", _NONFINITE, 3.5
        elif s == 0.0:
            self.drawn.add("zero")
            attrs = {"color": _ZERO, "penwidth": "1.6", "style": "dashed"}
            text, fc, w = "0", _ZERO_TEXT, 1.6
        else:
            self.drawn.add("flow")
            x = math.log10(s) if s < math.inf else math.inf
            if x > self.hi + 1e-9:
                self.drawn.add("above")
            elif x < self.lo - 1e-9:
                self.drawn.add("below")
            w = self.width(s)
            attrs = {"color": self.color(s), "penwidth": f"{w:.2f}",
                     "arrowsize": f"{0.45 + 0.08 * w:.2f}"}
            text, fc = fmt(s), "#3a3a3a"
        if label or note:
            attrs["label"] = _edge_label(text if label else "", note, fc, w)
        return attrs


def _edge_label(text: str, note: str, color: str, pen: float) -> str:
    """An edge's number as an HTML label padded by more than half the pen's width, so the
    text keeps clear of its own edge however thick that is drawn."""
    lines = [_font(_safe(text), color=color)] if text else []
    if note:
        lines.append(_font(_safe(note), color="#6f6f6f"))
    pad = math.ceil(pen / 2) + 1
    return (f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="{pad}"><TR><TD>'
            + "<BR/>".join(lines) + "</TD></TR></TABLE>>")


def _interpolate(stops: tuple[str, ...], t: float) -> str:
    x = t * (len(stops) - 1)
    i = min(int(x), len(stops) - 2)
    f = x - i
    a, b = (tuple(int(s[k:k + 2], 16) for k in (1, 3, 5)) for s in (stops[i], stops[i + 1]))
    return "#" + "".join(f"{round(p + (q - p) * f):02x}" for p, q in zip(a, b))


# -- text: numbers and safe labels --------------------------------------------------------------


def fmt(x: Any) -> str:
    """A number as the pictures print it: 4 significant digits (tests look for this text)."""
    x = float(x)
    if x != x:
        return "nan"
    if x in (math.inf, -math.inf):
        return "inf" if x > 0 else "-inf"
    return f"{x + 0.0:.4g}"   # + 0.0 turns -0.0 into 0


def _safe(text: str, limit: int = _MAX_LABEL) -> str:
    """User text as HTML-label markup that can break neither the DOT nor the SVG.

    Markup characters become entities, every non-ASCII character a numeric reference, and
    what XML cannot carry (control characters, surrogates, U+FFFE/U+FFFF) a visible escape;
    newlines become line breaks. Long labels are cut with an ellipsis.
    """
    text = str(text).replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    if len(text) > limit:
        text = text[:limit - 1] + "\u2026"
    lines = []
    for line in text.split("\n"):
        out = []
        for ch in line:
            o = ord(ch)
            if ch in "&<>\"'":
                out.append(_html_escape(ch, quote=True))
            elif ch == "\\":  # Graphviz reads two backslashes in a label as one
                out.append("\\\\")
            elif 32 <= o < 127:
                out.append(ch)
            elif o < 32 or 127 <= o < 160 or 0xD800 <= o <= 0xDFFF or o in (0xFFFE, 0xFFFF):
                out.append(f"\\\\x{o:02x}" if o < 256 else f"\\\\u{o:04x}")
            else:
                out.append(f"&#{o};")
        lines.append("".join(out))
    return "<BR/>".join(lines)


def _font(text: str, size: int | None = None, color: str | None = None, bold: bool = False) -> str:
    attrs = (f' POINT-SIZE="{size}"' if size else "") + (f' COLOR="{color}"' if color else "")
    body = f"<B>{text}</B>" if bold else text
    return f"<FONT{attrs}>{body}</FONT>" if attrs else body


# -- the full view --------------------------------------------------------------------------------


def _op_text(node: Node) -> str:
    assert node._fn is not None  # (called for op nodes only)
    name = node._fn.name
    if name == "pow" and isinstance(node._ctx, (int, float)):
        return f"^{fmt(node._ctx)}"
    return _OP_SYMBOL.get(name, name)


def _grad_cell(flow: _Flow, node: Node) -> tuple[str, str]:
    """(markup, background) of a value's gradient: the number, or a norm/min/max summary."""
    if not flow.grads:
        return "", ""
    if not _requires_grad(node):
        return _font("no grad", 9, "#8a8a8a"), ""
    g = flow.grads.get(node)
    if g is None:
        return _font("grad -", 10, "#8a8a8a"), ""
    if isinstance(g, Node):
        g = g.data
    if isinstance(g, (int, float)) or np.ndim(g) == 0:
        x = float(g)
        if x != x or x in (math.inf, -math.inf):
            return _font(f"grad {fmt(x)}", 11, _NONFINITE, bold=True), "#fde0dd"
        if x == 0.0:
            return _font("grad 0", 11, _ZERO_TEXT, bold=True), "#fee6ce"
        return f"grad {fmt(x)}", ""
    a = np.asarray(g, dtype=np.float64)
    bad = int(a.size - np.isfinite(a).sum())
    if bad:
        return _font(f"grad: {bad} of {a.size} nan/inf", 10, _NONFINITE, bold=True), "#fde0dd"
    zeros = int(a.size - np.count_nonzero(a))
    if a.size and zeros == a.size:
        return _font("grad all 0", 11, _ZERO_TEXT, bold=True), "#fee6ce"
    lines = [f"grad norm {fmt(size_of(a))}"]
    if a.size <= 4:
        lines.append("[" + ", ".join(fmt(v) for v in a.ravel()) + "]")
    else:
        lines.append(f"min {fmt(a.min())}  max {fmt(a.max())}")
    text = "<BR/>".join(lines)
    if zeros:
        text += "<BR/>" + _font(f"{zeros / a.size:.0%} zero", 10, _ZERO_TEXT, bold=True)
    return text, ""


def _data_text(node: Node) -> str:
    d = node.data
    if isinstance(d, (int, float)):
        return f"data {fmt(d)}"
    a = np.asarray(d)
    if a.size <= 4:
        return "[" + ", ".join(fmt(v) for v in a.ravel()) + "]" if a.ndim else f"data {fmt(a)}"
    af = a.astype(np.float64)
    with np.errstate(invalid="ignore"):   # inf - inf in the mean of data holding both
        return f"mean {fmt(af.mean())}  [{fmt(af.min())}, {fmt(af.max())}]"


def _bad_count(data: Any) -> int:
    """How many entries of a value's data are NaN or infinite."""
    if isinstance(data, (int, float)):
        return int(not math.isfinite(data))
    a = np.asarray(data)
    if not np.issubdtype(a.dtype, np.inexact):
        return 0
    return int(a.size - np.isfinite(a).sum())


def _data_cell(node: Node) -> tuple[str, str]:
    """(markup, background) of a value's data, marked like a NaN/inf gradient when it has any."""
    bad = _bad_count(node.data)
    if not bad:
        return _data_text(node), ""
    size = int(np.size(node.data))
    text = _data_text(node) if size <= 4 else f"data: {bad} of {size} nan/inf"
    return _font(text, 11, _NONFINITE, bold=True), "#fde0dd"


def _value_label(flow: _Flow, node: Node) -> str:
    """One value's box: a row for a scalar (label | data | grad), a column for a tensor."""
    kind = flow.kind(node)
    fill, border = _KIND_STYLE[kind]
    label = node.label
    title = _font(_safe(label), 12, bold=True) if label not in (None, "") else ""
    grad, grad_bg = _grad_cell(flow, node)
    bg = f' BGCOLOR="{grad_bg}"' if grad_bg else ""
    style = ' STYLE="dashed"' if kind == "const" else ' STYLE="rounded"'
    width = "2" if kind in ("param", "output") else "1"
    table = (f'<TABLE BORDER="{width}" CELLBORDER="0" CELLSPACING="0" CELLPADDING="4" '
             f'COLOR="{border}" BGCOLOR="{fill}"{style}>')
    data, data_bg = _data_cell(node)
    dbg = f' BGCOLOR="{data_bg}"' if data_bg else ""
    if not isinstance(node.data, np.ndarray):
        cells = ([f"<TD>{title}</TD>"] if title else []) + [f"<TD{dbg}>{data}</TD>"]
        if grad:
            cells.append(f"<TD{bg}>{grad}</TD>")
        return f"<{table}<TR>{'<VR/>'.join(cells)}</TR></TABLE>>"
    dtype = str(node.data.dtype)   # may hold markup: '>f8' is big-endian float64
    shape = _font(_safe(f"{tuple(node.shape)} {dtype}"), 10, "#555555")
    head = (title + " " if title else "") + shape
    rows = [f"<TR><TD>{head}</TD></TR>",
            f"<TR><TD{dbg}>{data if data_bg else _font(data, 10)}</TD></TR>"]
    if grad:
        rows.append(f"<TR><TD{bg}>{grad}</TD></TR>")
    return f"<{table}{'<HR/>'.join(rows)}</TABLE>>"


def _full(graph: GradientGraph, flow: _Flow, edge_labels: bool,
          fixed: tuple[float, float] | None) -> tuple[_Scale, set[str]]:
    """One box per value, one oval per op; edges sized by the gradient flowing along them.
    SVG ids: value i is ``v{i}``, its op ``op{i}``, the op's k-th input edge ``e{i}_{k}`` and
    its output edge ``o{i}`` (what `animate` lights up). Returns the scale and the kinds of
    box drawn (for the legend)."""
    grads_on = bool(flow.grads)
    out_sizes = {n: size_of(flow.grads[n]) for n in flow.nodes if n in flow.grads}
    params = [s for n, s in out_sizes.items() if n._fn is None and s == s]
    scale = _Scale(list(flow.edges.values()) + list(out_sizes.values()),
                   top=max(params, default=None), fixed=fixed)
    for i, node in enumerate(flow.nodes):
        graph.node(f"v{i}", _value_label(flow, node), id=f"v{i}")
        if node._fn is None:
            continue
        hot = (grads_on and out_sizes.get(node, 0.0) != out_sizes.get(node, 0.0)) \
            or _bad_count(node.data) > 0
        graph.node(f"op{i}", f"<{_safe(_op_text(node), 16)}>", id=f"op{i}", shape="ellipse",
                   style="filled",
                   fillcolor="#fde0dd" if hot else "#f0f0f0",
                   color=_NONFINITE if hot else "#8c8c8c", fontsize="10", height="0.28",
                   width="0.28", margin="0.04,0.02")
        for k, p in enumerate(node._inputs):
            s = flow.edges.get((node, k)) if grads_on else None
            attrs = scale.edge(s, edge_labels) if grads_on else {"color": "#6f6f6f"}
            if grads_on and not _requires_grad(p):
                attrs = scale.edge(None, False)
            graph.edge(f"v{flow.index[p]}", f"op{i}", id=f"e{i}_{k}", **attrs)
        attrs = scale.edge(out_sizes.get(node), False) if grads_on else {"color": "#6f6f6f"}
        graph.edge(f"op{i}", f"v{i}", id=f"o{i}", **attrs)
    return scale, {flow.kind(n) for n in flow.nodes}


# -- the collapsed view ----------------------------------------------------------------------------

_INPUTS = "inputs & constants"


def _group_function(group_by: GroupBy) -> Callable[[Node], str | None] | None:
    if group_by is None:
        return None
    if group_by == "layer":
        return lambda n: layer_of(str(n.label)) if n.label not in (None, "") else None
    if callable(group_by):
        return group_by
    raise ValueError(f"to_dot: group_by must be None, 'layer' or a function node -> group name, "
                     f"got {group_by!r}")


def _assign_groups(flow: _Flow, key: Callable[[Node], str | None]) -> dict[Node, str]:
    """Each value's group: its own key if it has one, else inherited from its inputs.

    An unnamed op joins the group of a named leaf it consumes (the weight of ``x @ W``), so
    a layer starts where its parameters come in. Otherwise it takes the group of its
    latest grouped input (activations stay with their layer), except that an op mixing
    a layer's result with fresh data or a constant (targets, ``1 - y*s``) and no parameter
    is where the model ends and the loss begins: it joins the root's group.
    Unnamed leaves are inputs and constants.
    """
    root = flow.root
    out_name = key(root)
    out_name = str(out_name) if out_name is not None else "output"
    group: dict[Node, str] = {}
    for node in flow.nodes:
        name = key(node)
        if name is None:
            if node._fn is None:
                name = _INPUTS
            else:
                parents = node._inputs
                named = [group[p] for p in parents if p._fn is None and group[p] != _INPUTS]
                inner = [p for p in parents if group[p] != _INPUTS]
                if named:
                    name = named[-1]
                elif not inner:
                    name = _INPUTS
                elif any(p._fn is None for p in parents):
                    name = out_name
                else:
                    name = group[max(inner, key=flow.index.__getitem__)]
        group[node] = str(name)
    if root._fn is not None and key(root) is None:
        group[root] = out_name
    return group


def _collapsed(graph: GradientGraph, flow: _Flow, key: Callable[[Node], str | None],
               edge_labels: bool, fixed: tuple[float, float] | None,
               limit: int) -> tuple[_Scale, set[str]]:
    """One box per group; an edge per pair of groups, carrying the gradient between them.
    More than ``limit`` groups is refused: past a few hundred boxes the picture is unreadable,
    and laying out thousands takes minutes."""
    group = _assign_groups(flow, key)
    names = list(dict.fromkeys(group[n] for n in flow.nodes))
    if len(names) > limit:
        raise GraphTooLargeError(
            f"to_dot: grouping gives {len(names):,} groups, more than max_nodes={limit}; "
            f"a picture that large is unreadable. Group more coarsely (a group_by function "
            f"returning fewer names) or raise max_nodes.", len(names), limit)
    members: dict[str, list[Node]] = {g: [] for g in names}
    for n in flow.nodes:
        members[group[n]].append(n)
    between: dict[tuple[str, str], list[float | None]] = {}
    for node in flow.nodes:
        for k, p in enumerate(node._inputs):
            a, b = group[p], group[node]
            if a != b:
                between.setdefault((a, b), []).append(flow.edges.get((node, k)))
    totals: dict[tuple[str, str], float | None] = {}
    for pair, sizes in between.items():
        vals = [s for s in sizes if s is not None]   # None: a constant, no gradient asked
        totals[pair] = _norm(vals) if vals else None
    # Gradients into data and constants (a Value leaf gets one) are drawn, greyed, but kept
    # out of the scale: d(loss)/d(1e-4) can dwarf the flow between layers that matters.
    # As in the full view, the scale tops out at the largest gradient reaching a layer's
    # parameters (the norm its box shows), so the loss's bookkeeping cannot wash them out.
    tops = [_norm([size_of(flow.grads[n]) for n in nodes if n in flow.grads
                   and n._fn is None and _requires_grad(n)])
            for g, nodes in members.items() if g != _INPUTS]
    scale = _Scale([s for (a, _), s in totals.items() if s is not None and a != _INPUTS],
                   top=max((t for t in tops if t == t and t > 0), default=None), fixed=fixed)
    ids = {g: f"g{i}" for i, g in enumerate(names)}
    for g in names:
        graph.node(ids[g], _group_label(flow, g, members[g]))
    for (a, b), s in totals.items():
        count = len(between[(a, b)])
        note = f"({count} edges)" if edge_labels and count > 1 else ""
        if not flow.grads:
            attrs = {"color": "#6f6f6f"}
        elif a == _INPUTS:
            attrs = scale.edge(None, False)
            text = fmt(s) if edge_labels and s is not None else ""
            if text or note:
                attrs["label"] = _edge_label(text, note, "#8a8a8a", 0.8)
        else:
            attrs = scale.edge(s, edge_labels, note)
        graph.edge(ids[a], ids[b], **attrs)
    return scale, {_group_kind(flow, g, members[g]) for g in names}


def _norm(sizes: list[float]) -> float:
    """The L2 norm of several gradients' sizes; NaN if any is NaN."""
    return math.nan if any(s != s for s in sizes) else math.sqrt(sum(s * s for s in sizes))


def _group_kind(flow: _Flow, name: str, nodes: list[Node]) -> str:
    if flow.root in nodes:
        return "output"
    if name == _INPUTS:
        return "const"
    return "param" if any(n._fn is None and _requires_grad(n) for n in nodes) else "value"


def _group_label(flow: _Flow, name: str, nodes: list[Node]) -> str:
    """A group's box: its name, what it holds, and its gradient health."""
    leaves = [n for n in nodes if n._fn is None]
    params = [n for n in leaves if _requires_grad(n)]
    ops = Counter(n._fn.name for n in nodes if n._fn is not None)
    has_root = flow.root in nodes
    kind = _group_kind(flow, name, nodes)
    fill, border = _KIND_STYLE[kind]
    rows = [_font(_safe(name, 60) if name else "(no name)", 13, bold=True)]
    desc = f"{len(nodes)} value" + ("s" if len(nodes) != 1 else "")
    if ops:
        desc += ": " + ", ".join(f"{c} {_safe(o, 16)}" for o, c in ops.most_common(4))
        if len(ops) > 4:
            desc += "  \u2026"
    rows.append(_font(desc, 10, "#555555"))
    if params and name != _INPUTS:
        numel = sum(int(np.size(p.data)) for p in params)
        rows.append(_font(f"{len(params)} parameters ({numel} numbers)", 10))
        if flow.grads:
            norm = _norm([size_of(flow.grads[p]) for p in params if p in flow.grads])
            rows.append(f"param grad norm {fmt(norm)}")
    if has_root:
        rows.append(_font(f"output {_data_text(flow.root)}", 10))
    if flow.grads and name != _INPUTS:
        with_grad = [n for n in nodes if n in flow.grads]
        sizes = [size_of(flow.grads[n]) for n in with_grad]
        bad = sum(1 for s in sizes if s != s)
        zero = sum(1 for s in sizes if s == 0.0)
        if bad:
            rows.append(_font(f"{bad} of {len(sizes)} values: nan/inf grad", 11, _NONFINITE, bold=True))
        if zero:
            rows.append(_font(f"{zero} of {len(sizes)} values: zero grad", 11, _ZERO_TEXT, bold=True))
    style = ' STYLE="dashed"' if kind == "const" else ' STYLE="rounded"'
    body = "".join(f"<TR><TD>{r}</TD></TR>" for r in rows)
    return (f'<<TABLE BORDER="2" CELLBORDER="0" CELLSPACING="0" CELLPADDING="3" '
            f'COLOR="{border}" BGCOLOR="{fill}"{style}>{body}</TABLE>>')


# -- the legend ------------------------------------------------------------------------------------


def _legend(flow: _Flow, drawn: tuple[_Scale, set[str]], title: str | None, legend: bool,
            collapsed: bool) -> str:
    """The graph's label: a title, then a key to what is drawn: edge widths/colours (and the
    zero and nan/inf edges if there are any) and the kinds of box in the picture.

    One table with a shared column grid (nested tables would be stretched to the widest row):
    row 1 pairs a sample bar with a number, row 2 puts each box kind over one such pair.
    """
    scale, kinds = drawn
    grad_cells: list[str] = []
    if legend and flow.grads:
        what = "d(sum(root))/d(node), seed = ones" if flow.seeded_ones else "d(root)/d(node)"
        norm = ", L2 norm for tensors" if isinstance(flow.root.data, np.ndarray) else ""
        grad_cells.append(_text_cell(f"arrows: gradient flowing back to the inputs, "
                                     f"|{what}|{norm}, log scale"))
        for s, text in scale.ticks() if "flow" in scale.drawn else []:
            grad_cells += [_swatch(scale.color(s), scale.width(s)), _text_cell(text)]
        if "zero" in scale.drawn:
            grad_cells += [_swatch(_ZERO, 1.6, dashed=True), _text_cell("0: no flow", _ZERO_TEXT)]
        if "nonfinite" in scale.drawn:
            grad_cells += [_swatch(_NONFINITE, 3.5), _text_cell("nan/inf", _NONFINITE)]
    box_cells: list[str] = []
    if legend:
        box_cells.append(_text_cell("boxes"))
        names = _KIND_NAME if not collapsed else {
            "param": "layer with parameters", "value": "layer without parameters",
            "const": _INPUTS, "output": "holds the output"}
        for k in ("param", "value", "const", "output"):
            if k not in kinds:
                continue
            fill, border = _KIND_STYLE[k]
            span = ' COLSPAN="2"' if grad_cells else ""
            dash = ' STYLE="dashed"' if k == "const" else ' STYLE="rounded"'
            box_cells.append(f'<TD{span} BGCOLOR="{fill}" COLOR="{border}" BORDER="1"{dash}>'
                             f'{_font(_safe(names[k]), 10)}</TD>')
    columns = max(len(grad_cells), 1)
    rows = []
    if title:
        rows.append(f'<TR><TD ALIGN="LEFT" COLSPAN="{columns}">'
                    f'{_font(_safe(title, 120), 14, bold=True)}</TD></TR>')
    rows += [f"<TR>{''.join(cells)}</TR>" for cells in (grad_cells, box_cells) if cells]
    return ('<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="3" CELLPADDING="2">'
            + "".join(rows) + "</TABLE>>")


def _text_cell(text: str, color: str | None = None) -> str:
    return f'<TD ALIGN="LEFT">{_font(_safe(text, 120), 10, color)}</TD>'


def _swatch(color: str, width: float, dashed: bool = False) -> str:
    """A short bar as thick as an edge of that width: the legend's sample line."""
    h = max(1, round(width))
    if dashed:   # three dashes, like the edge
        bars = "".join(f'<TD BGCOLOR="{color}" WIDTH="6" HEIGHT="{h}" FIXEDSIZE="TRUE"></TD>'
                       + ('<TD WIDTH="4" HEIGHT="1" FIXEDSIZE="TRUE"></TD>' if i < 2 else "")
                       for i in range(3))
    else:
        bars = f'<TD BGCOLOR="{color}" WIDTH="26" HEIGHT="{h}" FIXEDSIZE="TRUE"></TD>'
    return (f'<TD VALIGN="MIDDLE" ALIGN="RIGHT"><TABLE BORDER="0" CELLPADDING="0" CELLSPACING="0">'
            f'<TR>{bars}</TR></TABLE></TD>')


def _check_writable(path: str) -> None:
    """Fail before rendering, with the path in the message, when the file cannot be written."""
    parent = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise IsADirectoryError(21, f"draw: {path!r} is a directory; pass a file path such as "
                                    f"{os.path.join(path, 'graph.svg')!r}")
    if not os.path.isdir(parent):
        raise FileNotFoundError(2, f"draw: cannot write {path!r}: the directory {parent!r} "
                                   f"does not exist")
    if not os.access(parent, os.W_OK) or (os.path.exists(path) and not os.access(path, os.W_OK)):
        raise PermissionError(13, f"draw: cannot write {path!r}: permission denied")


