"""render(): DOT -> SVG/PNG with and without a system Graphviz."""
from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET

import pytest

from tinygrad_memo.viz import render as R

SVG_NS = "{http://www.w3.org/2000/svg}"

# Record nodes, HTML-escaped and HTML-like labels, colours and pen widths:
# what a computation-graph drawing uses.
SOURCE = """digraph G {
  rankdir=LR;
  node [shape=record, fontname="Helvetica"];
  a [label="{<in> x | add &amp; mul | <out> grad=1.0}", color="#ff0000", penwidth=2.5];
  b [label="{<in> y &lt;b&gt; | relu | <out> data}", color=blue, style=filled, fillcolor=lightyellow];
  c [shape=box, label=<<b>tanh</b> &lt;out&gt;>, color="0.6 0.8 0.9", penwidth=0.5];
  a:out -> b:in [color=green, penwidth=3, label="w &gt; 0"];
  b:out -> c [style=dashed];
}
"""

_real_which = shutil.which


@pytest.fixture
def no_system_dot(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hide any system `dot`, as on a machine without Graphviz."""
    def which(cmd, *args, **kwargs):
        if cmd == "dot":
            return None
        return _real_which(cmd, *args, **kwargs)

    monkeypatch.setattr(shutil, "which", which)


def _svg_texts(svg: bytes) -> list[str]:
    root = ET.fromstring(svg)
    assert root.tag == SVG_NS + "svg"
    return [t.text or "" for t in root.iter(SVG_NS + "text")]


def _check_svg(svg: bytes) -> None:
    texts = _svg_texts(svg)
    assert "add & mul" in texts  # &amp; decoded once, re-escaped as XML
    assert "y <b>" in texts
    assert "w > 0" in texts
    assert "tanh" in texts  # HTML-like label is laid out, not dropped
    root = ET.fromstring(svg)
    strokes = {el.get("stroke-width") for el in root.iter() if el.get("stroke-width")}
    assert {"2.5", "3", "0.5"} <= strokes


def test_svg_without_system_dot(no_system_dot: None) -> None:
    assert R.backend() == "graphviz-pure"
    _check_svg(R.render(SOURCE))


def test_fallback_found_with_empty_path(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    # A venv's python run by full path has no scripts dir on PATH.
    monkeypatch.setenv("PATH", str(tmp_path))
    assert R.backend() == "graphviz-pure"
    _check_svg(R.render(SOURCE))


def test_png_without_system_dot(no_system_dot: None) -> None:
    png = R.render(SOURCE, format="png")
    assert png.startswith(b"\x89PNG\r\n\x1a\n")


def test_other_engine_without_system_dot(no_system_dot: None) -> None:
    texts = _svg_texts(R.render("graph { x -- y -- z -- x }", engine="neato"))
    assert {"x", "y", "z"} <= set(texts)


def test_pdf_without_system_dot_says_how_to_enable(no_system_dot: None) -> None:
    with pytest.raises(R.FormatUnavailableError) as exc:
        R.render(SOURCE, format="pdf")
    assert isinstance(exc.value, RuntimeError)
    msg = str(exc.value)
    assert "'pdf'" in msg and "system Graphviz" in msg


def test_unsupported_format() -> None:
    with pytest.raises(ValueError) as exc:
        R.render(SOURCE, format="bmp")
    msg = str(exc.value)
    assert "'bmp'" in msg
    for fmt in R.FORMATS:
        assert fmt in msg


def test_unsupported_engine() -> None:
    with pytest.raises(ValueError, match="supported engines"):
        R.render(SOURCE, engine="bogus")


def test_bad_source_reports_stderr(no_system_dot: None) -> None:
    with pytest.raises(RuntimeError, match="syntax error"):
        R.render("digraph { a -> ")


def test_system_dot_code_path(monkeypatch: pytest.MonkeyPatch) -> None:
    # graphviz-pure takes dot's flags, so it can stand in for a system `dot`
    # and exercise that branch (stdin, -T/-K, stderr on failure) everywhere.
    exe = R._fallback_exe()
    assert exe is not None
    monkeypatch.setattr(shutil, "which", lambda cmd, *a, **k: exe if cmd == "dot" else None)
    assert R.backend() == "system"
    _check_svg(R.render(SOURCE))
    with pytest.raises(RuntimeError, match="system Graphviz dot failed"):
        R.render("digraph { a -> ")


@pytest.mark.skipif(shutil.which("dot") is None, reason="system Graphviz `dot` is not on PATH")
def test_system_dot() -> None:
    assert R.backend() == "system"
    _check_svg(R.render(SOURCE))
    assert R.render(SOURCE, format="pdf").startswith(b"%PDF")
