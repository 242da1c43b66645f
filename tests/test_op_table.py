"""Every Op in core/ops.py, checked from one table: first and second derivatives against
finite differences, through Value where the op has a ``scalar`` forward and through Tensor
where it has an ``array`` one.

The ops are found by walking the module, so a new Op without a row in CASES fails
`test_every_op_has_a_case_and_every_case_an_op`. Each row is run on nodes while
`engine.apply` is watched (and the graph the row builds, for Value's operators, which
`engine.scalar_operator` builds), and must apply the op it is filed under: an Op field that
no Value or Tensor method reaches fails too. Adding an op's test is one row:
``"name": [case(lambda x: x.name(), (2, 3))]`` (``grad=False`` for an op without a
gradient, such as a comparison: then only that it is applied, outside the graph).
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pytest
from conftest import BINARY, MATMUL_SHAPES, first_derivatives, t64

import tinygrad_memo as tm
from tinygrad_memo import Value, gradcheck
from tinygrad_memo.core import engine, ops
from tinygrad_memo.core.engine import Node, Op

OPS: dict[str, Op] = {name: op for name, op in vars(ops).items() if isinstance(op, Op)}


@dataclass(frozen=True)
class Case:
    """One way to call an op: ``call(*nodes)``, the nodes drawn uniformly from [low, high]
    (a Tensor input with its shape in ``shapes``, a Value input a scalar), at least 0.1 away
    from each point in ``avoid`` (a kink, where finite differences would straddle two slopes).
    ``grad=False``: the op has no gradient (its result is outside the graph)."""

    call: Callable[..., Any]
    shapes: tuple[tuple[int, ...], ...]
    low: float = -2.0
    high: float = 2.0
    avoid: tuple[float, ...] = ()
    grad: bool = True

    def draw(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        x = rng.uniform(self.low, self.high, shape)
        for _ in range(100):
            near = np.zeros(shape, dtype=bool)
            for a in self.avoid:
                near |= np.abs(x - a) < 0.1
            if not near.any():
                return x
            x = np.where(near, rng.uniform(self.low, self.high, shape), x)
        raise AssertionError(f"no input in [{self.low}, {self.high}] away from {self.avoid}")

    def inputs(self, kind: str) -> list[Node]:
        rng = np.random.default_rng(0)
        if kind == "Value":
            return [Value(float(self.draw((), rng))) for _ in self.shapes]
        return [t64(self.draw(s, rng)) for s in self.shapes]


def case(call: Callable[..., Any], *shapes: tuple[int, ...], low: float = -2.0, high: float = 2.0,
         avoid: tuple[float, ...] = (), grad: bool = True) -> Case:
    return Case(call, shapes, low, high, avoid, grad)


# op (its name in core/ops.py) -> the ways to call it; every Op needs at least one row
CASES: dict[str, list[Case]] = {
    "add": [case(BINARY["add"], (2, 3), (3,)), case(BINARY["add"], (2, 1), (1, 3))],
    "sub": [case(BINARY["sub"], (2, 3), (2, 1)), case(lambda x: 1.0 - x, (3,))],
    "mul": [case(BINARY["mul"], (2, 3), (3,)), case(lambda x: x * x, (2, 2))],
    "div": [case(BINARY["div"], (2, 3), (3,), low=0.5), case(lambda x: 2.0 / x, (3,), low=0.5)],
    "pow_": [case(BINARY["pow"], (2, 3), (3,), low=0.5), case(lambda x: 2.0 ** x, (3,))],
    "pow_const": [case(lambda x: x ** 3 + x ** 0.5 - x ** -1.5 + x ** 0 * x, (2, 3), low=0.2),
                  case(lambda x: x ** 2, (3,))],
    "matmul": [case(lambda a, b: a @ b, sa, sb) for sa, sb in MATMUL_SHAPES],
    "neg": [case(lambda x: -x, (2, 3))],
    "exp": [case(lambda x: x.exp(), (2, 3))],
    "log": [case(lambda x: x.log(), (2, 3), low=0.2, high=3.0)],
    "tanh": [case(lambda x: x.tanh(), (2, 3))],
    "relu": [case(lambda x: x.relu(), (2, 3), avoid=(0.0,))],
    "sigmoid": [case(lambda x: x.sigmoid(), (2, 3), low=-4.0, high=4.0)],
    "sqrt": [case(lambda x: x.sqrt(), (2, 3), low=0.2, high=3.0)],
    "abs_": [case(lambda x: x.abs(), (2, 3), avoid=(0.0,))],
    "sum_": [case(lambda x: x.sum(), (2, 3)), case(lambda x: x.sum(axis=1), (2, 3)),
             case(lambda x: x.sum(axis=(0, 2), keepdims=True), (2, 3, 4)),
             case(lambda x: x.sum(axis=-1), (3,))],
    "mean": [case(lambda x: x.mean(), (2, 3)), case(lambda x: x.mean(axis=0), (2, 3)),
             case(lambda x: x.mean(axis=(1, 2), keepdims=True), (2, 3, 4))],
    "max_": [case(lambda x: x.max(), (2, 3)), case(lambda x: x.max(axis=0), (2, 3)),
             case(lambda x: x.max(axis=(1,), keepdims=True), (2, 3, 4))],
    "reshape": [case(lambda x: x.reshape(3, 2), (2, 3)), case(lambda x: x.reshape(-1), (2, 3)),
                case(lambda x: x.reshape((4, 1, 6)), (2, 3, 4))],
    "transpose": [case(lambda x: x.T, (2, 3)), case(lambda x: x.transpose(1, 0, 2), (2, 3, 4)),
                  case(lambda x: x.transpose((2, 0, 1)), (2, 3, 4))],
    "broadcast": [case(lambda x: x.broadcast_to((2, 3)), (1, 3)),
                  case(lambda x: x.broadcast_to((4, 2, 3)), (3,))],
    "getitem": [case(lambda x: x[1], (2, 3)), case(lambda x: x[:, ::2], (2, 3)),
                case(lambda x: x[[0, 2, 0]], (3, 2)),  # a repeated index: the gradients add up
                case(lambda x: x[np.array([True, False, True])], (3, 2)),
                case(lambda x: x[1:, [0, 0]], (3, 2)), case(lambda x: x[..., 1], (2, 3, 4))],
    # the adjoint of getitem: what getitem's vjp applies under create_graph
    "scatter": [case(lambda x: x._scatter(np.array([0, 2, 0]), (4, 2), True), (3, 2)),
                case(lambda x: x._scatter((slice(None), 1), (2, 3), False), (2,))],
    "softmax": [case(lambda x: x.softmax(), (2, 3)), case(lambda x: x.softmax(axis=0), (2, 3)),
                case(lambda x: x.softmax(axis=None), (2, 3)),
                case(lambda x: x.softmax(axis=(0, 2)), (2, 3, 2))],
    "log_softmax": [case(lambda x: x.log_softmax(), (2, 3)),
                    case(lambda x: x.log_softmax(axis=0), (2, 3)),
                    case(lambda x: x.log_softmax(axis=(0, 1)), (2, 3))],
    # there and back through a wider float, so finite differences keep float64's precision
    "cast": [case(lambda x: x.to(np.longdouble).to(np.float64), (2, 3))],
    "sin": [case(lambda x: x.sin(), (2, 3))],
    "cos": [case(lambda x: x.cos(), (2, 3))],
    "log1p": [case(lambda x: x.log1p(), (2, 3), low=-0.5)],
    "expm1": [case(lambda x: x.expm1(), (2, 3))],
    "square": [case(lambda x: x.square(), (2, 3))],
    "reciprocal": [case(lambda x: x.reciprocal(), (2, 3), low=0.5)],
    "erf": [case(lambda x: x.erf(), (2, 3))],
    "clamp": [case(lambda x: x.clamp(-1.0, 1.0), (2, 3), avoid=(-1.0, 1.0)),
              case(lambda x: x.clamp(min=0.5), (3,), avoid=(0.5,)),
              case(lambda x: x.clip(max=0.0), (3,), avoid=(0.0,))],
    "leaky_relu": [case(lambda x: x.leaky_relu(0.1), (2, 3), avoid=(0.0,))],
    "gelu": [case(lambda x: x.gelu(), (2, 3))],
    "gelu_tanh": [case(lambda x: x.gelu(approximate="tanh"), (2, 3))],
    "silu": [case(lambda x: x.silu(), (2, 3))],
    "softplus": [case(lambda x: x.softplus(), (2, 3)),
                 case(lambda x: x.softplus(beta=2.0, threshold=1.0), (2, 3), avoid=(0.5,))],
    "maximum": [case(lambda a, b: a.maximum(b), (2, 3), (3,)),
                case(lambda a, b: tm.maximum(a, b), (3,), (3,))],
    "minimum": [case(lambda a, b: a.minimum(b), (2, 3), (3,)),
                case(lambda a, b: tm.minimum(a, b), (3,), (3,))],
    "where": [case(lambda a, b: tm.where(a > 0, a, b), (2, 3), (3,), avoid=(0.0,)),
              case(lambda a, b: a.where(b < 0, 2.0), (2, 3), (2, 3), avoid=(0.0,))],
    "eq": [case(lambda a, b: a == b, (2, 3), (3,), grad=False)],
    "ne": [case(lambda a, b: a != b, (2, 3), (3,), grad=False)],
    "lt": [case(lambda a, b: a < b, (2, 3), (3,), grad=False)],
    "le": [case(lambda a, b: a <= b, (2, 3), (3,), grad=False)],
    "gt": [case(lambda a, b: a > b, (2, 3), (3,), grad=False)],
    "ge": [case(lambda a, b: a >= b, (2, 3), (3,), grad=False)],
    "logical_and": [case(lambda a, b: (a > 0).logical_and(b > 0), (2, 3), (3,), grad=False),
                    case(lambda a, b: (a > 0) & (b > 0), (2, 3), (3,), grad=False)],
    "logical_or": [case(lambda a, b: (a > 0).logical_or(b > 0), (2, 3), (3,), grad=False),
                   case(lambda a, b: (a > 0) | (b > 0), (2, 3), (3,), grad=False)],
    "logical_xor": [case(lambda a, b: (a > 0).logical_xor(b > 0), (2, 3), (3,), grad=False),
                    case(lambda a, b: (a > 0) ^ (b > 0), (2, 3), (3,), grad=False)],
    "logical_not": [case(lambda x: (x > 0).logical_not(), (2, 3), grad=False),
                    case(lambda x: ~(x > 0), (2, 3), grad=False)],
    "min_": [case(lambda x: x.min(), (2, 3)), case(lambda x: x.min(axis=1, keepdims=True), (2, 3))],
    "argmax": [case(lambda x: x.argmax(), (2, 3), grad=False),
               case(lambda x: x.argmax(axis=1), (2, 3), grad=False)],
    "argmin": [case(lambda x: x.argmin(), (2, 3), grad=False),
               case(lambda x: x.argmin(axis=0, keepdims=True), (2, 3), grad=False)],
    "all_": [case(lambda x: (x > 0).all(), (2, 3), grad=False),
             case(lambda x: (x > 0).all(axis=0), (2, 3), grad=False)],
    "any_": [case(lambda x: (x > 0).any(), (2, 3), grad=False),
             case(lambda x: (x > 0).any(axis=1, keepdims=True), (2, 3), grad=False)],
    "var": [case(lambda x: x.var(), (2, 3)), case(lambda x: x.var(axis=1, correction=0), (2, 3)),
            case(lambda x: x.var(axis=(0, 2), keepdims=True), (2, 3, 4))],
    "std": [case(lambda x: x.std(), (2, 3)), case(lambda x: x.std(axis=0), (3, 2))],
    "logsumexp": [case(lambda x: x.logsumexp(axis=1), (2, 3)),
                  case(lambda x: x.logsumexp(axis=(0, 1), keepdims=True), (2, 3))],
    "prod": [case(lambda x: x.prod(), (2, 3)), case(lambda x: x.prod(axis=1), (2, 3))],
    "cumsum": [case(lambda x: x.cumsum(axis=1), (2, 3)), case(lambda x: x.cumsum(0), (4,))],
    "flip": [case(lambda x: x.flip(0), (2, 3)), case(lambda x: x.flip((0, 1)), (2, 3))],
    "repeat": [case(lambda x: x.repeat(2, 1), (2, 3)), case(lambda x: x.repeat(2, 1, 2), (2, 3))],
    "pad": [case(lambda x: x.pad((1, 2)), (2, 3)), case(lambda x: x.pad((1, 0, 0, 2), value=1.5), (2, 3))],
    "cat": [case(lambda a, b: tm.cat([a, b]), (2, 3), (1, 3)),
            case(lambda a, b: tm.cat([a, b], axis=1), (2, 3), (2, 1))],
    "stack": [case(lambda a, b: tm.stack([a, b]), (2, 3), (2, 3)),
              case(lambda a, b: tm.stack([a, b], axis=-1), (3,), (3,))],
    # the labels are an input without a gradient (a repeated label: two rows share a class)
    "nll_loss": [case(lambda x: tm.nn.nll_loss(x, np.array([0, 3, 3])), (3, 4))],
    "cross_entropy": [case(lambda x: tm.nn.cross_entropy(x, np.array([0, 3, 3])), (3, 4)),
                      case(lambda x: tm.nn.cross_entropy(x * 3, tm.Tensor([1])), (1, 2))],
}

KINDS = [(name, i, kind) for name, rows in CASES.items() for i in range(len(rows))
         for kind, forward in (("Value", "scalar"), ("Tensor", "array"))
         if name in OPS and getattr(OPS[name], forward) is not None]
IDS = [f"{name}[{i}]-{kind}" for name, i, kind in KINDS]
SECOND = [(k, i) for k, i in zip(KINDS, IDS) if CASES[k[0]][k[1]].grad]


@pytest.fixture
def applied(monkeypatch: pytest.MonkeyPatch) -> list[Op]:
    """The ops `engine.apply` runs while the test does (every module's ``apply`` is watched)."""
    seen: list[Op] = []
    real = engine.apply

    def watched(op: Op, inputs: tuple, ctx: Any = None) -> Any:
        seen.append(op)
        return real(op, inputs, ctx)
    for module in list(sys.modules.values()):
        if getattr(module, "__name__", "").startswith("tinygrad_memo") and \
                getattr(module, "apply", None) is real:
            monkeypatch.setattr(module, "apply", watched)
    return seen


def test_every_op_has_a_case_and_every_case_an_op():
    missing = sorted(set(OPS) - set(CASES))
    assert not missing, f"Ops without a row in CASES (add one per op): {missing}"
    unknown = sorted(set(CASES) - set(OPS))
    assert not unknown, f"rows in CASES for names that are not Ops in core/ops.py: {unknown}"
    assert all(CASES.values()), "an op's list of cases is empty"


@pytest.mark.parametrize("name, i, kind", KINDS, ids=IDS)
def test_first_derivatives(name, i, kind, applied):
    row, op = CASES[name][i], OPS[name]
    xs = row.inputs(kind)
    forward = "a scalar" if kind == "Value" else "an array"
    try:
        out = row.call(*xs)
    except AttributeError as exc:  # e.g. a scalar forward but no Value method
        pytest.fail(f"ops.{name} has {forward} forward, but {kind} cannot run its case: {exc}")
    made = {n._fn for n in engine.toposort(out)} if isinstance(out, Node) and out.requires_grad else set()
    assert op in applied or op in made, \
        f"ops.{name} has {forward} forward, but calling {kind}s did not apply it"
    if not row.grad:
        assert not out.requires_grad, f"ops.{name} has no gradient, but its result requires one"
        return
    assert gradcheck(row.call, xs)


@pytest.mark.parametrize("name, i, kind", [k for k, _ in SECOND], ids=[i for _, i in SECOND])
def test_second_derivatives(name, i, kind):
    row = CASES[name][i]
    xs = row.inputs(kind)
    out = row.call(*xs)
    rng = np.random.default_rng(2)
    v = Value(float(rng.uniform(0.5, 1.5))) if kind == "Value" else t64(rng.uniform(0.5, 1.5, out.shape))
    assert gradcheck(first_derivatives(row.call), [*xs, v])
