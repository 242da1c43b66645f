"""Hypothesis strategies for property-testing gradients, yours and ours.

One property test over these strategies covers an op's whole domain: every shape,
every broadcasting pattern, graphs where one node is reached by many paths::

    from hypothesis import given
    from tinygrad_memo import gradcheck
    from tinygrad_memo.testing import tensors

    @given(tensors())
    def test_my_function(x):
        assert gradcheck(lambda t: my_function(t), [x])
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from .core.tensor import Tensor
from .core.value import Value

__all__ = ["shapes", "arrays", "tensors", "broadcastable_shapes", "values", "expressions",
           "Expression"]


def shapes(min_dims: int = 0, max_dims: int = 3, min_side: int = 1,
           max_side: int = 4) -> st.SearchStrategy[tuple[int, ...]]:
    """Array shapes, small enough for finite differences over every element."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=max_side)


def arrays(shape: Any = None, dtype: Any = np.float64, min_value: float = -3.0,
           max_value: float = 3.0, **shape_kwargs: Any) -> st.SearchStrategy[np.ndarray]:
    """Float arrays of a given shape (or a shape drawn by `shapes(**shape_kwargs)`),
    with finite values in ``[min_value, max_value]``."""
    dtype = np.dtype(dtype)
    elements = st.floats(_round_in(min_value, dtype, np.inf), _round_in(max_value, dtype, -np.inf),
                         allow_nan=False, allow_infinity=False, width=dtype.itemsize * 8)
    return hnp.arrays(dtype, shapes(**shape_kwargs) if shape is None else shape,
                      elements=elements)


def _round_in(bound: float, dtype: np.dtype, inward: float) -> float:
    """``bound`` as the nearest ``dtype`` number on the ``inward`` side (Hypothesis wants
    bounds that a narrower float can hold exactly: 0.1 is not a float32)."""
    b = dtype.type(bound)
    if float(b) != bound and (float(b) - bound) * inward < 0:
        b = np.nextafter(b, dtype.type(inward))
    return float(b)


def tensors(shape: Any = None, dtype: Any = np.float64, min_value: float = -3.0,
            max_value: float = 3.0, requires_grad: bool = True,
            **shape_kwargs: Any) -> st.SearchStrategy[Tensor]:
    """`Tensor`s over `arrays`, float64 by default so they can be gradchecked."""
    return arrays(shape, dtype, min_value, max_value, **shape_kwargs).map(
        lambda a: Tensor(a, requires_grad=requires_grad))


def broadcastable_shapes(num_shapes: int = 2, min_dims: int = 0, max_dims: int = 3,
                         min_side: int = 1, max_side: int = 4
                         ) -> st.SearchStrategy[tuple[tuple[int, ...], ...]]:
    """Tuples of ``num_shapes`` shapes that broadcast together (some with size-1 axes,
    some with fewer dimensions), the cases where gradients must be summed back."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=num_shapes, min_dims=min_dims, max_dims=max_dims, min_side=min_side,
        max_side=max_side).map(lambda r: r.input_shapes)


def values(min_value: float = -3.0, max_value: float = 3.0) -> st.SearchStrategy[Value]:
    """Scalar `Value` leaves."""
    return st.floats(min_value, max_value, allow_nan=False).map(Value)


# Each step of an expression: name -> (arity, how to compute it with node operators).
# Smooth everywhere and bounded in growth, so finite differences are reliable.
STEPS: dict[str, tuple[int, Callable[..., Any]]] = {
    "add": (2, lambda a, b: a + b),
    "sub": (2, lambda a, b: a - b),
    "mul": (2, lambda a, b: a * b),
    "div": (2, lambda a, b: a / (1 + b * b)),
    "tanh": (1, lambda a: a.tanh()),
    "sigmoid": (1, lambda a: a.sigmoid()),
    "exp": (1, lambda a: (a.tanh()).exp()),
    "log": (1, lambda a: (1 + a * a).log()),
    "square": (1, lambda a: a ** 2),
    "scale": (1, lambda a: 0.5 * a - 1),
}
_FORMS = {"add": "{0} + {1}", "sub": "{0} - {1}", "mul": "{0} * {1}", "div": "{0} / (1 + {1}**2)",
          "tanh": "tanh({0})", "sigmoid": "sigmoid({0})", "exp": "exp(tanh({0}))",
          "log": "log(1 + {0}**2)", "square": "{0}**2", "scale": "0.5*{0} - 1"}


@dataclass(frozen=True)
class Expression:
    """A random expression graph: ``steps[k] = (name, i, j)`` makes node ``n_inputs + k``
    from earlier nodes ``i`` and ``j``, so a node can feed many later ones (shared
    subexpressions, several paths to one input). Call it on Values or Tensors."""

    n_inputs: int
    steps: tuple[tuple[str, int, int], ...]
    inputs: tuple[float, ...]

    def __call__(self, *xs: Any) -> Any:
        if len(xs) != self.n_inputs:
            raise TypeError(f"this expression takes {self.n_inputs} inputs, got {len(xs)}")
        nodes = list(xs)
        for name, i, j in self.steps:
            arity, f = STEPS[name]
            nodes.append(f(nodes[i], nodes[j]) if arity == 2 else f(nodes[i]))
        return nodes[-1]

    def values(self) -> list[Value]:
        """Fresh Value leaves holding the drawn inputs."""
        return [Value(x) for x in self.inputs]

    def __repr__(self) -> str:
        lines = [f"v{k} = {x!r}" for k, x in enumerate(self.inputs)]
        for k, (name, i, j) in enumerate(self.steps, start=self.n_inputs):
            form = _FORMS[name]
            args = (f"v{i}", f"v{j}") if STEPS[name][0] == 2 else (f"v{i}",)
            lines.append(f"v{k} = " + form.format(*args))
        return "Expression(" + "; ".join(lines) + ")"


@st.composite
def expressions(draw: Any, max_inputs: int = 3, max_steps: int = 10,
                min_value: float = -1.5, max_value: float = 1.5) -> Expression:
    """Random expression graphs over Values with shared subexpressions."""
    n = draw(st.integers(1, max_inputs))
    inputs = tuple(draw(st.lists(st.floats(min_value, max_value, allow_nan=False),
                                 min_size=n, max_size=n)))
    steps = []
    for k in range(draw(st.integers(1, max_steps))):
        name = draw(st.sampled_from(sorted(STEPS)))
        i = draw(st.integers(0, n + k - 1))
        j = draw(st.integers(0, n + k - 1))
        steps.append((name, i, j))
    return Expression(n, tuple(steps), inputs)
