"""``tinygrad-memo memo``: the table "naive (no memoization) vs memoized", by depth.

With ``--mlp``, instead the model ``tinygrad-memo demo`` trains, as a graph of scalars, by
its number of hidden layers: the paths to the first layer's weights and the cost of their
gradients with and without the memo. The measuring and counting live in
`tinygrad_memo.memo`; this module only reads the arguments, prints, and optionally plots
with matplotlib (the ``plot`` extra).
"""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, Callable

from .cli import UsageError, check_writable_file
from .setups import default_sizes
from ..memo import (MemoReport, MLPCounts, format_count, format_mlp_table, format_report,
                    memo_report, mlp_growth)

HELP = ("the table naive vs memoized: Fibonacci calls and backprop local-derivative "
        "evaluations, by depth")
MAX_DEPTH_LIMIT = 100
MAX_DEPTH, MLP_MAX_DEPTH = 20, 10   # default rows: without and with --mlp
NAIVE_LIMIT = 20_000
PLOT_EXTRA = "pip install 'tinygrad-memo[plot]'"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--max-depth", type=int, metavar="N",
                        help=f"rows for depths 1..N (default {MAX_DEPTH}, with --mlp "
                             f"{MLP_MAX_DEPTH}; at most {MAX_DEPTH_LIMIT})")
    parser.add_argument("--naive-limit", type=int, metavar="N",
                        help="skip the naive runs with more than N paths (or Fibonacci calls); "
                             f"default {NAIVE_LIMIT}, which keeps the command to a few seconds")
    parser.add_argument("--mlp", action="store_true",
                        help="instead: the model `tinygrad-memo demo` trains, as a graph of "
                             "scalars, with 1..N hidden layers: paths to the first layer's "
                             "weights, naive vs memoized evaluations (exact counts)")
    parser.add_argument("--plot", metavar="FILE",
                        help="also draw cost vs depth on a log axis into FILE (.svg, .png, .pdf; "
                             f"needs matplotlib: {PLOT_EXTRA})")


def _plot_formats() -> dict[str, str]:
    """The file types matplotlib can write; a UsageError if it is not installed."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise UsageError(f"--plot needs matplotlib, which is not installed; {PLOT_EXTRA}") from None
    return Figure().canvas.get_supported_filetypes()


# a fixed salt and no date make the SVG the same file every time; text stays text
STYLE: dict[Any, Any] = {"svg.hashsalt": "tinygrad-memo", "svg.fonttype": "none", "font.size": 9}


def _save(fig: Any, path: Path) -> None:
    fig.savefig(path, metadata={"Date": None} if path.suffix.lower() == ".svg" else None)


def plot(report: MemoReport, path: Path) -> None:
    """Cost vs depth, log scale: Fibonacci calls, then local-derivative evaluations."""
    import matplotlib
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    def series(rows: list[Any], x: str, y: str) -> tuple[list[int], list[int]]:
        """The (x, y) points of rows, leaving out the skipped (None) measurements."""
        pts = [(getattr(r, x), getattr(r, y)) for r in rows if getattr(r, y) is not None]
        return [p[0] for p in pts], [p[1] for p in pts]

    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(10, 4), layout="constrained")
        left, right = fig.subplots(1, 2)
        fib = report.fibonacci
        left.plot(*series(fib, "n", "naive_calls"), "o-", color="tab:red", label="naive recursion")
        left.plot(*series(fib, "n", "memo_calls"), "o-", color="tab:green",
                  label="memoized (dict)")
        left.set(title="Fibonacci F(n)", xlabel="n", ylabel="calls", yscale="log")
        styles = {"diamond": ("s", "diamond chain"),
                  "mlp": ("^", f"scalar MLP, width {report.width}")}
        for name, (marker, label) in styles.items():
            rows = getattr(report, name)
            right.plot(*series(rows, "depth", "paths"), ":", marker=marker, color="tab:gray",
                       label=f"{label}: paths (counted)")
            right.plot(*series(rows, "depth", "naive_evaluations"), "-", marker=marker,
                       color="tab:red", label=f"{label}: naive, path by path")
            right.plot(*series(rows, "depth", "memo_evaluations"), "-", marker=marker,
                       color="tab:green", label=f"{label}: memoized backward")
        right.set(title="Gradients: local derivatives evaluated",
                  xlabel="depth (levels / layers)", ylabel="paths / evaluations",
                  yscale="log")
        for ax in (left, right):
            ax.grid(True, which="major", alpha=0.3)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.legend(fontsize=7)
        _save(fig, path)


def plot_mlp(rows: list[MLPCounts], path: Path) -> None:
    """The ``--mlp`` table vs the number of hidden layers, log scale."""
    import matplotlib
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    depth = [len(r.sizes) - 2 for r in rows]
    inputs, width, classes = rows[0].sizes
    lines = [("paths_per_weight", ":", "tab:gray", "paths from the loss to one first-layer weight"),
             ("paths", "--", "tab:gray", "paths to all of them"),
             ("naive_evaluations", "-", "tab:red", "naive chain rule: evaluations, path by path"),
             ("memo_evaluations", "-", "tab:green", "memoized backprop: evaluations, one per edge"),
             ("memo_bytes", "-.", "tab:blue", "memoized backprop: bytes of the memo")]
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(7, 4.5), layout="constrained")
        ax = fig.subplots()
        for field, style, color, label in lines:
            ax.plot(depth, [float(getattr(r, field)) for r in rows], style, marker="o",
                    color=color, label=label)
        ax.set(title=f"MLP({inputs} -> {width} -> ... -> {width} -> {classes}) as a graph of "
                     f"scalars:\nthe gradients of the first layer's "
                     f"{format_count(rows[0].weights)} weights, one sample",
               xlabel="hidden layers", ylabel="count", yscale="log")
        ax.grid(True, which="major", alpha=0.3)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend(fontsize=7)
        _save(fig, path)


def mlp_text(sizes: tuple[int, ...], max_hidden: int) -> tuple[list[MLPCounts], str]:
    """The rows for 1..max_hidden hidden layers of the width of ``sizes``' first hidden
    layer, and their report (the row equal to ``sizes`` marked)."""
    inputs, width, classes = sizes[0], sizes[1], sizes[-1]
    rows = mlp_growth(inputs, width, classes, max_hidden)
    return rows, format_mlp_table(rows, mark=sizes)


def run(args: argparse.Namespace) -> int:
    max_depth = args.max_depth
    if max_depth is None:
        max_depth = MLP_MAX_DEPTH if args.mlp else MAX_DEPTH
    if not 1 <= max_depth <= MAX_DEPTH_LIMIT:
        raise UsageError(f"--max-depth must be between 1 and {MAX_DEPTH_LIMIT}, "
                         f"got {max_depth}")
    if args.mlp and args.naive_limit is not None:
        raise UsageError("--naive-limit does not apply to --mlp: its counts are exact, "
                         "nothing is run path by path")
    naive_limit = NAIVE_LIMIT if args.naive_limit is None else args.naive_limit
    if naive_limit < 0:
        raise UsageError(f"--naive-limit must be >= 0, got {naive_limit}")
    path = None
    if args.plot is not None:  # check before the work, so a missing extra fails fast
        path = Path(args.plot)
        formats = _plot_formats()
        suffix = path.suffix.lower().lstrip(".")
        if suffix not in formats:
            raise UsageError(f"--plot: cannot tell the format of {args.plot!r} from its extension; "
                             f"use one of {', '.join('.' + f for f in sorted(formats))}")
        check_writable_file(path, "--plot", make_parents=True)
    if args.mlp:
        sizes = default_sizes()
        rows, text = mlp_text(sizes, max_depth)
        inputs, width, classes = sizes[0], sizes[1], sizes[-1]
        print(f"The model `tinygrad-memo demo` trains ({inputs} inputs, {classes} classes) with "
              f"1 to {max_depth} hidden layers\nof {width} ReLU units, as a graph of scalars "
              "(Values) for one sample: the gradient of its loss\nfor each of the first "
              f"layer's {format_count(rows[0].weights)} weights\n")
        print(text)
        result: Any = rows
        draw: Callable[[Any, Path], None] = plot_mlp
    else:
        result, draw = memo_report(max_depth, naive_limit), plot
        print(format_report(result))
    if path is not None:
        try:
            draw(result, path)
        except OSError as exc:
            raise UsageError(f"--plot {path}: cannot write it ({exc.strerror or exc})") from None
        print(f"\nwrote {path}")
    return 0
