"""viz.animate: the replay is the engine's real backward, and it plays to the end in a browser.

The browser test opens the page in headless Chromium, presses the right arrow once per frame
(and Home/Left), and reads the page's state back with --dump-dom.
"""
from __future__ import annotations

import json
import re
import subprocess
import tempfile
from pathlib import Path

import picture_check as P
import pytest

from tinygrad_memo import Tensor, memo, viz
from tinygrad_memo.app import cli
from tinygrad_memo.app import graph as graph_cmd
from tinygrad_memo.core.engine import toposort

EXAMPLES = {"neuron": graph_cmd.neuron, "diamond": graph_cmd.diamond, "fib": graph_cmd.fib}


def frames(path: str) -> dict:
    text = Path(path).read_text(encoding="utf-8")
    return json.loads(re.search(r"const D = (\{.*?\});\n", text).group(1))


def leaves(root):
    return [n for n in toposort(root) if n._fn is None]


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_frames_are_the_engines_backward(tmp_path, name):
    root = EXAMPLES[name]()
    data = frames(viz.animate(root, tmp_path / "a.html"))
    finals = [f for f in data["frames"] if f["kind"] == "final"]
    edges = [f for f in data["frames"] if f["kind"] == "edge"]
    assert len(edges) == data["memoTotal"] == memo.backprop_cost(root)
    assert data["naiveTotal"] == memo.path_grad(root, leaves(root))[1]
    assert data["paths"] == memo.count_paths(root, leaves(root))
    order = toposort(root)
    assert len(finals) == len(order)
    # reverse topological order, and a node is final only after every edge into it is added
    assert data["names"][finals[0]["node"]] == root.label
    index = viz.flow._Flow(root, None, True, limit=None).index      # the picture's numbering
    consumers = {}
    for n in order:
        for p in n._inputs:
            consumers[index[p]] = consumers.get(index[p], 0) + 1
    added = {}
    for f in data["frames"]:
        if f["kind"] == "edge":
            added[f["parent"]] = added.get(f["parent"], 0) + 1
        else:
            assert added.get(f["node"], 0) == consumers.get(f["node"], 0)
    root.backward()
    x = next(n for n in order if n._fn is None)
    assert [f["grad"] for f in finals if data["names"][f["node"]] == x.label] == [viz.fmt(x.grad)]


def test_animate_refuses_what_it_cannot_replay(tmp_path):
    with pytest.raises(ValueError, match=r"root has shape \(2,\).*root.sum\(\)"):
        viz.animate(Tensor([1.0, 2.0], requires_grad=True) * 2, tmp_path / "a.html")
    with pytest.raises(viz.GraphTooLargeError, match="max_nodes=60"):
        viz.animate(graph_cmd.scalar_mlp(), tmp_path / "a.html")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        viz.animate(graph_cmd.neuron(), tmp_path / "no" / "a.html")


def test_animate_is_self_contained(tmp_path):
    text = Path(viz.animate(graph_cmd.neuron(), tmp_path / "a.html")).read_text()
    assert "<svg" in text and "<script>" in text
    assert not re.search(r"(src|href)=\"(https?:)?//", text)   # nothing fetched from the network


def test_graph_command_animate(tmp_path, capsys):
    out = tmp_path / "fib.html"
    assert cli.main(["graph", "--example", "fib", "--animate", "-o", str(out)]) == 0
    assert frames(str(out))["memoTotal"] == memo.backprop_cost(graph_cmd.fib())
    assert cli.main(["graph", "--example", "scalar-mlp", "--animate"]) == 2
    assert "a replay can show" in capsys.readouterr().err


def run_page(path: str, keys: list[str]) -> dict[str, str]:
    """Open the page in headless Chromium, press ``keys``, return the page's data-* state."""
    press = "".join(f"document.dispatchEvent(new KeyboardEvent('keydown',{{key:'{k}'}}));"
                    for k in keys)
    finals = ("document.body.dataset.finalNodes=[...document.querySelectorAll('svg g.node.final')]"
              ".filter(g=>/^v\\d+$/.test(g.id)).length;"
              "document.body.dataset.rows=document.querySelectorAll('#memo tbody tr').length;")
    page = Path(path).read_text(encoding="utf-8").replace(
        "</body>", f"<script>{press}{finals}</script></body>")
    with tempfile.TemporaryDirectory() as tmp:
        file = Path(tmp, "page.html")
        file.write_text(page, encoding="utf-8")
        out = subprocess.run([P.chromium(), *P.CHROMIUM_FLAGS, f"--user-data-dir={tmp}/profile",
                              "--dump-dom", file.as_uri()], capture_output=True, text=True,
                             timeout=120, check=True).stdout
    body = re.search(r"<body([^>]*)>", out).group(1)
    state = dict(re.findall(r'data-([a-z-]+)="([^"]*)"', body))
    state["memo"] = re.search(r'id="memoN">([^<]*)<', out).group(1)
    state["naive-text"] = re.search(r'id="naiveN">([^<]*)<', out).group(1)
    return state


@pytest.mark.parametrize("name", ["neuron", "fib"])
def test_the_page_plays_to_the_end_in_chromium(tmp_path, name):
    if P.chromium() is None:
        pytest.skip("headless Chromium is not installed (apt-get install chromium)")
    root = EXAMPLES[name]()
    path = viz.animate(root, tmp_path / "a.html")
    n = len(frames(path)["frames"])
    cost, naive = memo.backprop_cost(root), memo.path_grad(root, leaves(root))[1]
    end = run_page(path, ["ArrowRight"] * (n + 3))          # extra presses stay at the end
    assert end["step"] == str(n)
    assert end["final"] == end["final-nodes"] == str(len(toposort(root)))   # every node final
    assert end["rows"] == str(len(toposort(root)))
    assert end["evals"] == str(cost) and end["memo"] == f"{cost} of {cost}"
    assert end["naive"] == str(naive)
    assert end["naive-text"].startswith(f"{naive} of {naive} (")
    back = run_page(path, ["End", "ArrowLeft"])
    assert back["step"] == str(n - 1)
    start = run_page(path, ["End", "Home"])
    assert start["step"] == "0" and start["final"] == "0" and start["memo"] == f"0 of {cost}"


def test_the_demo_writes_the_neurons_replay(tmp_path):
    written = graph_cmd.demo_graphs(graph_cmd.fib(3), tmp_path, "a step")
    assert [p.name for p in written] == ["graph.svg", "graph_full.svg", "backprop.html"]
    assert frames(str(tmp_path / "backprop.html"))["memoTotal"] == memo.backprop_cost(graph_cmd.neuron())
