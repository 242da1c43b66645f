"""Operands that write code: run an op's forward or vjp (from `core.ops`) on them and
each operation they take part in becomes Python source.

`Expr` stands for a float: operators build one expression, so a local derivative is one
line (``g3 += g5 * v4``). `Arr` stands for an array and carries its value at trace time:
each NumPy operation becomes one line writing into a buffer allocated once
(``v5 = multiply(v3, v4, B5)``). Anything they cannot follow (a branch on a value, a
NumPy function that is not a ufunc, an index assignment) raises `Untraceable`, and the
caller emits a call of the op's own function instead: the code always comes from the
op table, inlined where possible, called where not. One kind of branch is followed: a
vjp's test of a single value (keep_where's "did the product make a NaN?") is taken as it
went at trace time and written down as a guard (`Source.guards`), after which the caller
emits the op's own call for the replays where the test goes the other way.
"""
from __future__ import annotations

import math
import operator
from typing import Any

import numpy as np

from ..core import ops


class Untraceable(Exception):
    """The function did something a symbolic operand cannot turn into code."""


# Python's own infix syntax for the `operator` functions an op may use as its forward.
INFIX = {operator.add: "+", operator.sub: "-", operator.mul: "*"}

# ufunc -> the float function of the op whose array forward it is (np.log -> ops._log)
SCALAR_OF = {op.array: op.scalar for op in vars(ops).values()
             if isinstance(op, ops.Op) and isinstance(op.array, np.ufunc) and op.scalar}

REDUCE: dict[Any, Any] = {np.add: np.add.reduce, np.maximum: np.maximum.reduce}  # one name each


class Source:
    """A program being written: its lines, and the objects its free names refer to."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.names: dict[str, Any] = {"np": np}
        self._bound: dict[int, str] = {}
        self.inputs: dict[int, str] = {}     # id(input array) -> its local name
        self.buffers: dict[str, np.ndarray] = {}
        self.alloc: dict[int, str] = {}      # line index -> the same line allocating its result
        self.guards: list[tuple[str, bool]] | None = None  # while on: (test, its trace-time outcome)
        self._n = 0

    def emit(self, line: str) -> int:
        self.lines.append(line)
        return len(self.lines) - 1

    def fresh(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}{self._n}"

    def bind(self, obj: Any, hint: str) -> str:
        """A free name for ``obj`` (the same one each time it is asked for)."""
        name = self._bound.get(id(obj))
        if name is None:
            name = hint if hint.isidentifier() and hint not in self.names else self.fresh(
                hint if hint.isidentifier() else "k")
            self.names[name] = obj
            self._bound[id(obj)] = name
        return name

    def literal(self, x: Any) -> str:
        """Source text for a constant (numbers as literals, other objects by name)."""
        if isinstance(x, (Expr, Arr)):
            return x.text
        cls = x.__class__
        if x is None or cls is bool:
            return repr(x)
        if cls is int or cls is float:
            if cls is float and not math.isfinite(x):
                return self.bind(x, "inf" if x > 0 else "ninf" if x < 0 else "nan")
            text = repr(x)
            return f"({text})" if text.startswith("-") else text
        if cls is tuple:
            items = [self.literal(v) for v in x]
            return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
        if id(x) in self.inputs:
            return self.inputs[id(x)]
        return self.bind(x, "k")

    def text(self) -> str:
        return "\n".join(self.lines)


# -- floats ------------------------------------------------------------------------------


class Expr:
    """A float in generated code: just its source text."""

    __slots__ = ("text", "src")
    shape: tuple = ()
    dtype = float
    ndim = 0

    def __init__(self, text: str, src: Source) -> None:
        self.text, self.src = text, src

    def _bin(self, other: Any, sym: str, reflected: bool = False) -> "Expr":
        o = self.src.literal(_operand(other))
        a, b = (o, self.text) if reflected else (self.text, o)
        return Expr(f"({a} {sym} {b})", self.src)

    def _call(self, fn: Any, name: str, *args: Any) -> "Expr":
        f = self.src.bind(fn, name)
        return Expr(f"{f}({', '.join(self.src.literal(_operand(a)) for a in args)})", self.src)

    def __add__(self, o: Any) -> "Expr": return self._bin(o, "+")
    def __radd__(self, o: Any) -> "Expr": return self._bin(o, "+", True)
    def __sub__(self, o: Any) -> "Expr": return self._bin(o, "-")
    def __rsub__(self, o: Any) -> "Expr": return self._bin(o, "-", True)
    def __mul__(self, o: Any) -> "Expr": return self._bin(o, "*")
    def __rmul__(self, o: Any) -> "Expr": return self._bin(o, "*", True)
    def __gt__(self, o: Any) -> "Expr": return self._bin(o, ">")
    def __lt__(self, o: Any) -> "Expr": return self._bin(o, "<")
    def __ge__(self, o: Any) -> "Expr": return self._bin(o, ">=")
    def __le__(self, o: Any) -> "Expr": return self._bin(o, "<=")
    # the float semantics of the op table (inf/nan instead of ZeroDivisionError, ...)
    def __truediv__(self, o: Any) -> "Expr": return self._call(ops.div.scalar, "div", self, o)
    def __rtruediv__(self, o: Any) -> "Expr": return self._call(ops.div.scalar, "div", o, self)
    def __pow__(self, o: Any) -> "Expr": return self._call(ops.pow_.scalar, "pow", self, o)
    def __rpow__(self, o: Any) -> "Expr": return self._call(ops.pow_.scalar, "pow", o, self)

    def __neg__(self) -> "Expr":
        return Expr(f"(-{self.text})", self.src)

    def __array_ufunc__(self, ufunc: Any, method: str, *args: Any, **kwargs: Any) -> "Expr":
        fn = SCALAR_OF.get(ufunc)
        if fn is None or method != "__call__" or kwargs:
            raise Untraceable(f"{ufunc.__name__} on a float")
        return self._call(fn, ufunc.__name__, *args)

    def __bool__(self) -> bool:
        raise Untraceable("a branch on a value")

    def __array__(self, *args: Any, **kwargs: Any) -> Any:
        raise Untraceable("a float turned into an array")


def _operand(x: Any) -> Any:
    if isinstance(x, (Expr, Arr)) or x.__class__ in (int, float, bool):
        return x
    raise Untraceable(f"an operand of type {type(x).__name__}")


# -- arrays ------------------------------------------------------------------------------


class Arr:
    """An array in generated code: the local that holds it, its value at trace time, and
    whether the program may hand it out (``fresh``: no buffer, nobody else's array)."""

    __slots__ = ("text", "value", "src", "line", "fresh")
    __array_priority__ = 1000

    def __init__(self, text: str, value: Any, src: Source, line: int | None = None,
                 fresh: bool = False) -> None:
        self.text, self.value, self.src, self.line, self.fresh = text, value, src, line, fresh

    @property
    def shape(self) -> tuple[int, ...]:
        return np.shape(self.value)

    @property
    def dtype(self) -> Any:
        return np.asarray(self.value).dtype

    @property
    def ndim(self) -> int:
        return np.ndim(self.value)

    @property
    def size(self) -> int:
        return int(np.size(self.value))

    @property
    def T(self) -> "Arr":
        return self._view(self.value.T, f"{self.text}.T")

    def _view(self, value: Any, expr: str) -> "Arr":
        name = self.src.fresh("t")
        return Arr(name, value, self.src, self.src.emit(f"{name} = {expr}"))

    def _into(self, fn_name: str, fn: Any, value: Any, args: list[str], extra: str = "") -> "Arr":
        """One line computing ``value`` with ``fn`` into a buffer of its own."""
        value = np.asarray(value) if not isinstance(value, np.ndarray) else value
        name = self.src.fresh("t")
        buf = self.src.fresh("B")
        self.src.buffers[buf] = self.src.names[buf] = np.empty_like(value)
        f = self.src.bind(fn, fn_name)
        call = f"{f}({', '.join(args)}{extra}"
        keyword = extra or fn is np.maximum or fn is np.minimum  # (their positional out is deprecated)
        line = self.src.emit(f"{name} = {call}, out={buf})" if keyword else f"{name} = {call}, {buf})")
        self.src.alloc[line] = f"{name} = {call})"
        return Arr(name, value, self.src, line)

    def __array_ufunc__(self, ufunc: Any, method: str, *args: Any, **kwargs: Any) -> "Arr":
        if method != "__call__" or kwargs or ufunc.nout != 1:
            raise Untraceable(f"{ufunc.__name__}.{method}")
        vals = [a.value if isinstance(a, Arr) else _array_operand(a) for a in args]
        return self._into(ufunc.__name__, ufunc, ufunc(*vals), [self.src.literal(a) for a in args])

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        raise Untraceable(f"np.{func.__name__}")

    def __array__(self, *args: Any, **kwargs: Any) -> Any:
        raise Untraceable("an array made from a symbolic one")

    def __bool__(self) -> bool:
        """A branch on one value: followed as it went at trace time, and recorded in
        ``src.guards`` for the caller to guard (only while it has guards on)."""
        guards = self.src.guards
        if guards is None or self.shape != ():
            raise Untraceable("a branch on a value")
        outcome = bool(self.value)
        guards.append((self.text, outcome))
        return outcome

    def __len__(self) -> int:
        raise Untraceable("len()")

    def __add__(self, o: Any) -> "Arr": return np.add(self, o)
    def __radd__(self, o: Any) -> "Arr": return np.add(o, self)
    def __sub__(self, o: Any) -> "Arr": return np.subtract(self, o)
    def __rsub__(self, o: Any) -> "Arr": return np.subtract(o, self)
    def __mul__(self, o: Any) -> "Arr": return np.multiply(self, o)
    def __rmul__(self, o: Any) -> "Arr": return np.multiply(o, self)
    def __truediv__(self, o: Any) -> "Arr": return np.divide(self, o)
    def __rtruediv__(self, o: Any) -> "Arr": return np.divide(o, self)
    def __pow__(self, o: Any) -> "Arr": return np.power(self, o)
    def __rpow__(self, o: Any) -> "Arr": return np.power(o, self)
    def __matmul__(self, o: Any) -> "Arr": return np.matmul(self, o)
    def __rmatmul__(self, o: Any) -> "Arr": return np.matmul(o, self)
    def __gt__(self, o: Any) -> "Arr": return np.greater(self, o)
    def __lt__(self, o: Any) -> "Arr": return np.less(self, o)
    def __ge__(self, o: Any) -> "Arr": return np.greater_equal(self, o)
    def __le__(self, o: Any) -> "Arr": return np.less_equal(self, o)
    def __eq__(self, o: Any) -> "Arr": return np.equal(self, o)  # type: ignore[override]
    def __ne__(self, o: Any) -> "Arr": return np.not_equal(self, o)  # type: ignore[override]
    def __neg__(self) -> "Arr": return np.negative(self)  # type: ignore[return-value]
    __hash__ = None  # type: ignore[assignment]

    def _reduce(self, ufunc: Any, axis: Any, keepdims: bool) -> "Arr":
        reduce = REDUCE[ufunc]
        value = reduce(self.value, axis=axis, keepdims=keepdims)
        extra = f", axis={self.src.literal(axis)}, keepdims={keepdims!r}"
        return self._into(f"{ufunc.__name__}_reduce", reduce, value, [self.text], extra)

    def sum(self, axis: Any = None, keepdims: bool = False) -> "Arr":
        return self._reduce(np.add, axis, keepdims)

    def max(self, axis: Any = None, keepdims: bool = False) -> "Arr":
        return self._reduce(np.maximum, axis, keepdims)

    def reshape(self, *shape: Any) -> "Arr":
        shape = shape[0] if len(shape) == 1 else shape
        return self._view(self.value.reshape(shape), f"{self.text}.reshape({self.src.literal(_ints(shape))})")

    def transpose(self, *axes: Any) -> "Arr":
        axes = axes[0] if len(axes) == 1 else axes
        return self._view(self.value.transpose(axes),
                          f"{self.text}.transpose({self.src.literal(_ints(axes))})")

    def astype(self, dtype: Any) -> "Arr":
        return self._view(self.value.astype(dtype), f"{self.text}.astype({self.src.literal(dtype)})")

    def __getitem__(self, index: Any) -> "Arr":
        return self._view(self.value[index], f"{self.text}[{self.src.literal(index)}]")


def _ints(x: Any) -> Any:
    """Shapes and axes as plain ints (np.argsort gives np.int64), so they print as literals."""
    if isinstance(x, tuple):
        return tuple(_ints(v) for v in x)
    if isinstance(x, (int, np.integer)) and not isinstance(x, bool):
        return int(x)
    raise Untraceable(f"a shape or axis of type {type(x).__name__}")


def _array_operand(x: Any) -> Any:
    if isinstance(x, (Expr, Arr)) or x.__class__ in (int, float, bool) or isinstance(x, np.ndarray):
        return x
    raise Untraceable(f"an operand of type {type(x).__name__}")
