"""`jit(fn)`: memoize the whole training step — trace it once per input signature, then
replay the recorded program with no graph at all."""
from __future__ import annotations

import functools
from typing import Any, Callable, NamedTuple

import numpy as np

from ..core.engine import Node
from ..core.modes import grad_mode
from ..core.tensor import _wrap
from ..core.value import Value
from .program import Program, compile_graph
from .trace import TraceError, settle, signature, trace


class CacheInfo(NamedTuple):
    """As functools.lru_cache's: hits, misses, maxsize (None: unbounded), currsize
    (programs held)."""

    hits: int
    misses: int
    maxsize: int | None
    currsize: int


class DivergenceError(RuntimeError):
    """``check=True``: the replayed program and the eager run of fn disagree."""


class Jitted:
    """What `jit` returns: call it as you would call fn, plus backward (see `jit`)."""

    def __init__(self, fn: Callable[..., Node], check: bool = False) -> None:
        if not callable(fn):
            raise TypeError(f"jit: fn must be callable, got {type(fn).__name__}")
        functools.update_wrapper(self, fn)
        self.fn, self.check = fn, check
        self._programs: dict[Any, Program] = {}
        self._last: Program | None = None
        self._hits = self._misses = 0

    def __call__(self, *args: Any) -> Node:
        if grad_mode.record is not True:
            _refuse_mode()
        key, inputs = signature(args)
        prog = self._programs.get(key)
        if prog is None or prog.params_changed():
            self._misses += 1
            return self._trace(key, args, inputs)
        self._hits += 1
        self._last = prog
        hooked = prog.hooked()
        if hooked is not None:
            raise TraceError(f"jit: a parameter ({_describe(hooked)}) now has a gradient hook; "
                             "hooks are not replayed: remove it, or call cache_clear() and run "
                             "without jit")
        if self.check or not prog.checked:  # the first replay of a program is always checked
            prog.checked = True
            return self._checked(prog, args, inputs)
        with prog.lock:
            return _result(prog, prog.run(inputs, prog.params))

    def _trace(self, key: Any, args: tuple, inputs: list[Any]) -> Node:
        out: Any
        out, graph = trace(self.fn, args, inputs)
        out.backward()
        result = out.detach()
        del out  # fn's graph dies here: leaves still alive are parameters
        settle(graph)
        prog = self._programs[key] = compile_graph(graph)
        self._last = prog
        return result

    def _checked(self, prog: Program, args: tuple, inputs: list[Any]) -> Node:
        """Replay, then run fn eagerly on the same arguments; raise where they part."""
        holders = [x for x in inputs if isinstance(x, Node)] + prog.params
        before = [h.grad for h in holders]
        with prog.lock:
            replayed = _result(prog, prog.run(inputs, prog.params))
        got = [h.grad for h in holders]
        for h, g in zip(holders, before):
            h.grad = g
        out: Any
        out, graph = trace(self.fn, args, inputs)
        ops = [(s.op.name, "") for s in graph.steps]
        for k, ((name, _), (now, _)) in enumerate(zip(prog.ops, ops)):  # the first op that differs
            if name != now:
                raise DivergenceError(
                    f"jit check: op {k} of the traced program is '{name}' but fn now applies "
                    f"'{now}': fn's Python control flow depends on the data (it was frozen at "
                    "trace time); take the branch out of the step, or jit each branch apart")
        if len(ops) != len(prog.ops):
            raise DivergenceError(f"jit check: the traced program applies {len(prog.ops)} ops "
                                  f"but fn now applies {len(ops)}: its control flow depends on "
                                  "the data (frozen at trace time)")
        out.backward()
        if not _close(replayed.data, out.data):
            raise DivergenceError(
                f"jit check: the forward value differs: replayed {replayed.data!r}, eager "
                f"{out.data!r}; fn computes something outside the ops that the trace froze (a "
                "branch on a value, a number read from data, an array made with NumPy inside fn "
                "from an input, such as one-hot targets built with np.eye, or random numbers "
                "drawn inside fn); see docs/jit.md")
        for h, g in zip(holders, got):
            if not _close(g, h.grad):
                raise DivergenceError(f"jit check: the gradient of {_describe(h)} differs: "
                                      f"replayed {g!r}, eager {h.grad!r}")
        return out.detach()

    def cache_info(self) -> CacheInfo:
        return CacheInfo(self._hits, self._misses, None, len(self._programs))

    def cache_clear(self) -> None:
        """Forget every program (and the counts): the next call traces again."""
        self._programs.clear()
        self._last = None
        self._hits = self._misses = 0

    @property
    def source(self) -> str:
        """The Python source of the program the last call ran."""
        if self._last is None:
            raise RuntimeError("jit: no program yet; call the step once to trace it")
        return self._last.source

    def show(self) -> None:
        """Print `source`."""
        print(self.source)


def jit(fn: Callable[..., Node], check: bool = False) -> Jitted:
    """Memoize a training step: ``step = jit(fn)``; ``step(*args)`` does what
    ``out = fn(*args); out.backward(); return out.detach()`` does.

    The first call for each signature of ``args`` (shapes and dtypes of the Values, Tensors
    and arrays in it, the values of everything else) runs fn eagerly and records it; later
    calls replay the recorded program, reading the parameters' current ``.data``. Python
    control flow inside fn is frozen at trace time; ``check=True`` runs every replay next
    to an eager run and raises `DivergenceError` where they disagree.
    """
    return Jitted(fn, check)


def _result(prog: Program, data: Any) -> Node:
    """The detached result: the program hands out an array of its own, so it is wrapped
    as it is (``Tensor(data)`` would copy and check it again: 2 us of a 100 us step)."""
    if prog.scalar:
        return Value(data)
    return _wrap(data if data.__class__ is np.ndarray else np.asarray(data))


def _refuse_mode() -> None:
    if not grad_mode.enabled:
        raise RuntimeError("jit: the step is called under no_grad(), but a step runs backward; "
                           "call it with gradients enabled (evaluate with fn itself)")
    raise RuntimeError("jit: the step is called inside detect_anomaly() (or another trace); run "
                       "fn without jit to find where a NaN is made")


def _describe(node: Node) -> str:
    shape = tuple(node.shape)
    return f"a {type(node).__name__}" + (f" of shape {shape}" if shape else "")


def _close(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=1e-5, atol=1e-8, equal_nan=True))
