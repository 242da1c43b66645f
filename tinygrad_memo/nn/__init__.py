"""Neural networks: `Module`, layers, activations, losses, and micrograd's scalar nets in
`scalar`.

A model is a `Module` whose public attributes hold its parameters (Tensors that require
grad, or Values) and sub-modules; see docs/nn.md.
"""
from . import scalar
from .activations import (ELU, GELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, SiLU, Softmax,
                          Softplus, Tanh)
from .containers import Flatten, Identity, Sequential
from .dropout import Dropout
from .embedding import Embedding
from .layers import MLP, Linear
from .losses import (binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy,
                     hinge_loss, l1_loss, mse_loss, nll_loss)
from .module import Module
from .normalization import BatchNorm1d, LayerNorm
from .serialize import ModelFileError, load_arrays
from . import utils
from .checkpoint import Checkpoint

__all__ = ["Module", "Linear", "MLP", "Sequential", "Identity", "Flatten", "Embedding",
           "Dropout", "LayerNorm", "BatchNorm1d",
           "ReLU", "Tanh", "Sigmoid", "GELU", "SiLU", "Softplus", "LeakyReLU", "ELU", "Softmax",
           "LogSoftmax",
           "mse_loss", "cross_entropy", "nll_loss", "binary_cross_entropy",
           "binary_cross_entropy_with_logits", "l1_loss", "hinge_loss",
           "ModelFileError", "load_arrays", "scalar", "utils", "Checkpoint"]
