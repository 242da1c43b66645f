"""The one reverse-mode engine shared by `Value` and `Tensor`.

Backpropagation is memoization: the gradient of the output with respect to a node is the
sum, over every path from the output down to that node, of the product of the local
derivatives along the path. Instead of enumerating paths (exponential in depth, see
`tinygrad_memo.memo.path_grad`), `backprop` stores each node's gradient once in `memo`,
finishes it before it is used, and hands it to the node's inputs once: one local derivative
per edge of the graph.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable, Sequence


class Op:
    """A primitive: its forward on raw numbers and one vector-Jacobian product per input.

    ``vjps[i](g, out, ctx, *inputs)`` is g times d(out)/d(inputs[i]). It is written with
    operators both raw data and nodes understand, so it runs on floats/arrays (fast path)
    or on nodes (``create_graph=True``: the gradient itself becomes differentiable).
    """

    __slots__ = ("name", "scalar", "array", "vjps")

    def __init__(self, name: str, vjps: tuple[Callable, ...], scalar: Callable | None = None,
                 array: Callable | None = None) -> None:
        self.name, self.vjps, self.scalar, self.array = name, vjps, scalar, array

    def __repr__(self) -> str:
        return f"Op({self.name})"


class Node:
    """What the engine needs of a graph node: data, grad, and how it was made.

    ``_op`` and ``_parents`` record the forward (None and () for a leaf), ``_ctx`` holds the
    op's non-node arguments (an exponent, an axis). Nodes never refer to themselves, so a
    dropped graph is freed by reference counting, with no work for the cycle collector.
    """

    __slots__ = ("data", "grad", "_op", "_parents", "_ctx", "label", "__weakref__")

    @property
    def is_leaf(self) -> bool:
        return self._op is None

    def backward(self, grad: Any = None, create_graph: bool = False) -> None:
        """Add d(self)/d(node) into ``.grad`` of every node self depends on (see `backprop`)."""
        backprop(self, self._seed(grad, create_graph), create_graph)


class _GradMode:
    """Whether ops record a graph; `no_grad` switches it off, op constructors read it."""

    enabled = True


grad_mode = _GradMode()


class no_grad:
    """Context manager (and decorator): nothing computed inside records a graph."""

    def __enter__(self) -> None:
        self._prev = grad_mode.enabled
        grad_mode.enabled = False

    def __exit__(self, *exc: Any) -> None:
        grad_mode.enabled = self._prev

    def __call__(self, fn: Callable) -> Callable:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with no_grad():
                return fn(*args, **kwargs)
        wrapper.__wrapped__ = fn  # type: ignore[attr-defined]
        return wrapper


def toposort(root: Node) -> list[Node]:
    """Every node `root` depends on (through nodes that need a gradient), inputs first.

    Iterative depth-first search, so a million-deep chain needs no recursion. A node is
    expanded the first time it is popped; the ``None`` pushed above it marks "all of the
    node's inputs are done", and only then is the node appended.
    """
    order: list[Node] = []
    seen: set[Node] = set()
    stack: list[Any] = [root]
    push, pop, visit, done = stack.append, stack.pop, seen.add, order.append
    while stack:
        node = pop()
        if node is None:
            done(pop())
        elif node not in seen:
            visit(node)
            push(node)
            push(None)
            for parent in node._parents:
                if parent not in seen and parent.requires_grad:
                    push(parent)
    return order


def backprop(root: Node, seed: Any, create_graph: bool = False,
             wanted: Sequence[Node] = (), accumulate: bool = True,
             stats: dict[str, int] | None = None) -> dict[Node, Any]:
    """The memo loop: d(root)/d(node) for every node below root, each computed once.

    ``memo[node]`` gathers the gradient arriving along every path through ``node``. Walking
    the nodes in reverse topological order guarantees that when a node is reached all paths
    into it have been summed, so its gradient is final and is passed on to its inputs once
    (one vjp per edge), then dropped. With ``accumulate`` the final gradient is added into
    ``.grad`` of every node that keeps one; the gradients of ``wanted`` nodes are returned.
    ``stats``, if given, receives the number of nodes and of local derivatives evaluated.
    """
    memo: dict[Node, Any] = {root: seed}
    found: dict[Node, Any] = {}
    keep = set(wanted)
    order = toposort(root)
    evaluations = 0
    for node in reversed(order):
        g = memo.pop(node, None)
        if g is None:  # no path carried a gradient here (e.g. only through integer indices)
            continue
        if keep and node in keep:
            found[node] = g
        if accumulate and node._keeps_grad:
            prev = node.grad
            node.grad = g if prev is None else prev + g
        op = node._op
        if op is None:
            continue
        parents = node._parents
        if create_graph:
            out, inputs = node, parents
        else:
            out, inputs = node.data, [p.data for p in parents]
        ctx = node._ctx
        for parent, vjp in zip(parents, op.vjps):
            if parent.requires_grad:
                local = vjp(g, out, ctx, *inputs)
                evaluations += 1
                prev = memo.get(parent)
                memo[parent] = local if prev is None else prev + local
    if stats is not None:
        stats.update(nodes=len(order), evaluations=evaluations)
    return found


def check_inputs(inputs: Node | Iterable[Node]) -> list[Node]:
    """`grad`'s inputs as a list, each one a node that can receive a gradient."""
    items = [inputs] if isinstance(inputs, Node) else list(inputs)
    for i, x in enumerate(items):
        if not isinstance(x, Node):
            raise TypeError(f"grad: inputs[{i}] is {type(x).__name__}, expected a Value or Tensor")
        if not x.requires_grad:
            raise ValueError(f"grad: inputs[{i}] does not require grad, so no gradient flows to it;"
                             " create it with requires_grad=True")
    return items


def grad(output: Node, inputs: Node | Iterable[Node], grad_output: Any = None,
         create_graph: bool = False) -> list[Any]:
    """Gradients of ``output`` with respect to each of ``inputs``; no ``.grad`` is touched.

    With ``create_graph=True`` the gradients are nodes with their own graph, so they can be
    differentiated again (second derivatives, Hessian-vector products).
    An input that ``output`` does not depend on gets a zero gradient.
    """
    if not isinstance(output, Node):
        raise TypeError(f"grad: output is {type(output).__name__}, expected a Value or Tensor")
    items = check_inputs(inputs)
    seed = output._seed(grad_output, create_graph)
    found = backprop(output, seed, create_graph, items, accumulate=False)
    return [found[x] if x in found else x._zero_grad_like(create_graph) for x in items]
