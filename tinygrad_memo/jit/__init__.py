"""`jit(fn)`: the third memo. Fibonacci memoizes values, backprop memoizes gradients, jit
memoizes the program of a whole training step (see docs/jit.md).

trace.py records one call; source.py turns op-table functions into code; program.py
writes and compiles the program; step.py is the memoizing callable.
"""
from .step import CacheInfo, DivergenceError, Jitted, jit
from .trace import TraceError

__all__ = ["jit", "Jitted", "CacheInfo", "DivergenceError", "TraceError"]
