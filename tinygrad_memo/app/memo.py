"""``tinygrad-memo memo``: the table "naive (no memoization) vs memoized", by depth.

The measuring lives in `tinygrad_memo.memo` (`memo_report`, `format_report`); this module
only reads the arguments, prints, and optionally plots with matplotlib (the ``plot`` extra).
"""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .cli import UsageError, check_writable_file
from ..memo import MemoReport, format_report, memo_report

HELP = ("the table naive vs memoized: Fibonacci calls and backprop local-derivative "
        "evaluations, by depth")
MAX_DEPTH_LIMIT = 100
PLOT_EXTRA = "pip install 'tinygrad-memo[plot]'"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--max-depth", type=int, default=20, metavar="N",
                        help=f"rows for depths 1..N (default 20, at most {MAX_DEPTH_LIMIT})")
    parser.add_argument("--naive-limit", type=int, default=20_000, metavar="N",
                        help="skip the naive runs with more than N paths (or Fibonacci calls); "
                             "default 20000, which keeps the command to a few seconds")
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


def plot(report: MemoReport, path: Path) -> None:
    """Cost vs depth, log scale: Fibonacci calls, then local-derivative evaluations."""
    import matplotlib
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    def series(rows: list[Any], x: str, y: str) -> tuple[list[int], list[int]]:
        """The (x, y) points of rows, leaving out the skipped (None) measurements."""
        pts = [(getattr(r, x), getattr(r, y)) for r in rows if getattr(r, y) is not None]
        return [p[0] for p in pts], [p[1] for p in pts]

    # a fixed salt and no date make the SVG the same file every time; text stays text
    style = {"svg.hashsalt": "tinygrad-memo", "svg.fonttype": "none", "font.size": 9}
    with matplotlib.rc_context(style):
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
        meta = {"Date": None} if path.suffix.lower() == ".svg" else None
        fig.savefig(path, metadata=meta)


def run(args: argparse.Namespace) -> int:
    if not 1 <= args.max_depth <= MAX_DEPTH_LIMIT:
        raise UsageError(f"--max-depth must be between 1 and {MAX_DEPTH_LIMIT}, "
                         f"got {args.max_depth}")
    if args.naive_limit < 0:
        raise UsageError(f"--naive-limit must be >= 0, got {args.naive_limit}")
    path = None
    if args.plot is not None:  # check before the work, so a missing extra fails fast
        path = Path(args.plot)
        formats = _plot_formats()
        suffix = path.suffix.lower().lstrip(".")
        if suffix not in formats:
            raise UsageError(f"--plot: cannot tell the format of {args.plot!r} from its extension; "
                             f"use one of {', '.join('.' + f for f in sorted(formats))}")
        check_writable_file(path, "--plot", make_parents=True)
    report = memo_report(args.max_depth, args.naive_limit)
    print(format_report(report))
    if path is not None:
        try:
            plot(report, path)
        except OSError as exc:
            raise UsageError(f"--plot {path}: cannot write it ({exc.strerror or exc})") from None
        print(f"\nwrote {path}")
    return 0
