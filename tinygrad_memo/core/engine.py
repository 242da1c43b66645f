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

import numpy as np

from .hooks import HOOKS, RemovableHandle, register as _register_hook, run_hooks


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

    # What backward() and grad() do with the graph when retain_graph is not given. True
    # keeps it (micrograd): it can be drawn, walked by memo.path_grad, differentiated again.
    # False (PyTorch): each node lets go of its inputs once its gradient is passed on, so
    # activations are released during backward and a second pass raises GraphFreedError.
    # create_graph=True always keeps the graph (the new gradients refer to it).
    retains_graph: bool = True

    @property
    def is_leaf(self) -> bool:
        return self._op is None

    def backward(self, grad: Any = None, create_graph: bool = False,
                 retain_graph: bool | None = None) -> None:
        """Add d(self)/d(node) into ``.grad`` of every node self depends on (see `backprop`).

        ``retain_graph=False`` frees the graph on the way; the default is the node type's
        ``retains_graph`` (Value: keep, as micrograd does; Tensor: free, as PyTorch does).
        """
        backprop(self, self._seed(grad, create_graph), create_graph,
                 retain_graph=self.retains_graph if retain_graph is None else retain_graph)

    def register_hook(self, hook: Callable[[Any], Any]) -> RemovableHandle:
        """Call ``hook(grad)`` with this node's final gradient in every backward pass; a
        non-None return replaces it, for ``.grad`` and for everything below this node.
        Returns a handle whose ``.remove()`` unregisters the hook."""
        return _register_hook(self, hook)


class GraphFreedError(RuntimeError):
    """Backward (or a walk) reached a part of a graph that an earlier backward freed."""


class _Freed:
    """A node's ``_parents`` after backward has freed them: any walk through it raises."""

    __slots__ = ()

    def _raise(self, *args: Any) -> Any:
        raise GraphFreedError(
            "Trying to backward through the graph a second time (or to walk a graph after "
            "backward freed it): backward() and grad() free each node's inputs once its "
            "gradient has been passed on, to save memory, when retain_graph=False. Pass "
            "retain_graph=True to the first backward()/grad() to keep the graph for a second "
            "pass or for drawing it.")

    __iter__ = __len__ = __getitem__ = _raise

    def __repr__(self) -> str:
        return "<inputs freed by backward>"


FREED = _Freed()


class _GradMode:
    """Whether ops record a graph; `no_grad` switches it off, op constructors read it.
    ``anomaly``: `detect_anomaly` is on (constructors record their stack, backward checks)."""

    def __init__(self) -> None:
        self.enabled, self.anomaly = True, False  # instance attributes: the fastest lookup


grad_mode = _GradMode()


class ModeSwitch:
    """Context manager (and decorator) that sets one `grad_mode` flag while it is active."""

    flag: str
    value: bool

    def __enter__(self) -> "ModeSwitch":
        self._prev = getattr(grad_mode, self.flag)
        setattr(grad_mode, self.flag, self.value)
        return self

    def __exit__(self, *exc: Any) -> None:
        setattr(grad_mode, self.flag, self._prev)

    def __call__(self, fn: Callable) -> Callable:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with type(self)():
                return fn(*args, **kwargs)
        wrapper.__wrapped__ = fn  # type: ignore[attr-defined]
        return wrapper


class no_grad(ModeSwitch):
    """Context manager (and decorator): nothing computed inside records a graph."""

    flag, value = "enabled", False


def toposort(root: Node) -> list[Node]:
    """Every node `root` depends on (through nodes that need a gradient), inputs first.

    Iterative depth-first search, so a million-deep chain needs no recursion. A node is
    expanded the first time it is popped; the ``None`` pushed above it marks "all of the
    node's inputs are done", and only then is the node appended. A leaf has no inputs, so
    it is appended as soon as it is reached.
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
                    if parent._op is None:  # a leaf has no inputs: it is done at once
                        visit(parent)
                        done(parent)
                    else:
                        push(parent)
    return order


def backprop(root: Node, seed: Any, create_graph: bool = False,
             wanted: Sequence[Node] = (), accumulate: bool = True,
             stats: dict[str, int] | None = None, retain_graph: bool = True,
             observer: Any = None) -> dict[Node, Any]:
    """The memo loop: d(root)/d(node) for every node below root, each computed once.

    ``memo[node]`` gathers the gradient arriving along every path through ``node``. Walking
    the nodes in reverse topological order guarantees that when a node is reached all paths
    into it have been summed, so its gradient is final and is passed on to its inputs once
    (one vjp per edge), then dropped. With ``accumulate`` the final gradient is added into
    ``.grad`` of every node that keeps one; the gradients of ``wanted`` nodes are returned.
    ``stats``, if given, receives the number of nodes and of local derivatives evaluated.

    Without ``retain_graph`` (and ``create_graph``) each node also lets go of its inputs
    once it has passed its gradient on, and is dropped from ``order``: what is no longer
    needed dies during backward, so memory shrinks to the frontier still to be processed.
    Hooks (`Node.register_hook`) see each final gradient; `detect_anomaly` checks each local.
    ``observer`` (e.g. `viz.animate`) watches the loop itself: ``observer.final(node, g)``
    when a node's gradient is final, ``observer.edge(node, parent, local, total)`` after each
    local derivative is added into the memo (``total`` = ``memo[parent]`` so far).
    """
    memo: dict[Node, Any] = {root: seed}
    found: dict[Node, Any] = {}
    keep = set(wanted)
    adopted = {id(seed)}  # arrays .grad may not take over: the caller's seed, those already taken
    order = toposort(root)
    n_nodes = len(order)
    free = not (retain_graph or create_graph)
    hooked = bool(HOOKS)  # looked at once per backward: no hooks, no per-node cost
    check = None
    if grad_mode.anomaly:
        from .anomaly import check_gradient as check
    evaluations = 0
    for node in _drain(order) if free else reversed(order):  # reverse topological order
        g = memo.pop(node, None)
        if g is None:  # no path carried a gradient here (e.g. only through integer indices)
            continue
        if hooked:
            g = run_hooks(node, g)
        if observer is not None:
            observer.final(node, g)
        if keep and node in keep:
            found[node] = g
        if accumulate and node._keeps_grad:
            prev = node.grad
            if prev is None:  # a Tensor's first gradient: an array of its own, writable (an
                node.grad = _own(g, node, adopted)  # op may give one array to several inputs)
            else:
                node.grad = prev + g
        op = node._op
        if op is None:
            continue
        parents, ctx, vjps = node._parents, node._ctx, op.vjps
        if free:
            node._parents, node._ctx = FREED, None
        out = node if create_graph else node.data
        if len(parents) == 2 and check is None and observer is None:  # a binary op: the loop below, unrolled
            a, b = parents                       # (no zip, no list, no *args: the hot path)
            x, y = (a, b) if create_graph else (a.data, b.data)
            if a.requires_grad:
                local = vjps[0](g, out, ctx, x, y)
                evaluations += 1
                prev = memo.get(a)
                memo[a] = local if prev is None else prev + local
            if b.requires_grad:
                local = vjps[1](g, out, ctx, x, y)
                evaluations += 1
                prev = memo.get(b)
                memo[b] = local if prev is None else prev + local
            continue
        inputs = parents if create_graph else [p.data for p in parents]
        for parent, vjp in zip(parents, vjps):
            if parent.requires_grad:
                local = vjp(g, out, ctx, *inputs)
                if check is not None:
                    check(local, node, vjp, parents)
                evaluations += 1
                prev = memo.get(parent)
                memo[parent] = local if prev is None else prev + local
                if observer is not None:
                    observer.edge(node, parent, local, memo[parent])
    if stats is not None:
        stats.update(nodes=n_nodes, evaluations=evaluations)
    return found


def _own(g: Any, node: Node, adopted: set[int]) -> Any:
    """``g`` as an array that ``node.grad`` alone owns, writable, in ``node``'s dtype.

    A fresh result of a vjp is taken over as it is (no copy); a view, a read-only array,
    one of another dtype, or one that another ``.grad`` (or the caller) already holds is
    copied. A node gradient (``create_graph``) is kept as it is.
    """
    if isinstance(g, Node):
        return g
    if (g.__class__ is np.ndarray and g.base is None and g.flags.writeable
            and g.dtype is node.data.dtype and id(g) not in adopted):
        adopted.add(id(g))
        return g
    return np.array(g, dtype=node.data.dtype)


def _drain(order: list[Node]) -> Iterable[Node]:
    """``reversed(order)``, but each node leaves the list as it is yielded: once backward
    has freed it, nothing holds it any more and it dies at once (not at the end)."""
    pop = order.pop
    while order:
        yield pop()


def check_inputs(inputs: Node | Iterable[Node], who: str = "grad",
                 name: str = "inputs") -> list[Node]:
    """The nodes to differentiate with respect to, as a list, each one able to receive a
    gradient; errors start with ``who`` and call the argument ``name``."""
    items = [inputs] if isinstance(inputs, Node) else list(inputs)
    for i, x in enumerate(items):
        if not isinstance(x, Node):
            raise TypeError(f"{who}: {name}[{i}] is {type(x).__name__}, expected a Value or Tensor")
        if not x.requires_grad:
            raise ValueError(f"{who}: {name}[{i}] does not require grad, so no gradient flows "
                             "to it; create it with requires_grad=True")
    return items


def grad(output: Node, inputs: Node | Iterable[Node], grad_output: Any = None,
         create_graph: bool = False, retain_graph: bool | None = None) -> list[Any]:
    """Gradients of ``output`` with respect to each of ``inputs``; no ``.grad`` is touched.

    With ``create_graph=True`` the gradients are nodes with their own graph, so they can be
    differentiated again (second derivatives, Hessian-vector products).
    An input that ``output`` does not depend on gets a zero gradient. ``retain_graph=False``
    frees the graph on the way (default: the output type's ``retains_graph``).
    """
    if not isinstance(output, Node):
        raise TypeError(f"grad: output is {type(output).__name__}, expected a Value or Tensor")
    items = check_inputs(inputs)
    seed = output._seed(grad_output, create_graph)
    found = backprop(output, seed, create_graph, items, accumulate=False,
                     retain_graph=output.retains_graph if retain_graph is None else retain_graph)
    return [found[x] if x in found else x._zero_grad_like(create_graph) for x in items]
