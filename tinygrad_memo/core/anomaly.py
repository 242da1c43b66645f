"""Anomaly mode: when backward makes a NaN or an inf, say which op, which shapes, and where.

Why a mode: finding where a NaN was born needs two things that cost time on every op, the
user's stack when each node is made and a finiteness test on every local gradient. Inside
``with detect_anomaly():`` both are on: the block installs `CHECKER` as the thread's
``grad_mode.anomaly``, which `engine.apply` (``record``) and backward (``check``)
call. Outside, they test one field and nothing is recorded. The engine never imports this
module: it only calls what the grad mode holds.

The stacks live in a side table keyed by ``id(node)`` (a slot would cost every node 8
bytes); an entry is dropped when its node dies.
"""
from __future__ import annotations

import math
import os
import sys
import traceback
import weakref
from typing import Any

import numpy as np

from .engine import Node
from .modes import ModeSwitch, grad_mode

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep

# id(node) -> (weak reference that drops the entry on death, the stack at creation)
_CREATED: dict[int, tuple[weakref.ref, traceback.StackSummary]] = {}


class AnomalyError(RuntimeError):
    """A backward pass produced a NaN or an infinity (raised only under `detect_anomaly`)."""


class detect_anomaly(ModeSwitch):
    """Context manager (and decorator): check every gradient for NaN/inf while backward runs.

    Nodes made inside the block remember where in your code they were made, so the error
    can point there. Run both the forward and the backward inside the block::

        with detect_anomaly():
            loss = model(x).log().sum()
            loss.backward()       # AnomalyError: the backward of 'mul' produced nan ...
    """

    field = "anomaly"

    def value(self) -> "_Checker":
        return CHECKER


def is_anomaly_enabled() -> bool:
    """Whether `detect_anomaly` is on in this thread."""
    return grad_mode.anomaly is not None


def record_creation(node: Node) -> None:
    """Remember the stack that made ``node`` (called by the node constructors in anomaly mode)."""
    key = id(node)
    frame = sys._getframe(1)
    stack = traceback.StackSummary.extract(traceback.walk_stack(frame), limit=40,
                                           lookup_lines=False)
    stack.reverse()  # most recent call last, like a traceback
    def forget(_: weakref.ref) -> None:
        _CREATED.pop(key, None)
    _CREATED[key] = (weakref.ref(node, forget), stack)


def creation_site(node: Node) -> str:
    """Where in the user's code ``node`` was made, as traceback lines (most recent last)."""
    entry = _CREATED.get(id(node))
    if entry is None or entry[0]() is not node:
        return ("    (not recorded: the node was made outside detect_anomaly(); "
                "run the forward pass inside the block too)")
    frames = [f for f in entry[1] if not os.path.abspath(f.filename).startswith(_PACKAGE_DIR)]
    frames = frames[-4:] or list(entry[1])[-4:]
    text = "".join(traceback.StackSummary.from_list(frames).format()).rstrip()
    return "\n".join("  " + line for line in text.splitlines())


def _finite(x: Any) -> bool:
    if isinstance(x, Node):
        x = x.data
    if x.__class__ is float or isinstance(x, (int, float)):
        return math.isfinite(x)
    return bool(np.isfinite(x).all())


def _bad(x: Any) -> str:
    """'nan', 'inf' or 'nan and inf': what non-finite numbers ``x`` holds."""
    a = np.asarray(x.data if isinstance(x, Node) else x, dtype=float)
    kinds = [k for k, test in (("nan", np.isnan), ("inf", np.isinf)) if test(a).any()]
    return " and ".join(kinds) or "non-finite values"


def _shape(x: Any) -> str:
    shape = tuple(getattr(x, "shape", ()))
    return "scalar" if not shape else f"shape {shape}"


def check_gradient(local: Any, node: Node, i: int, parents: tuple) -> None:
    """Raise `AnomalyError` if the local gradient that ``node`` sends to its ``i``-th input
    is not finite. (``parents`` is passed because backward may have cut ``node._inputs``.)"""
    if _finite(local):
        return
    op = node._fn
    assert op is not None  # only a node made by an op has a backward
    inputs = ", ".join(_shape(p) for p in parents)
    lines = [
        f"detect_anomaly: the backward of '{op.name}' produced {_bad(local)} in the gradient "
        f"for its input {i} ({_shape(parents[i])}).",
        f"  '{op.name}' maps inputs ({inputs}) to an output of {_shape(node)}.",
        f"  The '{op.name}' node was made at (most recent call last):",
        creation_site(node),
    ]
    origin, origin_inputs = _forward_origin(node, parents)
    if origin is None:
        lines.append("  Every forward value below it is finite: the derivative itself is "
                     "infinite or undefined there (e.g. sqrt or log at 0, or an overflow).")
    elif origin._fn is None:
        lines.append(f"  In the forward pass an input ({_shape(origin)}) already holds "
                     f"{_bad(origin.data)}.")
    else:
        ins = ", ".join(_shape(p) for p in origin_inputs)
        here = " (this very node)" if origin is node else ""
        lines.append(f"  In the forward pass, {_bad(origin.data)} first appears{here} where "
                     f"'{origin._fn.name}' maps finite inputs ({ins}) to an output of "
                     f"{_shape(origin)}; that node was made at:")
        lines.append(creation_site(origin))
    raise AnomalyError("\n".join(lines))


def _forward_origin(node: Node, parents: tuple) -> tuple[Node | None, tuple]:
    """The first node (inputs first) at or below ``node`` whose forward value is not finite
    although all of its own inputs are: where the NaN or inf was born; with its inputs.
    (``parents`` is passed because backward may already have cut ``node._inputs``.)"""
    found = _first_nonfinite(parents)
    if found[0] is None and not _finite(node.data) and all(_finite(p.data) for p in parents):
        return node, parents
    return found


def _first_nonfinite(parents: tuple) -> tuple[Node | None, tuple]:
    seen: set[int] = set()
    order: list[Node] = []
    stack: list[Any] = list(parents)
    while stack:  # iterative post-order, as engine.toposort
        node = stack.pop()
        if node is None:
            order.append(stack.pop())
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack += [node, None]
        try:
            stack += [p for p in node._inputs if id(p) not in seen]
        except RuntimeError:  # a part freed by an earlier backward: stop there
            pass
    for node in order:
        if _finite(node.data):
            continue
        try:
            ins = tuple(node._inputs)
        except RuntimeError:
            continue
        if all(_finite(p.data) for p in ins):
            return node, ins
    return None, ()


class _Checker:
    """What `detect_anomaly` installs on the grad mode: ``record`` for each node `apply`
    makes, and a watcher of the memo loop (``final``, ``edge``) that checks each local."""

    __slots__ = ()
    record = staticmethod(record_creation)

    def final(self, node: Node, g: Any) -> None:
        pass

    def edge(self, node: Node, i: int, inputs: tuple, local: Any, total: Any) -> None:
        check_gradient(local, node, i, inputs)


CHECKER = _Checker()
