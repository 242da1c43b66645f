"""The one reverse-mode engine shared by `Value` and `Tensor`.

Backpropagation is memoization: the gradient of the output with respect to a node is the
sum, over every path from the output down to that node, of the product of the local
derivatives along the path. Instead of enumerating paths (exponential in depth, see
`tinygrad_memo.memo.path_grad`), `backprop` stores each node's gradient once in `memo`,
finishes it before it is used, and hands it to the node's inputs once: one local derivative
per edge of the graph.
"""
from __future__ import annotations

import weakref
from typing import Any, Callable, Iterable, Sequence, TypeVar

import numpy as np

from .broadcast import fit
from .hooks import RemovableHandle, register as _register_hook, run_hooks
from .modes import grad_mode, switches


class Op:
    """A primitive: its forward on raw data and one vector-Jacobian product per input.

    ``scalar(*xs)`` computes it on Python floats (for `Value`), ``array(*xs)`` on NumPy
    arrays (for `Tensor`); an op with parameters (an exponent, an axis) also receives them
    as one last argument, ``ctx``, which is never None for such an op. `apply` is the only
    caller of either. ``vjps[i](g, out, ctx, *xs)`` is g times d(out)/d(xs[i]), written as
    the math: where the op broadcast ``xs[i]`` (or computed in a wider dtype) the engine
    sums the result back to the input's shape and dtype (`broadcast.fit`). It uses operators that raw
    data and nodes share, so it runs on floats/arrays (fast path) or on nodes
    (``create_graph=True``: the gradient itself becomes differentiable).
    ``symbol`` is how micrograd prints the op (``Value._op``): '+', '*', 'ReLU', ...
    A two-input op without ctx has both vjps, even for an input that never needs a
    gradient (integer labels): the memo loop unpacks the pair.
    """

    __slots__ = ("name", "symbol", "scalar", "array", "vjps")
    scalar: Any  # a callable, or None if Value never runs the op
    array: Any   # a callable, or None if Tensor never runs it

    def __init__(self, name: str, vjps: tuple[Callable, ...], scalar: Callable | None = None,
                 array: Callable | None = None, symbol: str | None = None) -> None:
        self.name, self.vjps, self.scalar, self.array = name, vjps, scalar, array
        self.symbol = name if symbol is None else symbol

    def __repr__(self) -> str:
        return f"Op({self.name})"


N = TypeVar("N", bound="Node")  # Value or Tensor: apply returns a node of its inputs' type


def apply(op: Op, inputs: tuple[N, ...], ctx: Any = None) -> N:
    """Run ``op`` on ``inputs``: its forward on their raw data, then the result node.

    Where any op's forward runs, for both node types (`scalar_operator` is this function
    for Value's arithmetic operators, in one frame). A Value (the first
    input's type says which) runs ``op.scalar`` and records ``(op, inputs, ctx)`` always;
    a Tensor runs ``op.array`` and records only if an input requires a gradient. Under
    `no_grad` (``grad_mode.record`` false) nothing is recorded.

    Speed: this is the hot path of every scalar program, so the result node is built
    right here. Measured with callgrind on ``a + b`` of two Values (instructions per op):
    a separate constructor call per node type cost 6,116 against 4,355 for one frame.
    """
    node_type = inputs[0].__class__
    floats = node_type.holds_floats
    forward: Any = op.scalar if floats else op.array  # (None only if no method applies op here)
    n = len(inputs)
    if n == 2:
        x, y = inputs
        data = forward(x.data, y.data) if ctx is None else forward(x.data, y.data, ctx)
    elif n == 1:
        data = forward(inputs[0].data) if ctx is None else forward(inputs[0].data, ctx)
    else:
        datas = [x.data for x in inputs]
        data = forward(*datas) if ctx is None else forward(*datas, ctx)
    out: Any = _new(node_type)  # (filled in field by field below: Value's or Tensor's)
    out._hooks = None
    record = grad_mode.record if switches.count else True  # or False, or anomaly's checker
    if floats:  # a Value: a float, gradient 0.0 from the start, every input needs a gradient
        out.data, out.grad = data, 0.0
    else:  # a Tensor: an ndarray (NumPy returns scalars for 0-d results), no gradient yet
        out.data = data if data.__class__ is np.ndarray else np.asarray(data)
        out.grad, out._keeps_grad, out.requires_grad = None, False, False
        if record:
            for p in inputs:
                if p.requires_grad:
                    out.requires_grad = True
                    break
            else:  # no input needs a gradient: a constant (a tracer, jit's, still sees it)
                if record is not True and hasattr(record, "constant"):
                    record.constant(out, op, inputs, ctx)
                record = False
    if record:
        out._fn = op
        if n == 2 and ctx is None:  # a binary op: its inputs in the two slots (see Node)
            out._x, out._y = x, y
        else:
            out._x, out._y = inputs, ctx
        if record is not True:  # detect_anomaly(): remember where the node was made
            record.record(out)
    else:
        out._fn, out._x, out._y = None, (), None
    return out


_new = object.__new__


def scalar_operator(op: Op, lift: Callable[[Any], Any]) -> Callable[[Any, Any], Any]:
    """``apply(op, (x, y))`` for two Values, as the operator method itself (``Value.__add__``).

    ``x + y`` and ``x * y`` on Values are nearly every node of a scalar program, so their
    path is one Python frame, the operator's: it lifts a number on the other side with
    ``lift``, runs ``op.scalar`` and records the node as `apply` does. Measured on the
    moons forward (65,000 ops, gc off): 375 ns per op through ``Value.__add__`` -> `apply`,
    220 ns here (the grad mode read only while a switch is on: 20 ns of it); the moons
    step 97 -> 88 ms.
    """
    forward = op.scalar

    def method(x: Any, y: Any) -> Any:
        node_type = x.__class__
        if y.__class__ is not node_type:
            y = lift(y)
            if y is NotImplemented:
                return y
        out = _new(node_type)
        out.data = forward(x.data, y.data)
        out.grad, out._hooks = 0.0, None
        out._fn, out._x, out._y = op, x, y
        if switches.count:  # some thread is in a grad mode: this one may not record
            record = grad_mode.record
            if not record:  # no_grad(): a leaf
                out._fn, out._x, out._y = None, (), None
            elif record is not True:  # detect_anomaly() or jit's tracer
                record.record(out)
        return out

    method.__doc__ = f"{op.name} as an operator: x {op.symbol} y"
    return method


# Labels name a few nodes of a graph for drawings, so they live here, keyed by id(node),
# rather than in a slot that every node would pay 8 bytes for (a weak reference removes
# the entry when its node dies; a dict keyed by nodes would compare Tensors with ==).
_LABELS: dict[int, tuple[weakref.ref, str]] = {}


class Node:
    """What the engine needs of a graph node: data, grad, and how it was made.

    ``_fn`` is the op that made the node (None for a leaf); ``_x`` and ``_y`` hold what
    it was applied to, in one of two layouts:

    - a binary op without ctx (``+``, ``*``: nearly every node of a scalar program):
      ``_x`` and ``_y`` are its two inputs;
    - any other op, and a leaf: ``_x`` is the tuple of inputs (``()`` for a leaf) and
      ``_y`` the op's ctx (an exponent, an axis; None if it has none).

    Read them as ``_inputs`` and ``_ctx``. ``_hooks`` holds the node's gradient hooks
    (None: none). Nodes never refer to themselves, so a dropped graph is freed by
    reference counting, with no work for the cycle collector.

    Speed and size: a node is the one object per op that the cycle collector tracks (a
    tuple of inputs would be a second one), and has 7 slots (88 bytes). On micrograd's
    moons step this layout (against a tuple in ``_inputs`` and a ``label`` slot) measured
    (see docs/performance.md) 174 -> 113 bytes per node.
    """

    __slots__ = ("data", "grad", "_fn", "_x", "_y", "_hooks", "__weakref__")
    data: Any                   # a float (Value) or an ndarray (Tensor)
    grad: Any                   # d(output)/d(self) after backward: float, ndarray or None
    _fn: Op | None
    _x: Any                     # see the layouts above; FREED after backward let go of it
    _y: Any
    _hooks: list[Callable[[Any], Any]] | None
    requires_grad: bool         # Value: always True (class attribute); Tensor: a slot
    _keeps_grad: bool
    shape: Any

    holds_floats: bool = False  # True for Value: its ops run their scalar forward

    # What backward() and grad() do with the graph when retain_graph is not given. True
    # keeps it (micrograd): it can be drawn, walked by memo.path_grad, differentiated again.
    # False (PyTorch): each node lets go of its inputs once its gradient is passed on, so
    # activations are released during backward and a second pass raises GraphFreedError.
    # create_graph=True always keeps the graph (the new gradients refer to it).
    retains_graph: bool = True

    @property
    def is_leaf(self) -> bool:
        return self._fn is None

    @property
    def _inputs(self) -> Any:
        """The input nodes, as a tuple (FREED once backward has let go of them)."""
        x = self._x
        return x if x.__class__ is tuple or x is FREED else (x, self._y)

    @property
    def _ctx(self) -> Any:
        """The op's non-node arguments (None if it has none)."""
        return self._y if self._x.__class__ is tuple else None

    @property
    def label(self) -> str | None:
        """A name for drawings (``viz``); kept off the node, see `_LABELS`."""
        entry = _LABELS.get(id(self))
        return None if entry is None else entry[1]

    @label.setter
    def label(self, name: str | None) -> None:
        key = id(self)
        if name is None:
            _LABELS.pop(key, None)
        else:  # the entry goes when the node dies
            def forget(_: Any, key: int = key) -> None:
                _LABELS.pop(key, None)
            _LABELS[key] = (weakref.ref(self, forget), name)

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

    def _seed(self, grad: Any, create_graph: bool) -> Any:
        raise NotImplementedError

    def _zero_grad_like(self, create_graph: bool) -> Any:
        raise NotImplementedError


class GraphFreedError(RuntimeError):
    """Backward (or a walk) reached a part of a graph that an earlier backward freed."""


class _Freed:
    """A node's ``_inputs`` after backward has freed them: any walk through it raises."""

    __slots__ = ()

    def _raise(self, *args: Any) -> Any:
        raise GraphFreedError(
            "Trying to backward through the graph a second time (or to walk a graph after "
            "backward freed it): backward() and grad() free each node's inputs once its "
            "gradient has been passed on, to save memory, when retain_graph=False. Pass "
            "retain_graph=True to the first backward()/grad() to keep the graph for a second "
            "pass or for drawing it.")

    __iter__ = __len__ = __getitem__ = _raise

    def __getattr__(self, name: str) -> Any:  # a walk that takes it for an input node
        self._raise()

    def __repr__(self) -> str:
        return "<inputs freed by backward>"


FREED = _Freed()


def toposort(root: Node) -> list[Node]:
    """Every node `root` depends on (through nodes that need a gradient), inputs first.

    Iterative depth-first search, so a million-deep chain needs no recursion. A node is
    expanded the first time it is popped; the ``None`` pushed above it marks "all of the
    node's inputs are done", and only then is the node appended. A leaf has no inputs, so
    it is appended as soon as it is reached.

    In a Value graph every node requires a gradient (``values``): not asking saves a
    class-attribute lookup per edge (callgrind, the moons graph: 175M -> 165M).
    """
    order: list[Node] = []
    seen: set[Node] = set()
    stack: list[Any] = [root]
    values = root.holds_floats
    while stack:
        node = stack.pop()
        if node is None:
            order.append(stack.pop())
        elif node not in seen:
            seen.add(node)
            stack.append(node)
            stack.append(None)
            x = node._x
            if x.__class__ is tuple:
                for parent in x:
                    if parent not in seen and (values or parent.requires_grad):
                        if parent._fn is None:  # a leaf has no inputs: it is done at once
                            seen.add(parent)
                            order.append(parent)
                        else:
                            stack.append(parent)
                continue
            # A binary op: the loop above, unrolled for its two slots. Callgrind, the moons
            # graph: 214M instructions, 176M unrolled (and 220M with list.append, set.add
            # cached in locals: 3.11 specialises the direct calls).
            y = node._y
            if x not in seen and (values or x.requires_grad):
                if x._fn is None:
                    seen.add(x)
                    order.append(x)
                else:
                    stack.append(x)
            if y not in seen and (values or y.requires_grad):
                if y._fn is None:
                    seen.add(y)
                    order.append(y)
                else:
                    stack.append(y)
    return order


def backprop(root: Node, seed: Any, create_graph: bool = False,
             wanted: Sequence[Node] = (), accumulate: bool = True,
             stats: dict[str, int] | None = None, retain_graph: bool = True,
             observer: Any = None, mute: Iterable[Node] = ()) -> dict[Node, Any]:
    """The memo loop: d(root)/d(node) for every node below root, each computed once.

    ``memo[node]`` gathers the gradient arriving along every path through ``node``. Walking
    the nodes in reverse topological order guarantees that when a node is reached all paths
    into it have been summed, so its gradient is final and is passed on to its inputs once
    (one vjp per edge), then dropped. With ``accumulate`` the final gradient is added into
    ``.grad`` of every node that keeps one; the gradients of ``wanted`` nodes are returned.

    Without ``retain_graph`` (and ``create_graph``) each node also lets go of its inputs
    once it has passed its gradient on, and is dropped from ``order``: what is no longer
    needed dies during backward, so memory shrinks to the frontier still to be processed.
    Hooks (`Node.register_hook`) see each final gradient (except those of ``mute`` nodes).

    What watches the loop: ``observer`` (e.g. `viz.animate`), `detect_anomaly`'s checker,
    and the counter behind ``stats`` (which receives the number of nodes and of local
    derivatives evaluated). Each has ``final(node, g)``, called when a node's gradient is
    final, and ``edge(node, i, inputs, local, total)``, called after the local derivative
    for the node's ``i``-th input is added into the memo (``total`` = its memo so far).
    """
    memo: dict[Node, Any] = {root: seed}
    found: dict[Node, Any] = {}
    keep = set(wanted)
    adopted = {id(seed)}  # arrays .grad may not take over: the caller's seed, those already taken
    order = toposort(root)
    n_nodes = len(order)
    free = not (retain_graph or create_graph)
    muted = set(mute)
    counter = None if stats is None else _Counter()
    watch = _watching(observer, grad_mode.anomaly, counter)
    # In a Value graph every node requires and keeps a gradient: not asking saves three
    # class-attribute lookups per node (callgrind, moons toposort + backward: 545M -> 506M).
    values = root.holds_floats
    fast = watch is None and not create_graph
    for node in _drain(order) if free else reversed(order):  # reverse topological order
        # (None: no path carried a gradient here, e.g. one only through integer indices)
        if (g := memo.pop(node, None)) is None:
            continue
        if node._hooks is not None and node not in muted:
            g = run_hooks(node, g)
        if watch is not None:
            watch.final(node, g)
        if keep and node in keep:
            found[node] = g
        if accumulate and (values or node._keeps_grad):
            node.grad = node.grad + g if values else _accumulated(node, g, adopted)
        if (op := node._fn) is None:  # a leaf: nothing below it
            continue
        a, b = node._x, node._y
        if free:
            node._x, node._y = FREED, None
        out = node if create_graph else node.data
        if fast and a.__class__ is not tuple:
            # A binary op when nothing watches and no graph is built: the loop below,
            # unrolled (no zip, no list, no *args; a Value's float needs no fit). Callgrind,
            # moons backward (65,818 nodes, toposort included): 486M instructions, 972M
            # without it; the 1,000-op Tensor chain of the bench: 3.4 ms, 4.1 ms without.
            x, y = a.data, b.data
            vjp_x, vjp_y = op.vjps
            if values or a.requires_grad:
                local = vjp_x(g, out, None, x, y)
                if not values:
                    local = fit(local, x, op, 0)
                prev = memo.get(a)
                memo[a] = local if prev is None else prev + local
            if values or b.requires_grad:
                local = vjp_y(g, out, None, x, y)
                if not values:
                    local = fit(local, y, op, 1)
                prev = memo.get(b)
                memo[b] = local if prev is None else prev + local
            continue
        inputs, ctx = (a, b) if a.__class__ is tuple else ((a, b), None)
        datas = inputs if create_graph else [p.data for p in inputs]
        for i, parent in enumerate(inputs):
            if values or parent.requires_grad:
                local = fit(op.vjps[i](g, out, ctx, *datas), parent.data, op, i)
                prev = memo.get(parent)
                memo[parent] = total = local if prev is None else prev + local
                if watch is not None:
                    watch.edge(node, i, inputs, local, total)
    if stats is not None and counter is not None:
        stats.update(nodes=n_nodes, evaluations=counter.evaluations)
    return found


class _Counter:
    """Counts the local derivatives the memo loop evaluates (for ``backprop(stats=...)``)."""

    def __init__(self) -> None:
        self.evaluations = 0

    def final(self, node: Node, g: Any) -> None:
        pass

    def edge(self, node: Node, i: int, inputs: tuple, local: Any, total: Any) -> None:
        self.evaluations += 1


class _All:
    """Several watchers of the memo loop as one, called in turn."""

    def __init__(self, watchers: list[Any]) -> None:
        self.watchers = watchers

    def final(self, node: Node, g: Any) -> None:
        for w in self.watchers:
            w.final(node, g)

    def edge(self, node: Node, i: int, inputs: tuple, local: Any, total: Any) -> None:
        for w in self.watchers:
            w.edge(node, i, inputs, local, total)


def _watching(*watchers: Any) -> Any:
    """What watches the memo loop, as one watcher (None if nothing does)."""
    present = [w for w in watchers if w is not None]
    return present[0] if len(present) == 1 else _All(present) if present else None


def local_grad(node: Node, i: int, g: Any) -> Any:
    """``g`` times d(node)/d(its ``i``-th input), one local derivative evaluated as the memo
    loop does (fitted to the input); for code that walks a graph itself (`memo.path_grad`,
    `viz`)."""
    op, inputs = node._fn, node._inputs
    assert op is not None  # only a node made by an op has local derivatives
    local = op.vjps[i](g, node.data, node._ctx, *[p.data for p in inputs])
    return fit(local, inputs[i].data, op, i)


def _accumulated(node: Node, g: Any, adopted: set[int]) -> Any:
    """A Tensor's ``.grad`` plus ``g``: the first gradient as `_own` makes it, later ones
    summed (NumPy gives a scalar for a sum of 0-d arrays: made an array again, so that
    ``.grad`` stays an array, as PyTorch's stays a tensor)."""
    prev = node.grad
    if prev is None:
        return _own(g, node, adopted)
    total = prev + g
    return total if total.__class__ is np.ndarray or isinstance(total, Node) else np.asarray(total)


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
    if isinstance(inputs, Node):
        items = [inputs]
    else:
        try:
            items = list(inputs)
        except TypeError:
            raise TypeError(f"{who}: {name} must be a Value or Tensor, or a list of them, got "
                            f"{type(inputs).__name__}") from None
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
