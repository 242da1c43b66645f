"""Gradient-flow pictures: the numbers are in the SVG, any label is safe, errors are clear.

Every SVG produced here is parsed with an XML parser; most tests render with no ``dot`` on
PATH, i.e. through the PyPI fallback renderer, as on a machine without Graphviz.
"""
from __future__ import annotations

import math
import os
import xml.etree.ElementTree as ET

import graphviz
import numpy as np
import pytest
from conftest import SVG
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tinygrad_memo import Tensor, Value, grad, viz
from tinygrad_memo.app import cli, graph as graph_cmd
from tinygrad_memo.viz import render

pytestmark = pytest.mark.usefixtures("no_system_dot")


def svg_texts(svg: str | bytes) -> list[str]:
    """Parse the SVG (raising on anything malformed) and return the text of its <text> elements."""
    root = ET.fromstring(svg if isinstance(svg, bytes) else svg.encode("utf-8"))
    assert root.tag == SVG + "svg"
    return ["".join(t.itertext()).strip() for t in root.iter(SVG + "text")]


def edge_paths(svg: str) -> list[ET.Element]:
    root = ET.fromstring(svg.encode("utf-8"))
    return [p for g in root.iter(SVG + "g") if g.get("class") == "edge" for p in g.iter(SVG + "path")]


# -- the numbers are in the picture ---------------------------------------------------------------


def test_neuron_svg_shows_every_value_and_grad(tmp_path):
    o = graph_cmd.neuron()
    path = viz.draw(o, tmp_path / "neuron.svg")
    assert path == os.fspath(tmp_path / "neuron.svg")
    texts = svg_texts(open(path, "rb").read())
    from tinygrad_memo.core.engine import toposort
    nodes = toposort(o)
    o.backward()   # the picture computed its own gradients; .backward() must agree with them
    for node in nodes:
        assert f"grad {viz.fmt(node.grad)}" in texts, node
        assert f"data {viz.fmt(node.data)}" in texts, node
    for name in ("x1", "x2", "w1", "w2", "b", "n", "o"):
        assert name in texts
    assert "grad -1.5" in texts and "grad 1" in texts   # micrograd's published numbers


def test_drawing_after_backward_freed_the_graph_says_what_to_do():
    o = graph_cmd.neuron()
    o.backward()
    from tinygrad_memo.core import engine
    if o._inputs is not getattr(engine, "FREED", None):   # the graph survived backward
        assert "grad 1" in svg_texts(viz.to_dot(o).svg())
        return
    with pytest.raises(RuntimeError, match=r"Draw before calling backward\(\).*retain_graph=True"):
        viz.to_dot(o)


def test_drawing_does_not_touch_grad():
    o = graph_cmd.neuron()
    viz.to_dot(o)
    assert o.grad == 0.0
    x = Tensor([[1.0, -2.0]], requires_grad=True)
    y = (x * 3).relu().sum()
    viz.to_dot(y)
    assert x.grad is None


def test_tensor_graph_shows_grad_norms_of_leaves_and_intermediates():
    rng = np.random.default_rng(0)
    W = Tensor(rng.normal(size=(3, 4)), requires_grad=True, label="layers.0.weight")
    x = Tensor(rng.normal(size=(5, 3)))
    h = (x @ W).relu()
    loss = h.mean()
    texts = svg_texts(viz.to_dot(loss).svg())
    gW, gh = grad(loss, [W, h])
    assert f"grad norm {viz.fmt(np.linalg.norm(gW))}" in texts
    assert f"grad norm {viz.fmt(np.linalg.norm(gh))}" in texts
    assert "layers.0.weight" in texts
    assert "(3, 4) float64" in texts
    assert "no grad" in texts   # x is a constant: drawn, but no gradient is asked for it


def test_edges_carry_each_paths_share_and_they_sum_to_the_node_grad():
    z = graph_cmd.diamond()
    flow = viz.flow._Flow(z, None, True, limit=None)
    x = next(n for n in flow.nodes if n.label == "x")
    shares = [s for (child, i), s in flow.edges.items() if child._inputs[i] is x]
    assert len(shares) == 2                         # x feeds tanh and exp
    texts = svg_texts(viz.to_dot(z).svg())
    gx, = grad(z, [x])
    assert math.isclose(sum(shares), abs(gx), rel_tol=1e-12)   # both shares are positive here
    for s in shares:
        assert viz.fmt(s) in texts                  # each share is written on its edge


def test_fib_gradients_are_fibonacci_numbers():
    f8 = graph_cmd.fib(8)
    texts = svg_texts(viz.to_dot(f8).svg())
    f8.backward()
    assert "grad 21" in texts and "grad 13" in texts    # dF8/dF1 = F8, dF8/dF0 = F7


def test_zero_and_nonfinite_gradients_are_marked():
    svg = viz.to_dot(graph_cmd.pathologies()).svg()
    texts = svg_texts(svg)
    assert "grad 0" in texts and "grad inf" in texts
    strokes = {(p.get("stroke"), p.get("stroke-dasharray")) for p in edge_paths(svg)}
    assert any(color == viz.style._NONFINITE for color, _ in strokes)
    assert any(color == viz.style._ZERO and dash for color, dash in strokes)


def test_nan_gradient_in_a_tensor_is_counted():
    x = Tensor([0.0, 1.0, 4.0], requires_grad=True, label="x")
    with np.errstate(divide="ignore"):
        y = x.sqrt() * 0.0 + x.log()   # d/dx log(0) = inf, sqrt'(0) * 0 = nan
    texts = svg_texts(viz.to_dot(y.sum()).svg())
    assert any("nan/inf" in t for t in texts)


def test_log_scale_widths_and_legend():
    svg = viz.to_dot(graph_cmd.fib(8)).svg()
    widths = [float(p.get("stroke-width", 1)) for p in edge_paths(svg)]
    assert max(widths) > 4 * min(widths)
    texts = svg_texts(svg)
    assert any("log scale" in t for t in texts)
    assert "0: no flow" not in texts and "nan/inf" not in texts   # fib has neither
    texts = svg_texts(viz.to_dot(graph_cmd.pathologies()).svg())
    assert "0: no flow" in texts and "nan/inf" in texts


def test_non_scalar_root_is_seeded_with_ones():
    x = Tensor([1.0, 2.0], requires_grad=True)
    texts = svg_texts(viz.to_dot(x * 3).svg())
    assert any("seed = ones" in t for t in texts)
    assert "grad norm 4.243" in texts   # |(3, 3)|


def test_forward_only_and_no_graph():
    texts = svg_texts(viz.to_dot(graph_cmd.neuron(), show_grad=False).svg())
    assert not any(t.startswith("grad") for t in texts)
    texts = svg_texts(viz.to_dot(Tensor([1.0, 2.0]), legend=False).svg())   # a lone constant
    assert "[1, 2]" in texts


# -- large graphs -----------------------------------------------------------------------------------


def test_max_nodes_is_a_clear_error():
    root = graph_cmd.scalar_mlp()
    with pytest.raises(viz.GraphTooLargeError, match=r"more than max_nodes=250.*group_by='layer'"):
        viz.to_dot(root)
    with pytest.raises(ValueError, match="max_nodes=5"):
        viz.to_dot(graph_cmd.neuron(), max_nodes=5)


def test_collapsed_view_groups_by_layer():
    root = graph_cmd.scalar_mlp()
    texts = svg_texts(viz.to_dot(root, group_by="layer").svg())
    for name in ("layers.0", "layers.1", "layers.2", "loss", "inputs & constants"):
        assert name in texts
    assert not any("layers.0.neurons" in t for t in texts)
    assert any("param grad norm" in t for t in texts)


def test_collapsed_view_with_tensor_mlp_and_custom_grouping():
    loss = graph_cmd.mlp()
    texts = svg_texts(viz.to_dot(loss, group_by="layer").svg())
    assert {"layers.0", "layers.1", "layers.2", "loss"} <= set(texts)
    texts = svg_texts(viz.to_dot(loss, group_by=lambda n: "all").svg())
    assert "all" in texts


def test_layer_of():
    assert viz.layer_of("layers.0.weight") == "layers.0"
    assert viz.layer_of("layers.1.neurons.3.w.0") == "layers.1"
    assert viz.layer_of("fc1.bias") == "fc1"
    assert viz.layer_of("w1") == "w1"


# -- any label is safe -------------------------------------------------------------------------------

NASTY = "<>&\"'{}|\\\n\r\t[]:;=#%$@!`~^*"
labels = st.text(st.one_of(st.sampled_from(NASTY), st.characters()), max_size=30)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(a=labels, b=labels, title=labels)
def test_any_label_renders_to_valid_dot_and_svg(a, b, title):
    x, y = Value(1.5, label=a), Value(-2.0, label=b)
    z = x * y + x
    z.label = a + b
    t = Tensor([[1.0, 2.0]], requires_grad=True, label=b)
    for root in ((t * 2).sum(), z):
        graph = viz.to_dot(root, title=title)
        svg = render.render(graph.source, "svg")   # the DOT parses, or this raises
        texts = svg_texts(svg)                     # the SVG is well-formed XML
        assert any(tx.startswith("grad") for tx in texts)
    plain = a.split("\n")[0]                       # the first line of x's label, shown as is
    if plain and len(a) < viz.style._MAX_LABEL and plain.isascii() and plain.isprintable() \
            and plain.strip() == plain and "  " not in plain:
        assert plain in texts


@pytest.mark.parametrize("label", ["\\", "\\\\", "a\\\\\\b", "a\\nb\\N"])
def test_backslashes_are_shown_as_typed(label):
    texts = svg_texts(viz.to_dot(Value(1.0, label=label) * 2).svg())
    assert label in texts


def test_labels_with_surrogates_and_control_characters():
    v = Value(1.0, label="bad \ud800 \x00 \x1b \ufffe end")
    texts = svg_texts(viz.to_dot(v * 2).svg())
    assert any(t.startswith("bad") and t.endswith("end") for t in texts)


# -- files, formats and errors --------------------------------------------------------------------------


def test_draw_formats(tmp_path):
    root = graph_cmd.neuron()
    dot = viz.draw(root, tmp_path / "g.dot")                 # format from the suffix
    assert open(dot).read().startswith("digraph")
    png = viz.draw(root, tmp_path / "g.png")
    assert open(png, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    svg = viz.draw(root, tmp_path / "g.txt", format="svg")
    svg_texts(open(svg, "rb").read())
    plain = viz.draw(root, tmp_path / "noext")                # no known suffix: SVG
    svg_texts(open(plain, "rb").read())


def test_pdf_without_system_graphviz_is_a_clear_error(tmp_path):
    with pytest.raises(render.FormatUnavailableError, match="pdf"):
        viz.draw(graph_cmd.neuron(), tmp_path / "g.pdf")
    assert not (tmp_path / "g.pdf").exists()


def test_unknown_format_names_the_supported_ones(tmp_path):
    with pytest.raises(ValueError, match=r"unknown format 'jpg'; supported formats: svg, png, pdf, dot"):
        viz.draw(graph_cmd.neuron(), tmp_path / "g.jpg", format="jpg")


def test_unwritable_paths_are_clear_errors(tmp_path):
    root = graph_cmd.neuron()
    missing = tmp_path / "no" / "such" / "dir" / "g.svg"
    with pytest.raises(FileNotFoundError, match=r"cannot write .*g\.svg.*does not exist"):
        viz.draw(root, missing)
    with pytest.raises(IsADirectoryError, match="is a directory"):
        viz.draw(root, tmp_path)
    if os.geteuid() != 0:   # root may write anywhere
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o500)
        with pytest.raises(PermissionError, match="permission denied"):
            viz.draw(root, ro / "g.svg")


def test_bad_arguments():
    with pytest.raises(ValueError, match="rankdir"):
        viz.to_dot(graph_cmd.neuron(), rankdir="XY")
    with pytest.raises(TypeError, match="expected a Value or Tensor"):
        viz.to_dot(3.0)
    with pytest.raises(ValueError, match="group_by"):
        viz.to_dot(graph_cmd.neuron(), group_by="module")


# -- Jupyter ---------------------------------------------------------------------------------------------


def test_jupyter_display_without_system_graphviz():
    g = viz.to_dot(graph_cmd.neuron())
    assert isinstance(g, graphviz.Digraph)
    bundle = g._repr_mimebundle_()
    assert set(bundle) == {"image/svg+xml"}
    assert "grad -1.5" in svg_texts(bundle["image/svg+xml"])
    assert "grad -1.5" in svg_texts(g._repr_svg_())
    assert g._repr_mimebundle_(include=["text/html"]) == {}


def test_graph_draws_itself(tmp_path):
    g = viz.to_dot(graph_cmd.fib(5), rankdir="TB", legend=False)
    path = g.draw(tmp_path / "fib.svg")
    assert "grad 5" in svg_texts(open(path, "rb").read())   # dF5/dF1 = F5


# -- the command -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("example", list(graph_cmd.EXAMPLES))
def test_graph_command_writes_every_example(tmp_path, capsys, example):
    out = tmp_path / f"{example}.svg"
    assert cli.main(["graph", "--example", example, "-o", str(out)]) == 0
    assert any(t.startswith("grad") or "grad norm" in t for t in svg_texts(out.read_bytes()))
    assert "wrote" in capsys.readouterr().out


def test_graph_command_dot_and_png(tmp_path):
    assert cli.main(["graph", "--example", "fib", "--format", "dot", "-o", str(tmp_path / "f")]) == 0
    assert (tmp_path / "f").read_text().startswith("digraph")
    assert cli.main(["graph", "--example", "mlp", "-o", str(tmp_path / "m.png")]) == 0
    assert (tmp_path / "m.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("argv, message", [
    (["--example", "nope"], "unknown example 'nope'"),
    (["--format", "gif"], "unknown format 'gif'; supported formats: svg, dot, png"),
    (["-o", "/no/such/dir/g.svg"], "does not exist"),
    (["--example", "scalar-mlp", "--group-by", "none"], "use --group-by layer"),
])
def test_graph_command_misuse_exits_2_with_one_line(tmp_path, capsys, argv, message):
    os.chdir(tmp_path)
    assert cli.main(["graph", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_graph_command_bad_choice_exits_2(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["graph", "--rankdir", "XX"])
    assert exc.value.code == 2
    assert capsys.readouterr().err.count("\n") == 1
