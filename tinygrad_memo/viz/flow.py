"""What a picture shows: the nodes below a root, their gradients (computed with the engine's own
memo loop, so the picture is truthful whatever ``.grad`` holds), and each value's label."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..core import engine
from ..core.engine import Node, toposort
from .style import _KIND_STYLE, _NONFINITE, _OP_SYMBOL, _ZERO_TEXT, _font, _safe, fmt, size_of


#: The full view's default limit: past a few hundred boxes a picture is no longer readable.
DEFAULT_MAX_NODES = 250


class GraphTooLargeError(ValueError):
    """The full view would have more boxes than ``max_nodes``: say what to do instead."""

    def __init__(self, message: str, count: int, limit: int) -> None:
        super().__init__(message)
        self.count, self.limit = count, limit


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
                for i, p in enumerate(node._inputs):
                    if _requires_grad(p):
                        self.edges[(node, i)] = size_of(engine.local_grad(node, i, g))

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
