"""The picture: `to_dot` turns the flow below a root into a Graphviz graph (full view or
collapsed by layer, with a legend); `draw` writes it; `GradientGraph` renders itself without
a system Graphviz. The package docstring (`tinygrad_memo.viz`) says why and how to read it."""
from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterable

import graphviz
import numpy as np

from ..core import engine
from ..core.engine import Node
from .style import (_FONT, _KIND_NAME, _KIND_STYLE, _NONFINITE, _SVG_FONTS, _Scale, _ZERO,
                    _ZERO_TEXT, _font, _safe, _swatch, _text_cell, size_of)
from .flow import DEFAULT_MAX_NODES, _Flow, _bad_count, _op_text, _requires_grad, _value_label
from .layers import GroupBy, _INPUTS, _collapsed, _group_function


#: Output formats `draw` accepts ("dot" is the Graphviz source itself, no rendering).
SUPPORTED_FORMATS: tuple[str, ...] = ("svg", "png", "pdf", "dot")


RANKDIRS = ("LR", "TB", "RL", "BT")




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
