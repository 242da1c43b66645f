"""Gradients path by path (`path_grad`, reusing nothing) against the memo (`backprop_cost`).

d(output)/d(w) is a sum, over every path from the output down to w, of the product of the
local derivatives along it; backprop stores each node's gradient once instead."""
from __future__ import annotations

import numbers
from typing import Any, Iterable

from ..core.engine import Node, backprop, check_inputs, local_grad, toposort
from ..core.tensor import Tensor
from .fibonacci import big


DEFAULT_MAX_PATHS = 100_000
"""`path_grad` refuses graphs with more paths than this unless given a larger max_paths."""


class TooManyPathsError(ValueError):
    """`path_grad` was asked to enumerate more paths than its ``max_paths``."""

    def __init__(self, paths: int, max_paths: int) -> None:
        self.paths, self.max_paths = paths, max_paths
        super().__init__(
            f"path_grad: {big(paths)} paths lead from the output to wrt, more than "
            f"max_paths={big(max_paths)}; pass a larger max_paths to enumerate them anyway, "
            f"or use backward(), which evaluates one local derivative per edge")


def _targets(output: Any, wrt: Any, who: str) -> list[Node]:
    """Check ``output`` and ``wrt`` the way `grad` does; wrt as a list."""
    if not isinstance(output, Node):
        raise TypeError(f"{who}: output is {type(output).__name__}, expected a Value or Tensor")
    if isinstance(output, Tensor):
        if not output.requires_grad:
            raise ValueError(f"{who}: the output does not require grad, so it has no graph "
                             "(create its inputs with requires_grad=True)")
        if output.size != 1:
            raise ValueError(f"{who}: the output must have one element, got shape "
                             f"{output.shape}; reduce it first (e.g. .sum())")
    return check_inputs(wrt, who, "wrt")


def _seed(output: Node) -> Any:
    """d(output)/d(output): 1.0 for a Value, ones for a one-element Tensor."""
    return output._seed(None, False)


def count_paths(output: Node, wrt: Node | Iterable[Node]) -> int:
    """The number of paths from ``output`` down to the nodes of ``wrt`` (summed over wrt).

    Counted by memoization, not by enumeration: ``paths[node]`` is the number of paths from
    the output to ``node``, and in reverse topological order each node hands its finished
    count to its inputs once. This is the memo loop of `engine.backprop` with every local
    derivative replaced by 1, so it takes one step per edge even when the count is 2**1000.
    """
    targets = set(_targets(output, wrt, "count_paths"))
    paths: dict[Node, int] = {output: 1}
    for node in reversed(toposort(output)):
        n = paths[node]                  # final: every path into node has been counted
        for parent in node._inputs:
            if parent.requires_grad:
                paths[parent] = paths.get(parent, 0) + n
    return sum(paths.get(t, 0) for t in targets)


def path_grad(output: Node, wrt: Node | Iterable[Node],
              max_paths: int = DEFAULT_MAX_PATHS) -> tuple[list[Any], int]:
    """Gradients of ``output`` for each node of ``wrt`` by the chain rule, path by path.

    d(output)/d(w) = sum over paths output -> ... -> w of the product of the local
    derivatives along the path. Every path is walked and its product recomputed from the
    output down; nothing is stored or reused between paths. That is the foil of
    ``.backward()``: the same sum, exponentially many terms. Returns ``(grads,
    local_derivative_evaluations)``; grads agree with ``.backward()`` up to rounding.

    First the paths are counted with `count_paths` (itself a memoized pass, one step per
    edge), and more than ``max_paths`` raises `TooManyPathsError` before any work.
    Tensor graphs work too: along a path the local Jacobians are applied as a chain of
    vector-Jacobian products. Iterative, so deep graphs need no recursion.
    """
    items = _targets(output, wrt, "path_grad")
    if isinstance(max_paths, bool) or not isinstance(max_paths, numbers.Integral) \
            or max_paths < 0:
        raise ValueError(f"path_grad: max_paths must be a non-negative integer, got {max_paths!r}")
    n_paths = count_paths(output, items)
    if n_paths > max_paths:
        raise TooManyPathsError(n_paths, max_paths)
    targets = set(items)
    # Only walk into nodes from which some target can be reached (inputs first in toposort).
    leads: set[Node] = set()
    for node in toposort(output):
        if node in targets or any(p in leads for p in node._inputs):
            leads.add(node)

    seed = _seed(output)
    grads: dict[Node, Any] = {}
    evaluations = 0
    path: list[tuple[Node, int]] = []         # the current path, as (node, input index) edges
    stack: list[tuple[Node, int, Any]] = [(output, 0, None)]   # (node, its depth, edge into it)
    while stack:
        node, depth, edge = stack.pop()
        if edge is not None:
            del path[depth - 1:]
            path.append(edge)
        if node in targets:                   # one complete path: its product, from scratch
            g = seed
            for child, i in path:
                g = local_grad(child, i, g)
            evaluations += len(path)
            grads[node] = g if node not in grads else grads[node] + g
        for i, parent in enumerate(node._inputs):
            if parent.requires_grad and parent in leads:
                stack.append((parent, depth + 1, (node, i)))
    return [grads[x] if x in grads else x._zero_grad_like(False) for x in items], evaluations


def backprop_cost(output: Node) -> int:
    """Local-derivative evaluations that memoized backward performs: one per edge.

    Counted by the engine during a real backward pass (`engine.backprop` with ``stats``),
    which leaves every ``.grad`` untouched.
    """
    _targets(output, (), "backprop_cost")
    stats: dict[str, int] = {}
    backprop(output, _seed(output), accumulate=False, stats=stats)
    return stats["evaluations"]


def _nbytes(g: Any) -> int:
    """Bytes of one stored gradient: 8 for a Python float (a C double), .nbytes for arrays."""
    return int(getattr(g, "nbytes", 8))


def memo_bytes(output: Node) -> int:
    """Bytes of gradient the memo stores in a backward pass: one gradient per node.

    Measured on a real backward (the gradients of every node, as the engine computes them),
    counting the numbers themselves: 8 bytes per scalar, ``nbytes`` per array. (The engine
    drops an entry once it has been passed on, so the memo's peak is lower; CPython adds
    its own object and dict overhead on top.)
    """
    _targets(output, (), "memo_bytes")
    nodes = toposort(output)
    found = backprop(output, _seed(output), accumulate=False, wanted=nodes)
    return sum(_nbytes(g) for g in found.values())
