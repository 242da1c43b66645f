"""The graphs the report measures: a diamond chain (paths double per level) and a scalar MLP."""
from __future__ import annotations

import numbers
import random

from ..core.value import Value


def diamond_chain(depth: int, a: float = 0.7, b: float = 0.4) -> tuple[Value, list[Value]]:
    """x -> (x*a, x*b) -> their sum, ``depth`` times. Returns ``(output, [x])``.

    Every level offers two ways down, so there are 2**depth paths from the output to x,
    each 2*depth edges long, while the graph has only 6 edges per level (the constants a
    and b are leaves too). d(output)/dx = (a + b)**depth.
    """
    if isinstance(depth, bool) or not isinstance(depth, numbers.Integral) or depth < 0:
        raise ValueError(f"diamond_chain: depth must be a non-negative integer, got {depth!r}")
    x = Value(1.0, label="x")
    y = x
    for _ in range(depth):
        y = y * a + y * b
    return y, [x]


def scalar_mlp(layers: int, width: int = 3, seed: int = 0) -> tuple[Value, list[Value]]:
    """A micrograd-style network of Values: ``width`` inputs, ``layers - 1`` tanh layers of
    ``width`` neurons, one linear output neuron. Returns ``(output, parameters)``.

    A weight in the first layer reaches the output through every choice of one neuron per
    later hidden layer: width**(layers - 2) paths, so path counts grow by ``width`` per layer.
    """
    if isinstance(layers, bool) or not isinstance(layers, numbers.Integral) or layers < 1:
        raise ValueError(f"scalar_mlp: layers must be a positive integer, got {layers!r}")
    if isinstance(width, bool) or not isinstance(width, numbers.Integral) or width < 1:
        raise ValueError(f"scalar_mlp: width must be a positive integer, got {width!r}")
    rng = random.Random(seed)
    xs: list[Value] = [Value(rng.uniform(-1, 1)) for _ in range(width)]
    params: list[Value] = []
    for layer in range(layers):
        last = layer == layers - 1
        outs = []
        for _ in range(1 if last else width):
            ws = [Value(rng.uniform(-1, 1)) for _ in xs]
            act = Value(0.0)
            params += ws
            params.append(act)                      # the bias
            for w, x in zip(ws, xs):
                act = act + w * x
            outs.append(act if last else act.tanh())
        xs = outs
    return xs[0], params
