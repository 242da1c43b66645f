"""The collapsed view (``group_by="layer"``): one box per module/layer, found from the
parameters' labels (``layers.0.weight`` -> ``layers.0``), edges carrying the total gradient
between layers. Made for scalar MLPs over a batch (tens of thousands of nodes)."""
from __future__ import annotations

import math
from collections import Counter
from typing import Callable

import graphviz
import numpy as np

from ..core.engine import Node
from .style import (_KIND_STYLE, _NONFINITE, _Scale, _ZERO_TEXT, _edge_label, _font, _safe, fmt,
                    size_of)
from .flow import GraphTooLargeError, _Flow, _data_text, _requires_grad, layer_of


GroupBy = None | str | Callable[[Node], str | None]

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


def _collapsed(graph: graphviz.Digraph, flow: _Flow, key: Callable[[Node], str | None],
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
    if any(n is flow.root for n in nodes):  # (`in` would compare tensors elementwise)
        return "output"
    if name == _INPUTS:
        return "const"
    return "param" if any(n._fn is None and _requires_grad(n) for n in nodes) else "value"


def _group_label(flow: _Flow, name: str, nodes: list[Node]) -> str:
    """A group's box: its name, what it holds, and its gradient health."""
    leaves = [n for n in nodes if n._fn is None]
    params = [n for n in leaves if _requires_grad(n)]
    ops = Counter(n._fn.name for n in nodes if n._fn is not None)
    has_root = any(n is flow.root for n in nodes)
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
