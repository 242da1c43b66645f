"""tinygrad_memo: backpropagation is memoization, made small, fast and visible."""
from typing import Any

from .core.anomaly import AnomalyError, detect_anomaly
from .core.engine import GraphFreedError, grad
from .core.modes import enable_grad, is_grad_enabled, no_grad
from .core.creation import (arange, eye, full, full_like, linspace, manual_seed, ones, ones_like,
                            rand, randint, randn, zeros, zeros_like)
from .core.tensor import Tensor, cat, concatenate, maximum, minimum, stack, where
from .core.value import Value
from .checkpointing import checkpoint
from .gradcheck import GradcheckError, gradcheck, numerical_grad
from .jit import jit
from . import memo, nn, optim

__all__ = ["Value", "Tensor", "grad", "no_grad", "enable_grad", "is_grad_enabled",
           "gradcheck", "numerical_grad", "GradcheckError", "testing", "detect_anomaly",
           "AnomalyError", "GraphFreedError", "checkpoint", "jit", "memo", "nn", "optim", "viz",
           "zeros", "ones", "full", "arange", "linspace", "eye", "rand", "randn", "randint",
           "zeros_like", "ones_like", "full_like", "manual_seed",
           "cat", "concatenate", "stack", "where", "maximum", "minimum"]
__version__ = "0.1.0"

_ON_FIRST_USE = ("testing", "viz")  # they pull in Hypothesis and graphviz: only when asked


def __getattr__(name: str) -> Any:
    """`tinygrad_memo.testing` and `tinygrad_memo.viz` are imported on first use, so that
    the core needs NumPy alone."""
    if name in _ON_FIRST_USE:
        import importlib
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'tinygrad_memo' has no attribute {name!r}")
