"""`Module`: the base class of every network, scalar or tensor.

Why a base class: a model is a tree of attributes (layers in lists, weights in layers).
Walking that tree in a fixed order gives every parameter a stable, readable name such as
``layers.0.weight``; the names drive the optimizer's parameter list, ``state_dict`` and the
``.npz`` files, and they become the parameters' labels in graph pictures.
"""
from __future__ import annotations

from typing import Any, Iterator

import numpy as np

from ..core.tensor import Tensor
from ..core.value import Value
from .serialize import load_module, register_class, save_module

Parameter = Tensor | Value

def _is_parameter(x: Any) -> bool:
    """A trainable leaf: any Value (micrograd semantics) or a Tensor that requires grad."""
    return isinstance(x, Value) or (isinstance(x, Tensor) and x.requires_grad)


class Module:
    """A network: public attributes that are parameters, sub-modules or lists of them.

    Parameters are found by walking public attributes (names not starting with ``_``) in the
    order they were assigned, then into lists, tuples, dicts (string keys) and sub-modules.
    A parameter reachable twice is listed once, under the first name that reaches it.
    Subclasses implement ``forward``; ``model(x)`` calls it. To be rebuilt by `Module.load`
    a subclass also implements ``config()``: its constructor arguments as a JSON-able dict.
    """

    # True while training (Dropout drops, BatchNorm1d uses and updates batch statistics);
    # a class default, so subclasses need not call an __init__. Set by `train` and `eval`.
    training: bool = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        register_class(cls)  # Module.load rebuilds only registered classes

    # -- structure ---------------------------------------------------------------------------
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    def named_parameters(self) -> list[tuple[str, Parameter]]:
        """``(name, parameter)`` pairs in a fixed order; also labels each parameter by its name.

        A label is replaced unless it already ends with ``"." + name`` (it was named from an
        enclosing model), so asking a sub-module for its parameters keeps the full names.
        """
        pairs: list[tuple[str, Parameter]] = []
        seen: set[int] = set()
        for name, p in _walk(self, ""):
            if id(p) in seen:
                continue
            seen.add(id(p))
            pairs.append((name, p))
            label = p.label
            if label != name and not (isinstance(label, str) and label.endswith("." + name)):
                p.label = name
        return pairs

    def parameters(self) -> list[Parameter]:
        """Every parameter once, in the order of `named_parameters`."""
        return [p for _, p in self.named_parameters()]

    def num_parameters(self) -> int:
        """How many numbers training adjusts: the sizes of all parameters (a Value counts 1)."""
        return sum(1 if isinstance(p, Value) else p.size for p in self.parameters())

    def named_modules(self) -> list[tuple[str, "Module"]]:
        """``(name, module)`` for this module (name ``""``) and every sub-module, each once,
        found by the same walk as the parameters."""
        pairs: list[tuple[str, Module]] = []
        seen: set[int] = set()
        for name, m in _walk(self, "", modules=True):
            if id(m) not in seen:
                seen.add(id(m))
                pairs.append((name, m))
        return pairs

    def train(self, mode: bool = True) -> "Module":
        """Put this module and every sub-module in training mode (``mode=False``: evaluation).

        Only some layers care: `Dropout` is the identity in evaluation, `BatchNorm1d` then
        normalises with its running statistics instead of the batch's. Returns the module.
        """
        if not isinstance(mode, bool):
            raise ValueError(f"train: mode must be True or False, got {mode!r}")
        for _, m in self.named_modules():
            m.training = mode
        return self

    def eval(self) -> "Module":
        """Evaluation mode, the same as ``train(False)``; returns the module."""
        return self.train(False)

    # -- buffers: state that is saved but not trained (BatchNorm's running statistics) ------
    def register_buffer(self, name: str, value: Any) -> Tensor:
        """Keep ``value`` (an array or a Tensor without grad) as ``self.<name>``, saved in
        `state_dict` and model files but never given to an optimizer. Returns the Tensor."""
        if not isinstance(name, str) or not name.isidentifier() or name.startswith("_"):
            raise ValueError(f"register_buffer: name must be a public identifier, got {name!r}")
        if isinstance(value, Tensor) and value.requires_grad:
            raise ValueError(f"register_buffer: {name} requires grad, so it is a parameter; "
                             "assign it as an attribute instead")
        tensor = value if isinstance(value, Tensor) else Tensor(np.asarray(value))
        names = self.__dict__.setdefault("_buffer_names", [])
        if name not in names:
            names.append(name)
        setattr(self, name, tensor)
        return tensor

    def named_buffers(self) -> list[tuple[str, Tensor]]:
        """``(name, buffer)`` pairs of this module and its sub-modules (``bn.running_mean``)."""
        pairs: list[tuple[str, Tensor]] = []
        for prefix, m in self.named_modules():
            for name in m.__dict__.get("_buffer_names", ()):
                pairs.append((f"{prefix}.{name}" if prefix else name, getattr(m, name)))
        return pairs

    def buffers(self) -> list[Tensor]:
        """Every buffer, in the order of `named_buffers`."""
        return [b for _, b in self.named_buffers()]

    def zero_grad(self) -> None:
        """Forget accumulated gradients: a Value's grad becomes 0.0, a Tensor's None."""
        for p in self.parameters():
            p.zero_grad()

    def config(self) -> dict[str, Any] | None:
        """The constructor arguments that rebuild this module (JSON types); None if unknown."""
        return None

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "Module":
        """The module `config` describes: ``cls(**config)`` (containers rebuild their parts)."""
        return cls(**config)

    @classmethod
    def config_size(cls, config: dict[str, Any]) -> int | None:
        """How many numbers ``cls(**config)`` would hold, computed without building it (None:
        unknown). `Module.load` asks first and refuses a file whose config wants more numbers
        than the file holds, so a tiny hostile file cannot make it allocate terabytes."""
        return None

    # -- state: names -> arrays --------------------------------------------------------------
    def state_dict(self) -> dict[str, np.ndarray]:
        """A copy of every parameter's and buffer's numbers, by name (a Value becomes a 0-d
        float64 array)."""
        return {name: np.array(p.data, dtype=np.float64 if isinstance(p, Value) else None)
                for name, p in [*self.named_parameters(), *self.named_buffers()]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Copy ``state`` into the parameters and buffers; names and shapes must match exactly.

        Everything is checked before anything is copied, so on any mismatch the model is
        left unchanged and the ValueError lists the missing, extra and wrongly shaped arrays.
        """
        if not isinstance(state, dict):
            raise TypeError(f"load_state_dict: expected a dict of name -> array, "
                            f"got {type(state).__name__}")
        params: dict[str, Parameter] = dict([*self.named_parameters(), *self.named_buffers()])
        missing = [n for n in params if n not in state]
        extra = [n for n in state if n not in params]
        arrays: dict[str, np.ndarray] = {}
        wrong: list[str] = []
        for name, p in params.items():
            if name not in state:
                continue
            value = state[name]
            try:
                arr = np.asarray(value.data if isinstance(value, (Tensor, Value)) else value)
            except (TypeError, ValueError) as exc:  # a ragged list, say
                wrong.append(f"{name} is not an array of numbers ({exc})")
                continue
            if arr.dtype.kind not in "fiub":
                wrong.append(f"{name} has dtype {arr.dtype}, expected numbers")
            elif arr.shape != tuple(p.shape):
                wrong.append(f"{name} has shape {arr.shape}, expected {tuple(p.shape)}")
            else:
                arrays[name] = arr
        if missing or extra or wrong:
            problems = []
            if missing:
                problems.append("missing " + ", ".join(missing))
            if extra:
                problems.append("unexpected " + ", ".join(extra))
            problems.extend(wrong)
            raise ValueError(f"load_state_dict: the state does not fit {type(self).__name__} "
                             f"(model unchanged): " + "; ".join(problems))
        for name, arr in arrays.items():
            p = params[name]
            if isinstance(p, Value):
                p.data = float(arr)
            else:
                p.data = arr.astype(p.dtype, copy=True)

    # -- files ---------------------------------------------------------------------------------
    def save(self, path: Any) -> Any:
        """Write the parameters and the constructor config to ``path`` as ``.npz`` (no pickle).

        The file is written next to ``path`` under a temporary name and then renamed, so a
        crash never leaves a half-written model. Returns the path as a `pathlib.Path`.
        """
        return save_module(self, path)

    @classmethod
    def load(cls, path: Any) -> "Module":
        """Rebuild a model written by `save`: its class and config, then its parameters.

        ``Module.load(path)`` accepts any registered class; ``MLP.load(path)`` also checks
        that the file holds an MLP. Files with pickles, object arrays, missing/extra/wrongly
        shaped arrays or anything that is not such an ``.npz`` raise ``ModelFileError``
        (a ValueError) naming the file.
        """
        return load_module(cls, path)

    def __repr__(self) -> str:
        cfg = self.config()
        args = ", ".join(f"{k}={v!r}" for k, v in cfg.items()) if cfg else ""
        return f"{type(self).__name__}({args})"


def _walk(obj: Any, prefix: str, modules: bool = False) -> Iterator[tuple[str, Any]]:
    """Depth-first over a module's public attributes, lists and sub-modules (no recursion
    limit worth worrying about: depth is the nesting of the model, not of the graph).

    Yields the parameters, or with ``modules=True`` the modules (each before its contents)."""
    if not modules and _is_parameter(obj):
        yield prefix.rstrip("."), obj
    elif isinstance(obj, Module):
        if modules:
            yield prefix.rstrip("."), obj
        for key, value in vars(obj).items():
            if not key.startswith("_"):
                yield from _walk(value, f"{prefix}{key}.", modules)
    elif isinstance(obj, (list, tuple)):
        for i, value in enumerate(obj):
            yield from _walk(value, f"{prefix}{i}.", modules)
    elif isinstance(obj, dict):
        for key, value in obj.items():
            if isinstance(key, str):
                yield from _walk(value, f"{prefix}{key}.", modules)
