"""micrograd's neural network on `Value`s: `Neuron`, `Layer`, `MLP(nin, nouts)`.

Same signatures and semantics as micrograd's ``nn.py``, so its notebooks run unchanged:
weights ~ U(-1, 1) from Python's ``random`` module, biases 0, ReLU on every layer but the
last, and ``model([x1, x2])`` returns one Value (one output) or a list of Values.
They are `Module`s too, so parameters get names (``layers.0.neurons.3.w.1``), and
``state_dict`` / ``save`` / ``load`` work on them. ``seed`` (an int or ``random.Random``) is
an addition: without it the global ``random`` stream is used, exactly like micrograd, so
``random.seed(1337)`` reproduces micrograd's demo.
"""
from __future__ import annotations

import operator
import random
from typing import Any, Sequence

from ..core.value import Value
from .module import Module, Parameter

Seed = int | random.Random | None


def _random(seed: Seed) -> Any:
    if seed is None or seed is random:
        return random  # the global stream, as micrograd does
    return seed if isinstance(seed, random.Random) else random.Random(seed)


class Neuron(Module):
    """``relu(w . x + b)`` (or without the relu when ``nonlin=False``)."""

    def __init__(self, nin: int, nonlin: bool = True, *, seed: Seed = None) -> None:
        rng = _random(seed)
        self.w = [Value(rng.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(0)
        self.nonlin = nonlin

    def __call__(self, x: Sequence[Any]) -> Value:
        # micrograd's sum(wi * xi ...), the same nodes in the same order; map, not a generator:
        # callgrind, the moons forward: 416M -> 401M instructions
        act = sum(map(operator.mul, self.w, x), self.b)
        return act.relu() if self.nonlin else act

    forward = __call__

    def parameters(self) -> list[Parameter]:
        return [*self.w, self.b]

    def config(self) -> dict[str, Any]:
        return {"nin": len(self.w), "nonlin": self.nonlin}

    @classmethod
    def config_size(cls, config: dict[str, Any]) -> int:
        return max(operator.index(config["nin"]), 0) + 1

    def __repr__(self) -> str:
        return f"{'ReLU' if self.nonlin else 'Linear'}Neuron({len(self.w)})"


class Layer(Module):
    """``nout`` neurons reading the same inputs."""

    def __init__(self, nin: int, nout: int, *, seed: Seed = None, **kwargs: Any) -> None:
        rng = _random(seed)
        self.neurons = [Neuron(nin, seed=rng, **kwargs) for _ in range(nout)]

    def __call__(self, x: Sequence[Any]) -> Value | list[Value]:
        out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    forward = __call__

    def parameters(self) -> list[Parameter]:
        return [p for n in self.neurons for p in n.parameters()]

    def config(self) -> dict[str, Any]:
        first = self.neurons[0]
        return {"nin": len(first.w), "nout": len(self.neurons), "nonlin": first.nonlin}

    @classmethod
    def config_size(cls, config: dict[str, Any]) -> int:
        return max(operator.index(config["nout"]), 0) * Neuron.config_size(config)

    def __repr__(self) -> str:
        return f"Layer of [{', '.join(str(n) for n in self.neurons)}]"


class MLP(Module):
    """Layers of sizes ``[nin] + nouts``; ReLU everywhere except the last layer."""

    def __init__(self, nin: int, nouts: Sequence[int], *, seed: Seed = None) -> None:
        rng = _random(seed)
        sz = [nin] + list(nouts)
        self.layers = [Layer(sz[i], sz[i + 1], seed=rng, nonlin=i != len(nouts) - 1)
                       for i in range(len(nouts))]
        self.named_parameters()  # label every Value by its name for graph pictures

    def __call__(self, x: Sequence[Any]) -> Value | list[Value]:
        out: Any = x
        for layer in self.layers:
            out = layer(out)
        return out

    forward = __call__

    def parameters(self) -> list[Parameter]:
        return [p for layer in self.layers for p in layer.parameters()]

    def config(self) -> dict[str, Any]:
        return {"nin": len(self.layers[0].neurons[0].w),
                "nouts": [len(layer.neurons) for layer in self.layers]}

    @classmethod
    def config_size(cls, config: dict[str, Any]) -> int:
        sizes = [config["nin"], *config["nouts"]]
        return sum(Layer.config_size({"nin": a, "nout": b}) for a, b in zip(sizes[:-1], sizes[1:]))

    def __repr__(self) -> str:
        return f"MLP of [{', '.join(str(layer) for layer in self.layers)}]"
