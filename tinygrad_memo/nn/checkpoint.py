"""`Checkpoint(module)`: the same module, but its activations are recomputed in backward.

Why a wrapper module: checkpointing is a property of where a model is cut, not of a layer
type, so any module (a layer, a block, a whole MLP) can be wrapped without changing it.
Wrap each block of a deep network to keep only the blocks' outputs during the forward
pass (see `tinygrad_memo.checkpoint` and docs/checkpointing.md for the trade-off).
"""
from __future__ import annotations

import functools
from typing import Any

from ..checkpointing import checkpoint
from .module import Module


class Checkpoint(Module):
    """Run ``module`` through `tinygrad_memo.checkpoint`: same outputs and gradients, less
    memory, one more forward of ``module`` during backward.

    Its parameters are the wrapped module's, named ``module.<name>``.
    """

    def __init__(self, module: Module) -> None:
        if not isinstance(module, Module):
            raise TypeError(f"Checkpoint: expected a Module to wrap, got {type(module).__name__}")
        self.module = module

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        fn = functools.partial(self.module, **kwargs) if kwargs else self.module
        return checkpoint(fn, *args)

    def __repr__(self) -> str:
        return f"Checkpoint({self.module!r})"
