"""`Value`: a scalar node, micrograd-compatible, built for speed.

A Value holds a Python float. Each op records ``(op, inputs, ctx)`` in slots: no closure,
no set and no dict per node, and nothing that points back to the node itself, so a graph
dies by reference counting the moment its output is dropped. Every op goes through
`engine.apply` (the four arithmetic operators through its one-frame form,
`engine.scalar_operator`), which runs the op's ``scalar`` forward from the table in `ops`.
"""
from __future__ import annotations

import numbers
from typing import Any

from . import ops
from .engine import Node, apply, scalar_operator

_new = object.__new__


def _lift(x: Any) -> "Value":
    """A Python number on the other side of an operator becomes a constant leaf."""
    if x.__class__ is float or x.__class__ is int:  # the common case, without ABC checks
        v = _new(Value)
        v.data, v.grad, v._hooks = float(x), 0.0, None
        v._fn, v._x, v._y = None, (), None
        return v
    if isinstance(x, Value):  # a Value of a subclass
        return x
    if isinstance(x, numbers.Real):
        return Value(float(x))
    return NotImplemented


class Value(Node):
    """A scalar that remembers how it was computed, so it can be differentiated."""

    __slots__ = ()
    holds_floats = True    # its ops run their scalar forward
    requires_grad = True   # every Value can receive a gradient (micrograd semantics) ...
    _keeps_grad = True     # ... and every Value keeps it in .grad after backward()
    shape = ()             # lets the broadcasting helpers treat a Value as a 0-d array

    def __init__(self, data: float, label: str | None = None) -> None:
        if data.__class__ is not float and not isinstance(data, numbers.Real):
            raise TypeError(f"Value: data must be a real number, got {type(data).__name__}")
        self.data = float(data)
        self.grad: Any = 0.0
        self._fn, self._x, self._y, self._hooks = None, (), None, None
        if label is not None:
            self.label = label

    # -- binary operators: `engine.scalar_operator` builds each as one frame (its docstring
    # has the measurement); ``__radd__`` and ``__rmul__`` are micrograd's ``self + other``.
    __add__ = __radd__ = scalar_operator(ops.add, _lift)
    __mul__ = __rmul__ = scalar_operator(ops.mul, _lift)
    __sub__ = scalar_operator(ops.sub, _lift)
    __truediv__ = scalar_operator(ops.div, _lift)

    def __pow__(self, other: Any) -> "Value":
        if isinstance(other, Value):
            return apply(ops.pow_, (self, other))
        if not isinstance(other, numbers.Real):
            return NotImplemented
        return apply(ops.pow_const, (self,), other)

    def __rsub__(self, other: Any) -> "Value":
        other = _lift(other)
        return other if other is NotImplemented else other - self

    def __rtruediv__(self, other: Any) -> "Value":
        other = _lift(other)
        return other if other is NotImplemented else other / self

    def __rpow__(self, other: Any) -> "Value":
        other = _lift(other)
        return other if other is NotImplemented else other ** self

    # -- unary ops -------------------------------------------------------------------------
    def __neg__(self) -> "Value":
        return apply(ops.neg, (self,))

    def relu(self) -> "Value":
        return apply(ops.relu, (self,))

    def tanh(self) -> "Value":
        return apply(ops.tanh, (self,))

    def exp(self) -> "Value":
        return apply(ops.exp, (self,))

    def log(self) -> "Value":
        return apply(ops.log, (self,))

    def sigmoid(self) -> "Value":
        return apply(ops.sigmoid, (self,))

    # -- micrograd's read side: trace_graph.ipynb walks _prev and prints _op ----------------
    @property
    def _prev(self) -> set["Value"]:
        """The inputs this value was computed from, as a set (micrograd's ``_prev``)."""
        return set(self._inputs)

    @property
    def _op(self) -> str:
        """The operator that made this value as micrograd prints it ('+', '*', 'ReLU', ...;
        '' for a leaf)."""
        fn = self._fn
        if fn is None:
            return ""
        return f"**{self._ctx}" if fn is ops.pow_const else fn.symbol  # micrograd's f'**{other}'

    # -- engine hooks and conveniences -----------------------------------------------------
    def _seed(self, grad: Any, create_graph: bool) -> Any:
        g = 1.0 if grad is None else float(grad.data if isinstance(grad, Value) else grad)
        if create_graph:
            return grad if isinstance(grad, Value) else Value(g)
        return g

    def _zero_grad_like(self, create_graph: bool) -> Any:
        return Value(0.0) if create_graph else 0.0

    def zero_grad(self) -> None:
        self.grad = 0.0

    def detach(self) -> "Value":
        """The same number, cut from the graph (a new leaf)."""
        return Value(self.data)

    def __float__(self) -> float:
        return float(self.data)

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data}, grad={self.grad}{label})"
