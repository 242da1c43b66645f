"""tinygrad_memo: backpropagation is memoization, made small, fast and visible."""
from .anomaly import AnomalyError, detect_anomaly
from .checkpointing import checkpoint
from .engine import GraphFreedError, grad, no_grad
from .gradcheck import GradcheckError, gradcheck, numerical_grad
from .tensor import Tensor
from .value import Value
from . import testing

__all__ = ["Value", "Tensor", "grad", "no_grad", "gradcheck", "numerical_grad",
           "GradcheckError", "testing", "detect_anomaly", "AnomalyError", "GraphFreedError",
           "checkpoint"]
__version__ = "0.1.0"
