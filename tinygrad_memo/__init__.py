"""tinygrad_memo: backpropagation is memoization, made small, fast and visible."""
from .core.anomaly import AnomalyError, detect_anomaly
from .checkpointing import checkpoint
from .core.engine import GraphFreedError, grad, no_grad
from .gradcheck import GradcheckError, gradcheck, numerical_grad
from .core.tensor import Tensor
from .core.value import Value
from . import memo, nn, optim

__all__ = ["Value", "Tensor", "grad", "no_grad", "gradcheck", "numerical_grad",
           "GradcheckError", "testing", "detect_anomaly", "AnomalyError", "GraphFreedError",
           "checkpoint", "memo", "nn", "optim", "viz"]
__version__ = "0.1.0"


def __getattr__(name: str):
    """`tinygrad_memo.testing` is imported on first use: it pulls in Hypothesis (~0.1 s)."""
    if name == "testing":
        import importlib
        return importlib.import_module(".testing", __name__)
    raise AttributeError(f"module 'tinygrad_memo' has no attribute {name!r}")
