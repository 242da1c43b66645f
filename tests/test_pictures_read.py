"""Every picture reads right in a real renderer, whichever sans-serif font the machine has.

Each picture is drawn by headless Chromium and by rsvg-convert, with exactly one font family
installed (DejaVu Sans alone, as on minimal Linux installs; Liberation Sans, metric-compatible
with Arial; Arial itself where present), and every text is checked against its node's shape
and against every other text (see picture_check.py). Skips, saying why, where a renderer or
a font is missing.
"""
from __future__ import annotations

import glob
import os
import re
from pathlib import Path

import picture_check as P
import pytest

from tinygrad_memo import Tensor, data, viz
from tinygrad_memo.app import cli
from tinygrad_memo.app import graph as graph_cmd
from tinygrad_memo.nn import MLP, cross_entropy

DOCS_IMAGES = os.path.join(os.path.dirname(__file__), "..", "docs", "images")


@pytest.fixture(scope="module")
def pictures(tmp_path_factory) -> dict[str, str]:
    """Every `graph --example`, the demo's pictures and the docs' images, as SVG text."""
    out = tmp_path_factory.mktemp("pictures")
    found = {}
    for name in graph_cmd.EXAMPLES:
        path = out / f"{name}.svg"
        assert cli.main(["graph", "--example", name, "-o", str(path)]) == 0
        found[f"graph --example {name}"] = path.read_text()
    for path in graph_cmd.demo_graphs(demo_step(), out, "one training step"):
        if path.suffix == ".svg":
            found[f"demo {path.name}"] = path.read_text()
    for path in sorted(glob.glob(os.path.join(DOCS_IMAGES, "viz_*.svg"))):
        found[f"docs/images/{os.path.basename(path)}"] = Path(path).read_text(encoding="utf-8")
    return found


def demo_step():
    """The demo's default picture: one step of its digits MLP (64 -> 128 -> 10) on 8 samples."""
    X, y = data.load("digits", n=None, seed=0)
    model = MLP(64, [128, 10], activation="relu", seed=0)
    logits = model(Tensor(X[:8], label="x (8 samples)"))
    logits.label = "logits"
    loss = cross_entropy(logits, y[:8])
    loss.label = "loss"
    return loss


def test_the_demos_pictures_fit_a_1600_px_screen(pictures):
    for name in ("demo graph.svg", "demo graph_full.svg"):
        width = float(re.search(r'<svg width="([\d.]+)pt"', pictures[name]).group(1)) * 4 / 3
        assert width <= 1600, f"{name} is {width:.0f} px wide"


def _fonts(name: str) -> list:
    files = P.font_files(P.FONT_SETS[name])
    if not files:
        pytest.skip(f"{name}: no such font installed here (looked in {', '.join(P.FONT_DIRS)})")
    return files


def _report(found: dict[str, list[str]]) -> str:
    return "\n".join(f"{name}: {p}" for name, ps in found.items() for p in ps[:5])


@pytest.mark.parametrize("fonts", list(P.FONT_SETS))
def test_every_text_fits_in_chromium(pictures, fonts):
    if P.chromium() is None:
        pytest.skip("headless Chromium is not installed (apt-get install chromium)")
    with P.only_fonts(_fonts(fonts)) as env:
        boxes = P.chromium_boxes(list(pictures.values()), env)
    found = {name: P.problems(svg, b) for (name, svg), b in zip(pictures.items(), boxes)}
    assert not any(found.values()), _report(found)


@pytest.mark.parametrize("fonts", list(P.FONT_SETS))
def test_every_text_fits_in_rsvg(pictures, fonts):
    if P.rsvg() is None:
        pytest.skip("rsvg-convert is not installed (apt-get install librsvg2-bin)")
    with P.only_fonts(_fonts(fonts)) as env:
        found = {name: P.problems(svg, P.rsvg_boxes(svg, env)) for name, svg in pictures.items()}
    assert not any(found.values()), _report(found)


def test_the_check_sees_text_laid_out_for_a_narrower_font():
    """The failure this guards against: laid out with Arial's metrics, drawn in DejaVu Sans."""
    if P.chromium() is None and P.rsvg() is None:
        pytest.skip("neither headless Chromium nor rsvg-convert is installed")
    source = viz.to_dot(graph_cmd.neuron()).source.replace('"DejaVu Sans"', "Arial")
    svg = viz.render.render(source, "svg").decode()
    with P.only_fonts(_fonts("DejaVu Sans only")) as env:
        boxes = P.chromium_boxes([svg], env)[0] if P.chromium() else P.rsvg_boxes(svg, env)
    assert any("leaves its box" in p or "runs into" in p for p in P.problems(svg, boxes))
