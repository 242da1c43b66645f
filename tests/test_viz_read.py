"""The pictures read right: graphviz's methods work without Graphviz, the command's files are
what their names say, the colour scale compares, the legend matches the picture, bad data is
marked, and awkward input (a '>f8' dtype, empty or thousands of group names) is handled.

Rendering goes through the PyPI fallback: no system ``dot`` (an empty PATH).
"""
from __future__ import annotations

import math
import os
import re
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from conftest import SVG

from tinygrad_memo import Tensor, Value, nn, viz
from tinygrad_memo.app import cli
from tinygrad_memo.app import graph as graph_cmd
from tinygrad_memo.data import make_moons
from tinygrad_memo.viz import render

pytestmark = pytest.mark.usefixtures("no_system_dot")


def texts(svg: str | bytes) -> list[str]:
    root = ET.fromstring(svg if isinstance(svg, bytes) else svg.encode())
    return ["".join(t.itertext()).strip() for t in root.iter(SVG + "text")]


def edge_strokes(svg: str) -> dict[str, str]:
    """Edge title ('v3->op5') -> its stroke colour."""
    root = ET.fromstring(svg.encode())
    return {g.findtext(SVG + "title"): g.find(SVG + "path").get("stroke")
            for g in root.iter(SVG + "g") if g.get("class") == "edge"}


# -- graphviz's own methods, without Graphviz ----------------------------------------------------


def test_render_like_graphviz(tmp_path):
    os.chdir(tmp_path)
    g = viz.to_dot(graph_cmd.neuron())
    assert g.render("gout") == "gout.svg"                       # micrograd's notebook call
    assert Path("gout").read_text().startswith("digraph")
    assert "grad -1.5" in texts(Path("gout.svg").read_bytes())
    assert g.render("clean", cleanup=True) == "clean.svg" and not os.path.exists("clean")
    assert g.render(outfile="pic.png") == "pic.png"
    assert Path("pic.png").read_bytes()[:4] == b"\x89PNG"
    assert g.render("sub", directory="d", format="PNG") == os.path.join("d", "sub.png")


def test_a_failed_render_leaves_no_file(tmp_path):
    os.chdir(tmp_path)
    g = viz.to_dot(graph_cmd.neuron())
    with pytest.raises(render.FormatUnavailableError, match="pdf"):
        g.render("g", format="pdf")
    with pytest.raises(ValueError, match=r"cannot tell the format from the file name 'x.txt'"):
        g.render(outfile="x.txt")
    assert os.listdir(tmp_path) == []


def test_pipe_save_and_view(tmp_path):
    os.chdir(tmp_path)
    g = viz.to_dot(graph_cmd.neuron())
    assert g.pipe()[:5] == b"<?xml" and g.pipe(format="png")[:4] == b"\x89PNG"
    assert "grad -1.5" in texts(g.pipe(encoding="utf-8"))
    with pytest.raises(ValueError, match="renderer/formatter"):
        g.pipe(renderer="cairo")
    assert g.save("s.gv") == "s.gv" and Path("s.gv").read_text() == g.source
    if os.sys.platform.startswith("linux"):    # no xdg-open on the empty PATH
        with pytest.raises(RuntimeError, match=r"wrote 'v.svg', but there is no viewer"):
            g.view("v")
        assert os.path.exists("v.svg")


def test_repr_is_one_line_saying_what_and_how_to_view():
    r = repr(viz.to_dot(graph_cmd.neuron()))
    assert "\n" not in r
    assert re.fullmatch(r"<GradientGraph: 17 nodes, 14 edges; .*\.draw\('graph\.svg'\).*>", r)


# -- the command's files -------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["x.txt", "x.jpg"])
def test_draw_refuses_a_suffix_it_cannot_write(tmp_path, name):
    with pytest.raises(ValueError, match=rf"its suffix \.{name[2:]} is not one of \.svg, \.png"):
        viz.draw(graph_cmd.neuron(), tmp_path / name)
    assert not (tmp_path / name).exists()
    assert Path(viz.draw(graph_cmd.neuron(), tmp_path / "g.GV")).read_text().startswith("digraph")


@pytest.mark.parametrize("name", ["x.txt", "x.pdf", "x.jpg"])
def test_graph_refuses_a_suffix_it_cannot_write(tmp_path, capsys, name):
    assert cli.main(["graph", "-o", str(tmp_path / name)]) == 2
    err = capsys.readouterr().err
    assert f"its suffix .{name[2:]} is not one of .svg, .dot, .png" in err and err.count("\n") == 1
    assert not (tmp_path / name).exists()


def test_graph_formats_are_case_insensitive(tmp_path):
    assert cli.main(["graph", "--format", "PNG", "-o", str(tmp_path / "a")]) == 0
    assert (tmp_path / "a").read_bytes()[:4] == b"\x89PNG"
    assert cli.main(["graph", "-o", str(tmp_path / "b.PNG")]) == 0
    assert (tmp_path / "b.PNG").read_bytes()[:4] == b"\x89PNG"


def test_graph_dash_writes_to_stdout(tmp_path, capsysbinary):
    os.chdir(tmp_path)
    assert cli.main(["graph", "--example", "fib", "-o", "-"]) == 0
    out = capsysbinary.readouterr().out
    assert "grad 21" in texts(out)
    assert cli.main(["graph", "--example", "fib", "-o", "-", "--format", "dot"]) == 0
    assert capsysbinary.readouterr().out.startswith(b"digraph")
    assert os.listdir(tmp_path) == []


# -- the colour scale --------------------------------------------------------------------------


def test_a_fixed_scale_draws_equal_gradients_alike():
    a = viz.to_dot(graph_cmd.neuron(), scale=(0.1, 10)).source    # w1's edge carries 1
    b = viz.to_dot(graph_cmd.fib(), scale=(0.1, 10)).source       # F8 <- F7 carries 1
    width = f"penwidth={0.8 + 4.7 * 0.5:.2f}"                     # 1 is half way on a log scale
    assert width in a and width in b
    legend = texts(viz.to_dot(graph_cmd.fib(), scale=(0.1, 10)).svg())
    assert "0.1" in legend and ">= 10" in legend                 # fib's 21 and 13 are clipped


@pytest.mark.parametrize("bad", [(1, 1), (0, 1), (2, 1), (1, math.inf), (1,), "1,2"])
def test_a_bad_scale_is_a_clear_error(bad):
    with pytest.raises(ValueError, match=r"scale must be \(smallest, largest\)"):
        viz.to_dot(graph_cmd.neuron(), scale=bad)


def test_the_default_scale_spreads_the_parameters_gradients():
    """A bookkeeping edge larger than every parameter's gradient (0.04-0.2) must not wash
    them out: the scale ends at the largest parameter gradient, and says so."""
    root = graph_cmd.mlp()
    flow = viz.flow._Flow(root, None, True, limit=None)
    params = {f"v{i}" for i, n in enumerate(flow.nodes) if n._fn is None and n.requires_grad}
    strokes = edge_strokes(viz.to_dot(root).svg())
    colours = {c for title, c in strokes.items() if title.split("->")[0] in params}
    assert viz.style._SCALE[0] in colours and viz.style._SCALE[-1] in colours   # palest to darkest
    assert len(colours) == len(params)
    assert any(t.startswith(">= ") for t in texts(viz.to_dot(root).svg()))
    # per layer: the same rule, on the loss built from log_softmax, getitem and mean, whose
    # edges out of the last layer (0.22) carry more than any parameter's gradient (0.2153)
    X, y = make_moons(16, noise=0.1, seed=0)
    composite = -nn.MLP(2, [8, 8, 2], seed=0)(Tensor(X)).log_softmax(axis=1)[np.arange(16), y].mean()
    assert any(t.startswith(">= ") for t in texts(viz.to_dot(composite, group_by="layer").svg()))


# -- what is drawn is what the legend says -----------------------------------------------------


def test_the_legend_lists_only_what_is_drawn():
    neuron = texts(viz.to_dot(graph_cmd.neuron()).svg())
    assert "0: no flow" in neuron and "nan/inf" not in neuron
    assert "constant (no grad)" not in neuron and "leaf / parameter" in neuron
    layers = texts(viz.to_dot(graph_cmd.mlp(), group_by="layer").svg())
    assert "layer without parameters" in layers and "layer with parameters" in layers


def test_arrows_point_back_as_the_legend_says():
    g = viz.to_dot(graph_cmd.neuron())
    assert "dir=back" in g.source
    assert any(t.startswith("arrows: gradient flowing back to the inputs") for t in texts(g.svg()))
    assert "dir=back" not in viz.to_dot(graph_cmd.neuron(), show_grad=False).source


def test_nan_and_inf_data_are_marked_like_nan_gradients():
    x = Value(float("nan"), label="x")
    svg = viz.to_dot(x * 2).svg()
    assert "data nan" in texts(svg) and 'fill="#fde0dd"' in svg
    t = Tensor(np.array([1.0, np.inf, 2.0, 3.0, np.nan]), requires_grad=True, label="t")
    assert "data: 2 of 5 nan/inf" in texts(viz.to_dot((t * 2).sum()).svg())
    assert 'fill="#fde0dd"' not in viz.to_dot(graph_cmd.neuron()).svg()


# -- awkward input (issue 12) ------------------------------------------------------------------


def test_a_big_endian_dtype_is_escaped():
    t = Tensor(np.array([1.0, 2.0], dtype=">f8"), requires_grad=True, label="w")
    assert "(2,) >f8" in texts(viz.to_dot((t * 2).sum()).svg())


def test_an_empty_group_name_renders():
    w = Value(2.0, label=".weight")                    # layer_of('.weight') == ''
    assert viz.layer_of(".weight") == ""
    assert "(no name)" in texts(viz.to_dot(w * 3, group_by="layer").svg())
    assert "(no name)" in texts(viz.to_dot(w * 3, group_by=lambda n: "").svg())


def test_thousands_of_groups_are_refused_at_once():
    xs = [Value(float(i), label=f"p{i}") for i in range(5000)]
    total = sum(xs[1:], xs[0])
    start = time.perf_counter()
    with pytest.raises(viz.GraphTooLargeError, match=r"5,001 groups, more than max_nodes=250"):
        viz.to_dot(total, group_by="layer")
    assert time.perf_counter() - start < 10       # it took over a minute to lay out before
