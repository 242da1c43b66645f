"""Regenerate the pictures of docs/visualization.md (and the README's) into docs/images/.

Run from the repository root:  python docs/make_viz_figures.py [FILE ...]
The replay's frames need headless Chromium (skipped, saying so, without it).
Deterministic (fixed seeds, numbered node ids), so unchanged pictures give unchanged files.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tinygrad_memo import data, nn, viz
from tinygrad_memo.app import graph as graph_cmd
from tinygrad_memo.viz import render

HERE = os.path.dirname(os.path.abspath(__file__))
IMAGES = os.path.join(HERE, "images")


def moons_step():
    """One step of micrograd's moons demo: 2-16-16-1 scalar MLP, 100 points, hinge + L2."""
    X, y = data.make_moons(100, noise=0.1, seed=0)
    model = nn.scalar.MLP(2, [16, 16, 1], seed=1337)
    scores = [model(list(map(float, row))) for row in X]
    loss = nn.hinge_loss(scores, 2 * y - 1) + 1e-4 * sum(p * p for p in model.parameters())
    loss.label = "loss"
    return loss


FIGURES = {  # file -> (build the root, to_dot arguments)
    "viz_neuron.svg": (graph_cmd.neuron, dict(
        title="micrograd's neuron: o = tanh(x1*w1 + x2*w2 + b)")),
    "viz_diamond.svg": (graph_cmd.diamond, dict(
        title="x reaches z by four paths; its grad is the sum of its edges")),
    "viz_fib.svg": (graph_cmd.fib, dict(
        title="F8 = F7 + F6 = ...: the gradients are Fibonacci numbers too")),
    "viz_mlp.svg": (graph_cmd.mlp, dict(
        rankdir="TB", title="Tensor MLP 2-8-8-2, cross-entropy on 16 points")),
    "viz_pathologies.svg": (graph_cmd.pathologies, dict(
        title="dead ReLU (orange) and an infinite gradient (red)")),
    "viz_moons_layers.svg": (moons_step, dict(
        group_by="layer",
        title="one step of micrograd's moons demo (2-16-16-1, 100 points): one box per layer")),
}


#: the replay of backprop on micrograd's neuron: the page, and three of its frames as PNG
REPLAY = "viz_backprop.html"
FRAMES = {"viz_backprop_start.png": 3, "viz_backprop_middle.png": 11, "viz_backprop_end.png": 19}
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars", "--window-size=1480,690"]


def replay_frames() -> None:
    """Write the replay page and screenshot it after 3, 11 and 19 steps (headless Chromium)."""
    page = viz.animate(graph_cmd.neuron(), os.path.join(IMAGES, REPLAY),
                       title="backprop of micrograd's neuron, step by step")
    print(f"{page}: {os.path.getsize(page):,} bytes")
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        print("skipped the frames: headless Chromium is not installed (apt-get install chromium)")
        return
    text = Path(page).read_text(encoding="utf-8")
    for name, steps in FRAMES.items():
        press = "document.dispatchEvent(new KeyboardEvent('keydown',{key:'ArrowRight'}));" * steps
        with tempfile.TemporaryDirectory() as tmp:
            at = Path(tmp, "frame.html")
            at.write_text(text.replace("</body>", f"<script>{press}</script></body>"), encoding="utf-8")
            out = os.path.join(IMAGES, name)
            subprocess.run([browser, *CHROMIUM_FLAGS, f"--user-data-dir={tmp}/profile",
                            f"--screenshot={out}", at.as_uri()], check=True, capture_output=True)
        print(f"{out}: {os.path.getsize(out):,} bytes (after {steps} steps)")


def main(names: list[str]) -> None:
    print(f"renderer: {render.backend()}")
    for name, (build, kwargs) in FIGURES.items():
        if names and name not in names:
            continue
        start = time.perf_counter()
        root = build()
        built = time.perf_counter()
        graph = viz.to_dot(root, **kwargs)
        drawn = time.perf_counter()
        path = viz.draw(graph, os.path.join(IMAGES, name))
        done = time.perf_counter()
        print(f"{path}: {os.path.getsize(path):,} bytes; build {built - start:.2f} s, "
              f"to_dot {drawn - built:.2f} s, render {done - drawn:.2f} s")


    if not names or REPLAY in names:
        replay_frames()


if __name__ == "__main__":
    main(sys.argv[1:])
