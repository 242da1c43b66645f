"""Helpers the test files share (import them: ``from conftest import t64``).

pytest puts this folder on ``sys.path`` (the test files are not a package), so the tables and
makers here are defined once instead of copied into each file that needs them.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np
import pytest

from tinygrad_memo import Tensor, grad, optim
from tinygrad_memo.core.engine import Node
from tinygrad_memo.viz import render

F64 = np.float64


def t64(a: Any, requires_grad: bool = True) -> Tensor:
    """A float64 tensor (what finite differences need), requiring grad unless told not to."""
    return Tensor(np.asarray(a, dtype=F64), requires_grad=requires_grad)


# Python's arithmetic operators, the same for Value and Tensor
BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a ** b,
}

# NumPy's matmul rules: 1-D operands, batches that broadcast
MATMUL_SHAPES = [
    ((3,), (3,)), ((3,), (3, 2)), ((2, 3), (3,)), ((2, 3), (3, 4)),
    ((5, 2, 3), (3, 4)), ((2, 3), (5, 3, 4)), ((5, 2, 3), (5, 3, 4)),
    ((1, 2, 3), (5, 3, 4)), ((4, 1, 2, 3), (5, 3, 2)), ((3,), (2, 3, 4)), ((2, 2, 3), (3,)),
]


def total(terms: Sequence[Node]) -> Node:
    """The sum of some nodes (Python's ``sum`` would start from the int 0)."""
    out = terms[0]
    for t in terms[1:]:
        out = out + t
    return out


def first_derivatives(fn: Callable[..., Node]) -> Callable[..., Node]:
    """``fn``'s vector-Jacobian product as a function of its inputs and of the vector.

    ``vjp(*xs, v)`` is ``sum_i u_i * d(v . fn(xs))/d(xs_i)`` for fixed weights ``u_i``, built
    with ``create_graph=True``. Its gradient against finite differences checks the second
    derivatives (through ``xs``) and that the vjps build a right graph of their own even where
    they are linear (through ``v``): PyTorch's gradgradcheck.
    """
    def vjp(*args: Node) -> Node:
        *xs, v = args
        gs = grad(fn(*xs), xs, grad_output=v, create_graph=True)
        rng = np.random.default_rng(1)
        terms = []
        for g in gs:
            if isinstance(g, Tensor):
                terms.append((g * rng.uniform(0.5, 1.5, g.shape)).sum())
            else:
                terms.append(g * float(rng.uniform(0.5, 1.5)))
        return total(terms)
    return vjp


SVG = "{http://www.w3.org/2000/svg}"  # the namespace of every SVG element


@pytest.fixture
def no_system_dot(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Hide any system Graphviz: an empty PATH, so rendering must use the PyPI fallback."""
    monkeypatch.setenv("PATH", str(tmp_path_factory.mktemp("empty-path")))
    assert render.backend() == render.FALLBACK


def steps_against_torch(torch: Any, name: str, kw: dict, p0: np.ndarray,
                        grads: Sequence[np.ndarray]) -> Any:
    """Our optimizer ``name`` and torch.optim's, fed the same gradients: after each step,
    (our parameter, torch's parameter) as arrays."""
    tp = torch.tensor(p0.copy(), requires_grad=True)
    topt = getattr(torch.optim, name)([tp], **kw)
    mp = Tensor(p0.copy(), requires_grad=True)
    mopt = getattr(optim, name)([mp], **kw)
    for g in grads:
        tp.grad, mp.grad = torch.tensor(g), g
        topt.step()
        mopt.step()
        yield mp.data, tp.detach().numpy()
