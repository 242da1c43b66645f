"""Neural networks: `Module`, `Linear`, `MLP`, losses, and micrograd's scalar nets in `scalar`.

A model is a `Module` whose public attributes hold its parameters (Tensors that require
grad, or Values) and sub-modules; see docs/nn.md.
"""
from . import scalar
from .layers import MLP, Linear
from .losses import cross_entropy, hinge_loss, mse_loss
from .module import Module
from .serialize import ModelFileError, load_arrays
from . import utils
from .checkpoint import Checkpoint

__all__ = ["Module", "Linear", "MLP", "mse_loss", "cross_entropy", "hinge_loss",
           "ModelFileError", "load_arrays", "scalar", "utils", "Checkpoint"]
