"""``tinygrad-memo demo --dataset names``: Karpathy's makemore MLP, trained on 32,033 names.

A character-level language model (Bengio et al. 2003, as built in makemore part 3): the
previous 3 characters are looked up in a learned 27 x 10 embedding, joined into 30 numbers,
passed through a 200-unit hidden layer with BatchNorm and tanh, and a linear layer gives
the logits of the next character; the loss is cross-entropy, in nats. The names are split
80/10/10 into train/validation/test (seeded), trained with AdamW and a cosine schedule,
then the model writes new names. Into ``--out`` go the model, the loss curve and the
per-layer gradient flow of one training step (``graph.svg``).
"""
from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from .. import data, nn
from ..core.engine import toposort
from ..core.tensor import Tensor
from ..optim import AdamW
from ..optim.lr_scheduler import CosineAnnealingLR
from .train import evaluate, evaluating, fit

CONTEXT, EMBEDDING = 3, 10  # makemore's block_size and n_embd


def build_model(hidden: int, seed: Any) -> nn.Sequential:
    """makemore's MLP; the last layer starts 10x smaller, so the first predictions are close
    to uniform (a loss near log 27 = 3.30 instead of a large first spike)."""
    rng = np.random.default_rng(seed)
    vocab = len(data.NAMES_ALPHABET)
    output = nn.Linear(hidden, vocab, seed=rng)
    output.weight.data *= 0.1
    return nn.Sequential(
        nn.Embedding(vocab, EMBEDDING, seed=rng), nn.Flatten(),
        nn.Linear(CONTEXT * EMBEDDING, hidden, bias=False, seed=rng),  # BatchNorm adds the bias
        nn.BatchNorm1d(hidden), nn.Tanh(), output)


def split(seed: int) -> tuple[list[str], list[str], list[str]]:
    """The names shuffled (seeded) and cut 80% / 10% / 10%: train, validation, test."""
    words = data.load_names()
    order = np.random.default_rng(seed).permutation(len(words))
    words = [words[i] for i in order]
    a, b = int(0.8 * len(words)), int(0.9 * len(words))
    return words[:a], words[a:b], words[b:]


def sample(model: nn.Module, count: int, seed: Any, max_len: int = 30) -> list[str]:
    """``count`` new names: start from "...", draw each next character from the model's
    softmax (evaluation mode: BatchNorm uses its running statistics) until it draws "."."""
    rng = np.random.default_rng(seed)
    names = []
    with evaluating(model):
        for _ in range(count):
            context, out = [0] * CONTEXT, []
            for _ in range(max_len):
                p = model(np.array([context])).softmax(axis=1).data[0].astype(np.float64)
                ix = int(rng.choice(len(p), p=p / p.sum()))
                if ix == 0:
                    break
                out.append(data.NAMES_ALPHABET[ix])
                context = context[1:] + [ix]
            names.append("".join(out))
    return names


def run(args: argparse.Namespace, setup: Any, out: Path) -> int:
    """Train, report the losses, print samples, write the model and the pictures."""
    from .cli import UsageError
    if args.jit:
        raise UsageError("--jit does not apply to names: a trace would freeze BatchNorm's "
                         "running statistics, which the forward pass updates")
    say = (lambda *a: None) if args.quiet else print
    epochs = setup.epochs
    if os.environ.get("TINYGRAD_MEMO_QUICK") == "1" and args.epochs is None:
        epochs = 1  # CI: one pass over the names (about 700 steps)
    start = time.perf_counter()
    train_words, val_words, test_words = split(args.seed)
    X_train, y_train = data.name_windows(train_words, CONTEXT)
    X_val, y_val = data.name_windows(val_words, CONTEXT)
    X_test, y_test = data.name_windows(test_words, CONTEXT)
    if setup.batch_size < 2 or len(X_train) % setup.batch_size == 1:
        raise UsageError(f"--batch-size {setup.batch_size} would give a batch of one example, "
                         "and BatchNorm needs at least 2 (for names, pick another size)")
    model = build_model(setup.hidden[0], args.seed)
    optimizer = AdamW(model.parameters(), lr=setup.lr, weight_decay=0.0)
    steps = epochs * -(-len(X_train) // setup.batch_size)
    scheduler = CosineAnnealingLR(optimizer, T_max=steps, eta_min=setup.lr / 20)
    say(f"dataset names: {len(train_words):,} train / {len(val_words):,} validation / "
        f"{len(test_words):,} test names = {len(X_train):,} / {len(X_val):,} / "
        f"{len(X_test):,} next-character examples, context {CONTEXT}")
    say(f"model: Embedding(27, {EMBEDDING}) -> Linear({CONTEXT * EMBEDDING}, "
        f"{setup.hidden[0]}) -> BatchNorm1d -> tanh -> Linear({setup.hidden[0]}, 27), "
        f"{model.num_parameters():,} parameters; AdamW lr {setup.lr:g} with cosine decay, "
        f"{epochs} epoch{'s' * (epochs > 1)} of {steps // epochs} steps, batch {setup.batch_size}")

    history = fit(model, X_train, y_train, optimizer, epochs, setup.batch_size, seed=args.seed,
                  progress=not args.quiet, validation=(X_val, y_val), desc="training on names",
                  scheduler=scheduler)
    losses = {name: evaluate(model, X, y)[0] for name, X, y in
              (("train", X_train, y_train), ("validation", X_val, y_val),
               ("test", X_test, y_test))}
    seconds = time.perf_counter() - start
    names = sample(model, 20, args.seed)
    try:
        written = [model.save(out / "model.npz")]
        written += _pictures(model, history, X_train, y_train, out, say)
    except OSError as exc:
        name = exc.filename2 or exc.filename
        raise UsageError(f"--out {out}: cannot write {name}: {exc.strerror}") from None
    say("wrote " + ", ".join(str(p) for p in written))
    print("samples: " + ", ".join(names))
    print(f"trained in {seconds:.1f} s")
    print(f"train loss {losses['train']:.4f}, test loss {losses['test']:.4f}")
    print(f"validation loss {losses['validation']:.4f} nats")
    return 0


def _pictures(model: nn.Sequential, history: Any, X: np.ndarray, y: np.ndarray, out: Path,
              say: Any) -> list[Path]:
    """The loss curve (needs matplotlib) and one step's gradient flow, one box per layer."""
    written = []
    try:
        from . import plots
        written.append(plots.loss_curve(history, out / "loss_curve.png",
                                        title="names: loss (nats)"))
    except ImportError as exc:
        say(f"note: skipped the loss curve: {exc}")
    from .. import viz
    logits, layer = _forward_by_layer(model, Tensor(X[:32], label="contexts (32)"))
    loss = nn.cross_entropy(logits, y[:32])  # training mode: BatchNorm's batch statistics
    loss.label = "loss"
    title = "one training step of the makemore MLP (batch 32): the gradient flowing per layer"
    written.append(Path(viz.draw(loss, out / "graph.svg", format="svg", title=title,
                                 group_by=layer.get)))
    return written


def _forward_by_layer(model: nn.Sequential, x: Tensor) -> tuple[Tensor, dict[Any, str]]:
    """The model's output, and the layer ("3 BatchNorm1d") that made each node of its graph:
    exact, where grouping by parameter names has to guess for ops without parameters."""
    layer: dict[Any, str] = {}
    for i, module in enumerate(model):
        x = module(x)
        for node in toposort(x):
            layer.setdefault(node, f"{i} {type(module).__name__}")
    return x, layer
