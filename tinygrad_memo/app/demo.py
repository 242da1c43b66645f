"""``tinygrad-memo demo``: the main job, end to end in a few seconds.

Loads an embedded dataset (the 8x8 digits by default), trains a Tensor MLP with Adam and a
progress bar, prints the final train/test loss and accuracy (the last line is
``test accuracy 97.5%``), and writes into ``--out``: the model (``model.npz``), the loss
curve, the decision boundary (2-D datasets), the gradient-flow graph of one training step
(``graph.svg`` per layer, ``graph_full.svg`` per value), backprop of a neuron replayed step
by step (``backprop.html``) and a memoization report (``memo.txt``).
``--dataset names`` trains makemore's character-level language model instead
(`tinygrad_memo.app.names`).
"""
from __future__ import annotations

import argparse
import math
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .. import data
from .cli import UsageError, check_writable_dir
from ..core.engine import grad, toposort
from ..nn import MLP, cross_entropy
from ..optim import Adam
from ..core.tensor import Tensor
from .setups import DEFAULT_DATASET, SETUPS, Setup
from .train import History, evaluate, fit

HELP = "train an MLP on an embedded dataset (digits by default): accuracy, model, pictures"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = "; ".join(f"{k}: {s.epochs} epochs, lr {s.lr:g}, batch {s.batch_size}"
                         for k, s in SETUPS.items())
    parser.epilog = f"Defaults per dataset: {defaults}."
    parser.add_argument("--dataset", choices=list(SETUPS), default=DEFAULT_DATASET,
                        help="which embedded dataset to learn (default: digits)")
    parser.add_argument("--epochs", type=int, help="passes over the training set")
    parser.add_argument("--lr", type=float, help="Adam learning rate")
    parser.add_argument("--batch-size", type=int, help="samples per training step")
    parser.add_argument("--seed", type=int, default=0,
                        help="seeds the data, the split, the weights and the shuffling (default: 0)")
    parser.add_argument("--out", default="./tinygrad_memo_out",
                        help="folder for the model and pictures (default: ./tinygrad_memo_out)")
    parser.add_argument("--quiet", action="store_true",
                        help="no progress bar, print only the final results")
    parser.add_argument("--jit", action="store_true",
                        help="trace the training step once and replay it (tinygrad_memo.jit)")


def _settings(args: argparse.Namespace) -> tuple[Setup, Path]:
    """The dataset's defaults overridden by the options, checked; exits 2 on a bad value."""
    base = SETUPS[args.dataset]
    epochs = base.epochs if args.epochs is None else args.epochs
    lr = base.lr if args.lr is None else args.lr
    batch = base.batch_size if args.batch_size is None else args.batch_size
    if epochs < 1:
        raise UsageError(f"--epochs must be >= 1, got {epochs}")
    if not (math.isfinite(lr) and lr > 0):
        raise UsageError(f"--lr must be a positive number, got {lr}")
    if batch < 1:
        raise UsageError(f"--batch-size must be >= 1, got {batch}")
    if args.seed < 0:
        raise UsageError(f"--seed must be >= 0, got {args.seed}")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} exists and is not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)  # now, not after training: fail fast
    except OSError as exc:
        raise UsageError(f"--out {out}: cannot create the folder ({exc.strerror})") from None
    check_writable_dir(out, "--out")
    return Setup(base.n, base.hidden, epochs, lr, batch), out


def run(args: argparse.Namespace) -> int:
    setup, out = _settings(args)
    if args.dataset == "names":
        from . import names
        return names.run(args, setup, out)
    say = (lambda *a: None) if args.quiet else print
    start = time.perf_counter()

    X, y = data.load(args.dataset, n=setup.n, seed=args.seed)
    X_train, X_test, y_train, y_test = data.train_test_split(X, y, 0.2, seed=args.seed)
    classes = int(y.max()) + 1
    model = MLP(X.shape[1], [*setup.hidden, classes], activation="relu", seed=args.seed)
    optimizer = Adam(model.parameters(), lr=setup.lr)
    n_params = sum(p.data.size for p in model.parameters())
    say(f"dataset {args.dataset}: {len(X_train)} train / {len(X_test)} test samples, "
        f"{X.shape[1]} features, {classes} classes")
    say(f"model {model!r}: {n_params:,} parameters; Adam lr {setup.lr:g}, "
        f"{setup.epochs} epochs, batch {setup.batch_size}")

    history = fit(model, X_train, y_train, optimizer, setup.epochs, setup.batch_size,
                  seed=args.seed, progress=not args.quiet, validation=(X_test, y_test),
                  desc=f"training on {args.dataset}", jit=args.jit)
    train_loss, train_acc = evaluate(model, X_train, y_train)
    test_loss, test_acc = evaluate(model, X_test, y_test)
    seconds = time.perf_counter() - start

    try:
        written = [model.save(out / "model.npz")]
        written += _pictures(model, history, X_train, y_train, args.dataset, out, say)
        # ---- contributions of the other modules: graph picture and memoization report ----
        written += _graph_and_memo_report(model, X_train, y_train, out, say)
        # -----------------------------------------------------------------------------------
    except OSError as exc:  # e.g. a folder named model.npz in --out
        name = exc.filename2 or exc.filename  # a rename names its target second
        reason = f"cannot write {name}: {exc.strerror}" if name else exc.strerror or str(exc)
        raise UsageError(f"--out {out}: {reason}") from None

    say("wrote " + ", ".join(str(p) for p in written))
    print(f"trained in {seconds:.1f} s")
    print(f"train loss {train_loss:.4f}, train accuracy {100 * train_acc:.1f}%")
    print(f"test loss {test_loss:.4f}")
    print(f"test accuracy {100 * test_acc:.1f}%")
    return 0


def _pictures(model: MLP, history: History, X: np.ndarray, y: np.ndarray, name: str,
              out: Path, say: Any) -> list[Path]:
    """The loss curve, and the decision boundary for 2-D data; skipped without matplotlib."""
    try:
        from . import plots
        paths = [plots.loss_curve(history, out / "loss_curve.png", title=f"{name}: loss")]
        if X.shape[1] == 2:
            paths.append(plots.decision_boundary(model, X, y, out / "decision_boundary.png",
                                                 title=f"{name}: decision boundary"))
        return paths
    except ImportError as exc:
        say(f"note: skipped the pictures: {exc}")
        return []


def _graph_and_memo_report(model: MLP, X: np.ndarray, y: np.ndarray, out: Path,
                           say: Any) -> list[Path]:
    """One training step's graph as SVG (tinygrad_memo.viz) and its memoization report
    (tinygrad_memo.memo). Each part is skipped with a note if its module is not there."""
    def step_loss() -> Tensor:
        """A fresh graph of one step on 8 samples: each consumer gets its own, since a
        backward pass may free the graph it walked."""
        x = Tensor(X[:8], label="x (8 samples)")
        logits = model(x)
        logits.label = "logits"
        loss = cross_entropy(logits, y[:8])
        loss.label = "loss"
        return loss

    written: list[Path] = []
    try:
        from .graph import demo_graphs   # needs tinygrad_memo.viz
    except ImportError:
        say("note: skipped graph.svg (tinygrad_memo.viz is not available)")
    else:
        written += demo_graphs(step_loss(), out, f"one training step of {model!r}")
    try:
        from .. import memo
    except ImportError:
        say("note: skipped memo.txt (tinygrad_memo.memo is not available)")
    else:
        report = out / "memo.txt"
        report.write_text(memo_report(memo, model, step_loss))
        written.append(report)
    return written


def memo_report(memo: Any, model: MLP, step_loss: Callable[[], Tensor]) -> str:
    """The seed's count for this model at the level of numbers (exact, from its layer
    shapes), how it grows with more hidden layers, then the same step's Tensor graph."""
    from .memo import MLP_MAX_DEPTH, mlp_text
    sizes = (model.nin, *model.sizes)
    counts = memo.mlp_counts(sizes)
    _, table = mlp_text(sizes, MLP_MAX_DEPTH)
    width = sizes[1]
    lines = [f"Memoization report for {model!r}, the model trained above",
             "",
             "1. At the level of numbers. The same network as a graph of scalars (Values) "
             f"for one sample\nhas {counts.memo_entries:,} nodes and "
             f"{counts.memo_evaluations:,} edges. The gradient of its loss for each of the "
             f"{counts.weights:,}\nweights of the first layer:",
             memo.format_mlp_counts(counts),
             "",
             f"2. The same with 1 to {MLP_MAX_DEPTH} hidden layers of {width} "
             "(`tinygrad-memo memo --mlp` for the default model):",
             "",
             table,
             ""]
    params = model.parameters()
    nodes = len(toposort(step_loss()))
    cost = memo.backprop_cost(step_loss())
    paths = memo.count_paths(step_loss(), params)
    lines += ["3. At the level of Tensors (one node per matrix), one training step on a batch "
              "of 8:",
              f"graph: {nodes} nodes, {cost} edges, {len(params)} parameter tensors",
              f"memoized backprop: {cost} local-derivative evaluations (one per edge)",
              f"paths from the loss to the parameters: {paths:,}"]
    if paths <= memo.DEFAULT_MAX_PATHS:
        naive, evaluations = memo.path_grad(step_loss(), params)
        exact = grad(step_loss(), params)
        diff = max(float(np.max(np.abs(np.asarray(a) - np.asarray(b))))
                   for a, b in zip(naive, exact))
        lines += [f"naive chain rule (path by path): {evaluations:,} local-derivative "
                  f"evaluations, {evaluations / cost:.1f}x backprop's",
                  f"both give the same gradients: largest difference {diff:.2g}"]
    lines += [f"memory the memo holds: {memo.memo_bytes(step_loss()):,} bytes of gradients",
              "Why these counts are so much smaller than in 1.: a Tensor node bundles a whole "
              "matrix, so one\nedge between two matrix nodes stands for every scalar path "
              "through their entries, and one\nvector-Jacobian product sums all of those "
              "paths at once."]
    return "\n".join(lines) + "\n"
