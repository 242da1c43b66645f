"""Recording one call of a step function: which ops it applies, to what, in which order.

`trace` runs ``fn`` eagerly with a `Recorder` installed as the thread's grad-mode
recorder, so `engine.apply` reports every node it makes (and every constant Tensor it
computes). The result is a `Graph`: the forward ops in the order they ran, the backward
order eager backprop uses (reverse topological, the memo loop unrolled once), and what
each leaf is: an input (from ``args``), a parameter (a leaf that outlives the call, read
afresh at every replay) or a constant (a leaf made inside ``fn``, frozen).
"""
from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from ..core.engine import Node, Op, toposort
from ..core.modes import ModeSwitch
from ..core.tensor import Tensor
from ..core.value import Value


class TraceError(RuntimeError):
    """``fn`` does something a traced program could not replay (said at trace time)."""


class Recorder(ModeSwitch):
    """While active, every op `engine.apply` runs in this thread is appended to ``tape``.

    It sits in the grad mode's ``anomaly`` field, which apply and backprop consult: apply
    calls `record` / `constant`, backprop would call `final` (a backward inside ``fn``),
    and a mode switch entered inside ``fn`` calls `refuse`. Nodes are held weakly, so
    what fn drops still dies (checkpoint's own liveness test keeps working).
    """

    field = "anomaly"

    def __init__(self) -> None:
        self.tape: list[tuple[Any, Op, tuple | None, Any]] = []
        self.copies: dict[int, tuple[Any, np.ndarray]] = {}  # id(copy) -> (ref to it, source)

    def value(self) -> "Recorder":
        return self

    def record(self, node: Node) -> None:
        op: Any = node._fn
        if op.name == "checkpoint":
            raise TraceError("jit: fn uses checkpoint(), whose recomputation cannot be replayed "
                             "from a trace; call the checkpointed function without jit, or "
                             "jit it without checkpoint (a traced step keeps no graph anyway)")
        self.tape.append((weakref.ref(node), op, None, None))  # weakly: see `Recorder`

    def copied(self, source: np.ndarray, copy: np.ndarray) -> None:
        """``Tensor(source)`` inside fn made ``copy``: replays read the source's slot."""
        self.copies[id(copy)] = (weakref.ref(copy), source)

    def source_of(self, data: Any) -> Any:
        """The array ``data`` was copied from inside fn (``data`` itself if none)."""
        entry = self.copies.get(id(data))
        return entry[1] if entry is not None and entry[0]() is data else data

    def constant(self, node: Node, op: Op, inputs: tuple, ctx: Any) -> None:
        self.tape.append((weakref.ref(node), op, inputs, ctx))

    def final(self, *args: Any) -> None:  # (the memo loop's watcher: a backward inside fn)
        raise TraceError("jit: fn calls backward() or grad() itself; a traced step runs one "
                         "backward of fn's result: return the loss and let the step do it")

    edge = final

    def refuse(self, switch: ModeSwitch) -> None:
        raise TraceError(f"jit: fn enters {type(switch).__name__}(), which a traced program "
                         "cannot replay; move it out of the jitted function (detect_anomaly: "
                         "run fn without jit to find a NaN)")


# -- the inputs: what in args is data (keyed by shape) and what is a setting (by value) --


def signature(args: tuple) -> tuple[tuple, list[Any]]:
    """(key, inputs): the program key of ``args`` and the input objects in key order.

    Values, Tensors and ndarrays are inputs, keyed by kind, shape and dtype; numbers,
    strings, None key by value; lists, tuples and dicts by their structure.
    """
    inputs: list[Any] = []
    return _key(args, "args", inputs), inputs


def _key(x: Any, where: str, inputs: list[Any]) -> Any:
    cls = x.__class__
    if cls is float or cls is int or cls is str or cls is bool or x is None:
        return (cls, x)
    if cls is Value:
        if x._fn is not None:
            raise _non_leaf(x, where)
        inputs.append(x)
        return "V"
    if cls is Tensor:
        if x._fn is not None:
            raise _non_leaf(x, where)
        inputs.append(x)
        return ("T", x.data.shape, x.data.dtype.str, x.requires_grad)
    if cls is np.ndarray:
        inputs.append(x)
        return ("A", x.shape, x.dtype.str)
    if cls is list or cls is tuple:
        return (cls, tuple(_key(v, f"{where}[{i}]", inputs) for i, v in enumerate(x)))
    if cls is dict:
        return (dict, tuple((k, _key(v, f"{where}[{k!r}]", inputs)) for k, v in x.items()))
    if isinstance(x, (np.generic, float, int, str)):
        return (cls, x)
    raise TypeError(f"jit: {where} is a {cls.__name__}; a traced step takes Values, Tensors, "
                    "NumPy arrays, numbers, strings and None (inside lists, tuples and dicts)")


def _non_leaf(x: Any, where: str) -> TraceError:
    return TraceError(f"jit: {where} is a {type(x).__name__} made by '{x._fn.name}' outside the "
                      "step; its gradient would flow into a graph the step does not own. Pass "
                      f"{where}.detach(), or compute it inside the jitted function")


# -- the recorded graph -----------------------------------------------------------------


@dataclass
class Leaf:
    """A graph leaf: input slot ``slot`` (or None), and, for the others, whether it
    outlived the call (a parameter: read afresh, given its gradient) or not (a constant)."""

    data: Any
    slot: int | None
    ref: Any = None              # weak reference while tracing, then the node if a parameter
    keeps_grad: bool = False

    @property
    def is_param(self) -> bool:
        return self.slot is None and self.ref is not None


@dataclass
class Step:
    """One forward op: ``out = op(*inputs, ctx)``; inputs are ("op", k) or ("leaf", j)."""

    op: Op
    inputs: tuple[tuple[str, int], ...]
    ctx: Any
    data: Any


@dataclass
class Graph:
    """What one traced call did, with no node objects left (see the module docstring)."""

    scalar: bool                          # Values (True) or Tensors
    steps: list[Step]
    leaves: list[Leaf]
    root: int                             # the step that made fn's result
    backward: list[int]                   # steps in the order eager backprop reaches them
    kinds: list[str]                      # per input slot: "V"alue, "T"ensor or "A"rray
    arrays: dict[int, int]                # id(array passed in, or a Tensor's data) -> slot
    needs: list[bool] = field(default_factory=list)  # does a gradient reach a leaf through it

    def leaf_needs(self, j: int) -> bool:
        leaf = self.leaves[j]
        return leaf.keeps_grad and (leaf.slot is not None or leaf.is_param)


def trace(fn: Callable[..., Any], args: tuple, inputs: list[Any]) -> tuple[Node, Graph]:
    """Run ``fn(*args)`` eagerly while recording it: (its result, the recorded graph)."""
    recorder = Recorder()
    with recorder:
        out = fn(*args)
    if not isinstance(out, Node):
        raise TypeError(f"jit: fn must return a Value or a one-element Tensor, got "
                        f"{type(out).__name__}")
    if isinstance(out, Tensor) and out.data.size != 1:
        raise ValueError(f"jit: fn returned a Tensor of shape {out.shape}; a step differentiates "
                         "one number (reduce it first, e.g. .sum() or .mean())")
    if out._fn is None or not out.requires_grad:
        raise TraceError("jit: fn's result does not depend on anything that requires a gradient, "
                         "so there is nothing to differentiate")
    tape = []  # the nodes still alive, with what made them (a recorded node knows it)
    for ref, op, ins, ctx in recorder.tape:
        node = ref()
        if node is not None:
            tape.append((node, op, node._inputs, node._ctx) if ins is None else (node, op, ins, ctx))
    graph = _describe(out, tape, inputs, recorder.source_of)
    return out, graph


def _describe(out: Node, tape: list, inputs: list[Any],
              source_of: Callable[[Any], Any]) -> Graph:
    """The tape as a `Graph`: steps that reach ``out``, leaves classified, backward order."""
    made = {id(node): k for k, (node, *_rest) in enumerate(tape)}
    keep = _reaching(out, tape, made)
    slot_of = {id(x): i for i, x in enumerate(inputs)}  # a Value/Tensor, or an array's id
    index: dict[int, tuple[str, int]] = {}
    steps: list[Step] = []
    leaves: list[Leaf] = []
    for k, (node, op, ins, ctx) in enumerate(tape):
        if k not in keep:
            continue
        if node._hooks is not None:
            raise TraceError(f"jit: fn registers a hook on a '{op.name}' node it makes; hooks "
                             "are not replayed: register it outside, or run without jit")
        refs = []
        for x in ins:
            ref = index.get(id(x))
            if ref is None:
                ref = index[id(x)] = ("leaf", len(leaves))
                leaves.append(_leaf(x, slot_of, source_of))
            refs.append(ref)
        index[id(node)] = ("op", len(steps))
        steps.append(Step(op, tuple(refs), ctx, node.data))
    root = index[id(out)][1]
    backward = [index[id(n)][1] for n in reversed(toposort(out)) if n._fn is not None]
    kinds = ["V" if isinstance(x, Value) else "T" if isinstance(x, Tensor) else "A" for x in inputs]
    arrays = {id(x.data if isinstance(x, Tensor) else x): s for s, x in enumerate(inputs)
              if not isinstance(x, Value)}
    return Graph(isinstance(out, Value), steps, leaves, root, backward, kinds, arrays)


def _reaching(out: Node, tape: list, made: dict[int, int]) -> set[int]:
    """Indices of the taped ops ``out`` depends on (through any input, gradient or not)."""
    keep: set[int] = set()
    stack = [made[id(out)]]
    while stack:
        k = stack.pop()
        if k in keep:
            continue
        keep.add(k)
        for x in tape[k][2]:
            j = made.get(id(x))
            if j is not None:
                stack.append(j)
    return keep


def _leaf(x: Node, slot_of: dict[int, int], source_of: Callable[[Any], Any]) -> Leaf:
    if x._fn is not None:
        raise TraceError(f"jit: fn uses a {type(x).__name__} made by '{x._fn.name}' outside fn; "
                         "pass it as an argument (.detach()) or compute it inside fn")
    if x._hooks is not None:
        raise TraceError(f"jit: a {type(x).__name__} fn reads has a gradient hook; hooks are "
                         "not replayed (remove it, or run the step without jit)")
    slot = slot_of.get(id(x))
    keeps = x._keeps_grad
    if slot is None and isinstance(x, Tensor):
        slot = slot_of.get(id(source_of(x.data)))  # Tensor(array) inside fn: the array passed in
        keeps = keeps and slot is None  # ... and an array passed in has no gradient
    return Leaf(x.data, slot, weakref.ref(x), keeps)


def settle(graph: Graph) -> None:
    """After fn's graph is dropped: leaves still alive are parameters (held from now on),
    the others constants; then which steps a gradient must pass through."""
    for leaf in graph.leaves:
        leaf.ref = None if leaf.slot is not None else leaf.ref()
    needs: list[bool] = []
    for step in graph.steps:
        needs.append(any(graph.leaf_needs(j) if kind == "leaf" else needs[j]
                         for kind, j in step.inputs))
    graph.needs = needs
