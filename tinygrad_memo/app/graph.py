"""``tinygrad-memo graph``: draw the gradient flow of a built-in example (SVG, PNG or DOT),
or with ``--animate`` an HTML page that replays its backprop step by step.

The examples are small on purpose: each shows one thing about backprop that the picture
makes obvious. They are also what docs/make_figures.py and examples/visualize.py draw.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Callable, cast

from .cli import UsageError
from ..core.engine import Node
from ..core.value import Value

HELP = "write the gradient-flow picture of a built-in example (SVG, PNG or DOT)"


def neuron() -> Value:
    """micrograd's neuron: tanh(x1*w1 + x2*w2 + b). x2 = 0, so no gradient reaches w2."""
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    n = x1 * w1 + x2 * w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    return o


def diamond() -> Value:
    """x reaches the output by 4 paths (two diamonds); each edge shows its share of x's grad."""
    x = Value(0.5, label="x")
    a, b = x.tanh(), x.exp()
    a.label, b.label = "a", "b"
    y = a * b
    y.label = "y"
    z = y.tanh() + y
    z.label = "z"
    return z


def fib(n: int = 8) -> Value:
    """F(k) = F(k-1) + F(k-2) as a graph: d F(n)/d F(k) are Fibonacci numbers too."""
    a, b = Value(0.0, label="F0"), Value(1.0, label="F1")
    for k in range(2, n + 1):
        a, b = b, a + b
        b.label = f"F{k}"
    return b


def mlp() -> Node:
    """A Tensor MLP (2 -> 8 -> 8 -> 2, ReLU) and its cross-entropy on 16 moons points."""
    from ..data import make_moons
    from ..nn import MLP, cross_entropy
    from ..core.tensor import Tensor
    X, y = make_moons(16, noise=0.1, seed=0)
    model = MLP(2, [8, 8, 2], seed=0)
    loss = cross_entropy(model(Tensor(X, label="x")), y)
    loss.label = "loss"
    return loss


def scalar_mlp() -> Node:
    """micrograd's scalar MLP (2 -> 8 -> 8 -> 1, Values) with a hinge loss over 16 points:
    thousands of nodes, so it is drawn one box per layer (``--group-by layer``)."""
    from ..data import make_moons
    from ..nn.scalar import MLP
    X, y = make_moons(16, noise=0.1, seed=0)
    model = MLP(2, [8, 8, 1], seed=0)
    total = Value(0.0)
    for xi, yi in zip(X.tolist(), (2 * y - 1).tolist()):
        total = total + (1 - yi * model(xi)).relu()
    loss = total / len(X)
    loss.label = "loss"
    return loss


def pathologies() -> Value:
    """What the colours warn about: a dead ReLU (zero gradient) and an infinite gradient."""
    a, b = Value(-1.0, label="a"), Value(2.0, label="b")
    h = (a * b).relu()
    h.label = "h (dead ReLU)"
    c = Value(0.0, label="c")
    r = c ** 0.5
    r.label = "sqrt(c)"
    out = h + r
    out.label = "out"
    return out


#: name -> (builder, its best view: group_by for `viz.to_dot`, rankdir)
EXAMPLES: dict[str, tuple[Callable[[], Node], str | None, str]] = {
    "neuron": (neuron, None, "LR"),
    "diamond": (diamond, None, "LR"),
    "fib": (fib, None, "LR"),
    "mlp": (mlp, None, "TB"),          # a long chain of tall tensor boxes reads best downwards
    "scalar-mlp": (scalar_mlp, "layer", "LR"),
    "pathologies": (pathologies, None, "LR"),
}
FORMATS = ("svg", "dot", "png")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--example", default="neuron", metavar="NAME",
                        help=f"which graph: {', '.join(EXAMPLES)} (default: neuron)")
    parser.add_argument("--format", default=None, metavar="FMT",
                        help=f"{', '.join(FORMATS)} (default: from -o's suffix, else svg)")
    parser.add_argument("-o", "--output", default=None, metavar="FILE",
                        help="file to write, '-' for stdout (default: ./<example>.<format>)")
    parser.add_argument("--animate", action="store_true",
                        help="write an HTML page replaying backprop step by step instead "
                             "(default file: ./<example>.html)")
    parser.add_argument("--group-by", default=None, choices=["layer", "none"],
                        help="'layer': one box per layer (the default for scalar-mlp); "
                             "'none': one box per value")
    parser.add_argument("--rankdir", default=None, choices=["LR", "TB", "RL", "BT"],
                        help="layout direction (default: LR, inputs left and output right; "
                             "TB for mlp)")


def run(args: argparse.Namespace) -> int:
    from .. import viz
    if args.example not in EXAMPLES:
        raise UsageError(f"unknown example {args.example!r}; choose one of {', '.join(EXAMPLES)}")
    build, group_by, rankdir = EXAMPLES[args.example]
    if args.group_by is not None:
        group_by = None if args.group_by == "none" else args.group_by
    start = time.perf_counter()
    if args.animate:
        if args.format is not None or args.output == "-" or args.group_by == "layer":
            raise UsageError("--animate writes one HTML file of the full view: leave out "
                             "--format, --group-by and -o -")
        path = args.output or f"{args.example}.html"

        def replay() -> bool:
            viz.animate(build(), path, rankdir=args.rankdir or rankdir,
                        title=f"backprop of the {args.example} example, step by step")
            return True
        return _written(replay, path, start, args.example, "a replay can show; animate a smaller example")
    fmt = _format(args.format, args.output)
    path = args.output or f"{args.example}.{fmt}"

    def picture() -> bool:
        graph = viz.to_dot(build(), args.rankdir or rankdir, group_by=group_by,
                           title=f"tinygrad-memo graph --example {args.example}")
        if path == "-":
            sys.stdout.buffer.write(cast(bytes, graph.pipe(format=fmt)))   # no encoding: bytes
            sys.stdout.flush()
            return False
        viz.draw(graph, path, format=fmt)
        return True
    return _written(picture, path, start, args.example,
                    "a one-box-per-value picture can show; use --group-by layer")


def _written(write: Callable[[], bool], path: str, start: float, example: str, too_large: str) -> int:
    """Run ``write`` (True: it wrote ``path``, which is then reported), its refusals as
    usage errors: a graph too large to show, or a file that cannot be written."""
    from .. import viz
    try:
        wrote = write()
    except viz.GraphTooLargeError as exc:
        raise UsageError(f"the {example} graph has {exc.count:,} values, more than the "
                         f"{exc.limit} {too_large}") from None
    except OSError as exc:
        raise UsageError(exc.strerror or str(exc)) from None
    if wrote:
        print(f"wrote {path} ({os.path.getsize(path):,} bytes, {time.perf_counter() - start:.2f} s)")
    return 0


def _format(fmt: str | None, output: str | None) -> str:
    """--format (any case), else -o's suffix, else svg; a suffix that is no known format is
    refused rather than written as SVG under a misleading name."""
    if fmt is not None:
        if fmt.lower() not in FORMATS:
            raise UsageError(f"unknown format {fmt!r}; supported formats: {', '.join(FORMATS)}")
        return fmt.lower()
    suffix = os.path.splitext(output or "")[1].lower().lstrip(".") if output != "-" else ""
    if suffix and suffix not in FORMATS:
        raise UsageError(f"cannot write {output!r}: its suffix .{suffix} is not one of "
                         f"{', '.join('.' + f for f in FORMATS)}; rename it or pass --format")
    return suffix or "svg"


def demo_graphs(root: Node, out: Path, title: str) -> list[Path]:
    """The demo's pictures of one training step: ``graph.svg``, one box per layer (fits a
    1,600-px screen), ``graph_full.svg``, one box per value, drawn top to bottom so it stays
    as narrow; and ``backprop.html``, backprop of micrograd's neuron replayed step by step."""
    from .. import viz
    layers = Path(viz.draw(root, out / "graph.svg", group_by="layer", rankdir="TB",
                           title=f"{title}, one box per layer"))
    full = Path(viz.draw(root, out / "graph_full.svg", rankdir="TB",
                         title=f"{title}, one box per value"))
    replay = Path(viz.animate(neuron(), out / "backprop.html",
                              title="backprop of micrograd's neuron, step by step"))
    return [layers, full, replay]
