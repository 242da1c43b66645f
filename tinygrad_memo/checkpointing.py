"""Gradient checkpointing: keep a function's output, forget its insides, recompute them in backward.

Backpropagation is memoization: the forward pass stores every intermediate value so that
backward can evaluate each local derivative once. ``checkpoint(fn, *args)`` undoes that
memo for the inside of ``fn``. Its output becomes one node, whose op is "checkpoint" and
whose inputs are ``fn``'s arguments and the parameters ``fn`` reads. Only those are kept.
When backward reaches the node, its vjp runs ``fn`` again on fresh copies of the inputs,
differentiates that small graph with `engine.grad`, and hands the gradients on. Memory
falls from every intermediate of ``fn`` to its output; time grows by one more forward.

How the parameters are found: the first run of ``fn`` records a graph (on copies of the
arguments, so the walk stops there); once that graph is dropped, the leaves requiring grad
that are still alive are the ones that existed outside ``fn``: its parameters. Nodes made
inside ``fn`` (including constants) die with the graph. ``fn`` must be deterministic:
the recomputation has to build the same values.
"""
from __future__ import annotations

import weakref
from typing import Any, Callable

import numpy as np

from .core.engine import Node, Op, apply, backprop, toposort
from .core.modes import enable_grad, grad_mode
from .core.tensor import Tensor
from .core.value import Value


def checkpoint(fn: Callable[..., Node], *args: Any) -> Node:
    """``fn(*args)``, without keeping ``fn``'s intermediate nodes: backward recomputes them.

    Gradients flow to the arguments that are nodes and to the parameters (leaf Values, or
    leaf Tensors that require grad) that ``fn`` uses; they equal those of ``fn(*args)`` to
    float rounding, with ``create_graph`` False or True. ``fn`` returns one Value or Tensor.
    A non-leaf node that ``fn`` reads from outside must be passed as an argument.
    """
    if not callable(fn):
        raise TypeError(f"checkpoint: fn must be callable, got {type(fn).__name__}")
    if not grad_mode.enabled:  # nothing will be differentiated: nothing to save
        return fn(*args)
    slots = tuple(i for i, a in enumerate(args) if isinstance(a, Node) and a.requires_grad)
    call = list(args)
    copies = []
    for i in slots:
        call[i] = _leaf_copy(args[i].data)
        copies.append(call[i])
    out = fn(*call)
    if not isinstance(out, Node):
        raise TypeError(f"checkpoint: fn must return one Value or Tensor, got {type(out).__name__}")
    if not out.requires_grad:
        return out  # no gradient can flow through it: there is nothing to recompute
    data, shape = out.data, tuple(out.shape)
    skip = {id(c) for c in copies}
    graph = [weakref.ref(n) for n in toposort(out) if id(n) not in skip]
    del out  # fn's own nodes die here; what is still alive existed outside fn
    params = _parameters(graph)
    template = tuple(None if i in slots else a for i, a in enumerate(args))
    saved = _Saved(fn, template, slots, tuple(params), shape, data)
    parents = tuple(args[i] for i in slots) + tuple(params)
    return apply(_op_for(len(parents)), parents, saved)


def _leaf_copy(data: Any) -> Node:
    """A new leaf holding ``data`` (an array is shared, not copied) that requires grad."""
    if isinstance(data, np.ndarray):
        return Tensor.from_numpy(data, requires_grad=True)
    return Value(data)


def _parameters(graph: list[weakref.ref]) -> list[Node]:
    """The nodes of ``fn``'s dropped graph that are still alive: the leaves it read from
    outside (its parameters). A surviving non-leaf is an error (see the message)."""
    alive = [n for n in (r() for r in graph) if n is not None]
    for n in alive:
        if not n.is_leaf:
            raise ValueError(
                f"checkpoint: fn uses a {type(n).__name__} of {_shape(n)} made by "
                f"'{n._fn.name}' outside fn, which is not one of its arguments (or fn keeps one "
                f"of its own results alive, e.g. in a cache). Pass it to checkpoint as an "
                f"argument, checkpoint(fn, ..., node), and use the argument inside fn.")
    return alive


def _shape(n: Node) -> str:
    return f"shape {tuple(n.shape)}" if tuple(n.shape) else "a scalar"


class _Saved:
    """What a checkpoint node keeps instead of ``fn``'s intermediates (its op's ctx)."""

    __slots__ = ("fn", "template", "slots", "params", "shape", "_output", "_g", "_grads")

    def __init__(self, fn: Callable, template: tuple, slots: tuple[int, ...],
                 params: tuple[Node, ...], shape: tuple[int, ...], output: Any) -> None:
        self.fn, self.template, self.slots, self.params, self.shape = (
            fn, template, slots, params, shape)
        self._output = output  # handed to the checkpoint node by its forward, then let go
        self._g: Any = None
        self._grads: list[Any] | None = None

    def output(self) -> Any:
        """The first run's result: the checkpoint op's forward (it runs once, in `apply`)."""
        out, self._output = self._output, None
        return out

    def gradient(self, g: Any, inputs: tuple, i: int) -> Any:
        """The gradient for input ``i``: the first input asks for the recomputation, the
        others reuse it (the engine calls one vjp per input with the same ``g``)."""
        if self._grads is None or self._g is not g:
            self._g, self._grads = g, self.recompute(g, inputs)
        grads = self._grads
        if i == len(grads) - 1:  # the last input: let go of the gradients
            self._g = self._grads = None
        return grads[i]

    def recompute(self, g: Any, inputs: tuple) -> list[Any]:
        """Run ``fn`` again on copies of the saved inputs and differentiate it.

        With ``create_graph`` (``g`` is a node) the copies are then attached to the real
        inputs by an identity op, so the gradients returned can be differentiated again.
        """
        create_graph = isinstance(g, Node)
        n = len(self.slots)
        copies = [_leaf_copy(x.data if isinstance(x, Node) else x) for x in inputs[:n]]
        call = list(self.template)
        for i, c in zip(self.slots, copies):
            call[i] = c
        with enable_grad():  # backward may run under no_grad; the recomputation records
            out = self.fn(*call)
            if not isinstance(out, Node) or tuple(out.shape) != self.shape:
                got = tuple(out.shape) if isinstance(out, Node) else type(out).__name__
                raise RuntimeError(f"checkpoint: recomputing fn gave {got}, but the forward "
                                   f"pass gave shape {self.shape}; fn must be deterministic")
            wanted = copies + list(self.params)
            # the parameters' hooks fire once, in the outer backward, on their total gradient
            found = backprop(out, out._seed(g, create_graph), create_graph, wanted,
                             accumulate=False, retain_graph=create_graph, mute=self.params)
            grads = [found[x] if x in found else x._zero_grad_like(create_graph) for x in wanted]
        if create_graph:
            for c, x in zip(copies, inputs):
                c._fn, c._inputs, c._ctx = _identity, (x,), None
                if isinstance(c, Tensor):
                    c._keeps_grad = False
        return grads


# the link from a recomputation's input copy to the real input (create_graph=True only)
_identity = Op("checkpoint_input", vjps=(lambda g, out, ctx, x: g,), scalar=lambda x: x,
               array=lambda x: x)

_OPS: dict[int, Op] = {}


def _replay(*inputs_and_saved: Any) -> Any:
    """The checkpoint op's forward: ``fn`` already ran; its result is in the ctx."""
    return inputs_and_saved[-1].output()


def _op_for(n_inputs: int) -> Op:
    """The "checkpoint" op with one vjp per input; one Op per input count, made once."""
    op = _OPS.get(n_inputs)
    if op is None:
        op = _OPS[n_inputs] = Op("checkpoint", vjps=tuple(_vjp(i) for i in range(n_inputs)),
                                 scalar=_replay, array=_replay)
    return op


def _vjp(i: int) -> Callable:
    def vjp(g: Any, out: Any, saved: _Saved, *inputs: Any) -> Any:
        return saved.gradient(g, inputs, i)
    return vjp
