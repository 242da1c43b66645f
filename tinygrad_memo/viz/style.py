"""How the gradient-flow pictures look: colours, the gradient scale, fonts, number formats.

Kept apart from what is drawn (`flow`) so a reader can change the look in one place.
"""
from __future__ import annotations

import math
from html import escape as _html_escape
from typing import Any, Iterable

import numpy as np

from ..core.engine import Node


_SCALE = ("#9ecae1", "#4292c6", "#2166ac", "#08306b")   # small -> large |gradient|


_ZERO = "#f28e2b"       # no gradient flows: dead ReLU, a zero input, a saturated op


_ZERO_TEXT = "#b35806"  # the same, darkened to be readable as text


_NONFINITE = "#d62728"  # NaN or inf in the gradient


_NOGRAD = "#b0b0b0"     # constants: no gradient is asked for


# Text is laid out with DejaVu Sans' metrics (built into Graphviz), the widest of the fonts the
# SVG then asks for: drawn in DejaVu Sans it fits exactly, in Arial/Helvetica/Liberation Sans
# (14-21% narrower) with room to spare. Laid out for Arial, DejaVu Sans (the only font of
# many Linux installs) overflowed its boxes. The DOT names one font (a list would be measured
# as Times); the SVG gets the full list (`_with_fonts`).
_FONT = "DejaVu Sans"


_SVG_FONTS = "DejaVu Sans,Bitstream Vera Sans,Arial,Helvetica,Liberation Sans,sans-serif"


_KIND_STYLE = {         # kind -> (fill, border)
    "param": ("#e5f5e0", "#31a354"),
    "value": ("#ffffff", "#6f6f6f"),
    "const": ("#f7f7f7", "#9e9e9e"),
    "output": ("#fff3cd", "#b8860b"),
}


_KIND_NAME = {"param": "leaf / parameter", "value": "intermediate",
              "const": "constant (no grad)", "output": "output (root)"}


_OP_SYMBOL = {"add": "+", "sub": "-", "mul": "\u00d7", "div": "/", "matmul": "@", "neg": "neg",
              "getitem": "index", "broadcast_to": "broadcast"}


_MAX_LABEL = 40        # characters of a label shown before an ellipsis


def size_of(g: Any) -> float:
    """|g| for a number, the L2 norm for an array; NaN when any element is NaN or inf."""
    if isinstance(g, Node):
        g = g.data
    if isinstance(g, (int, float)):
        x = abs(float(g))
        return x if x != math.inf else math.nan
    a = np.asarray(g, dtype=np.float64)
    if not np.isfinite(a).all():
        return math.nan
    m = float(np.abs(a).max()) if a.size else 0.0
    if m == 0.0:
        return 0.0
    return m * float(np.sqrt(np.sum(np.square(a / m))))   # no overflow for huge entries


class _Scale:
    """Log-scale map from |gradient| to pen width and colour, over a fixed or a fitted range.

    Fitted, it runs from the smallest size to ``top`` (the largest gradient reaching a
    parameter) when given, so one huge bookkeeping edge cannot wash out every parameter's.
    It records what it drew (zero, nan/inf, sizes past either end), for the legend.
    """

    def __init__(self, sizes: Iterable[float], top: float | None = None,
                 fixed: tuple[float, float] | None = None) -> None:
        if fixed is not None:
            self.lo, self.hi = math.log10(fixed[0]), math.log10(fixed[1])
        else:
            logs = [math.log10(s) for s in sizes if s == s and 0.0 < s < math.inf]
            self.lo, self.hi = (min(logs), max(logs)) if logs else (0.0, 0.0)
            if top is not None and top == top and 0.0 < top < math.inf:
                self.hi = max(self.lo, min(self.hi, math.log10(top)))
        self.drawn: set[str] = set()   # of "flow", "zero", "nonfinite", "above", "below"

    def t(self, s: float) -> float:
        if self.hi - self.lo < 1e-12:
            return 0.75
        return min(1.0, max(0.0, (math.log10(s) - self.lo) / (self.hi - self.lo)))

    def color(self, s: float) -> str:
        return _interpolate(_SCALE, self.t(s))

    def width(self, s: float) -> float:
        return 0.8 + 4.7 * self.t(s)

    def ticks(self) -> list[tuple[float, str]]:
        """The legend's samples: both ends of the range and round values (1, 2, 5 x 10^k)
        between, as (size, text); an end past which sizes were clipped says so."""
        lo, hi = self.lo, self.hi
        if hi - lo < 1e-12:
            return [(10 ** lo, f"{10 ** lo:.2g}")]
        gap = (hi - lo) / 4
        picked = [lo]
        for e in range(math.floor(lo), math.ceil(hi) + 1):
            for m in (1, 2, 5):
                x = math.log10(m) + e
                if x - picked[-1] >= gap and hi - x >= gap:
                    picked.append(x)
        picked.append(hi)
        ticks = [(10 ** x, f"{10 ** x:.2g}") for x in picked]
        if "below" in self.drawn:
            ticks[0] = (ticks[0][0], "<= " + ticks[0][1])
        if "above" in self.drawn:
            ticks[-1] = (ticks[-1][0], ">= " + ticks[-1][1])
        return ticks

    def edge(self, s: float | None, label: bool, note: str = "") -> dict[str, str]:
        """Graphviz attributes of an edge carrying a gradient of size ``s`` (None: no gradient);
        ``label`` writes the size on it, ``note`` a line under it."""
        if s is None:
            return {"color": _NOGRAD, "style": "dotted", "penwidth": "0.8", "dir": "none"}
        if s != s:
            self.drawn.add("nonfinite")
            attrs = {"color": _NONFINITE, "penwidth": "3.5", "style": "bold"}
            text, fc, w = "nan/inf", _NONFINITE, 3.5
        elif s == 0.0:
            self.drawn.add("zero")
            attrs = {"color": _ZERO, "penwidth": "1.6", "style": "dashed"}
            text, fc, w = "0", _ZERO_TEXT, 1.6
        else:
            self.drawn.add("flow")
            x = math.log10(s) if s < math.inf else math.inf
            if x > self.hi + 1e-9:
                self.drawn.add("above")
            elif x < self.lo - 1e-9:
                self.drawn.add("below")
            w = self.width(s)
            attrs = {"color": self.color(s), "penwidth": f"{w:.2f}",
                     "arrowsize": f"{0.45 + 0.08 * w:.2f}"}
            text, fc = fmt(s), "#3a3a3a"
        if label or note:
            attrs["label"] = _edge_label(text if label else "", note, fc, w)
        return attrs


def _edge_label(text: str, note: str, color: str, pen: float) -> str:
    """An edge's number as an HTML label padded by more than half the pen's width, so the
    text keeps clear of its own edge however thick that is drawn."""
    lines = [_font(_safe(text), color=color)] if text else []
    if note:
        lines.append(_font(_safe(note), color="#6f6f6f"))
    pad = math.ceil(pen / 2) + 1
    return (f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="{pad}"><TR><TD>'
            + "<BR/>".join(lines) + "</TD></TR></TABLE>>")


def _interpolate(stops: tuple[str, ...], t: float) -> str:
    x = t * (len(stops) - 1)
    i = min(int(x), len(stops) - 2)
    f = x - i
    a, b = (tuple(int(s[k:k + 2], 16) for k in (1, 3, 5)) for s in (stops[i], stops[i + 1]))
    return "#" + "".join(f"{round(p + (q - p) * f):02x}" for p, q in zip(a, b))


def fmt(x: Any) -> str:
    """A number as the pictures print it: 4 significant digits (tests look for this text)."""
    x = float(x)
    if x != x:
        return "nan"
    if x in (math.inf, -math.inf):
        return "inf" if x > 0 else "-inf"
    return f"{x + 0.0:.4g}"   # + 0.0 turns -0.0 into 0


def _safe(text: str, limit: int = _MAX_LABEL) -> str:
    """User text as HTML-label markup that can break neither the DOT nor the SVG.

    Markup characters become entities, every non-ASCII character a numeric reference, and
    what XML cannot carry (control characters, surrogates, U+FFFE/U+FFFF) a visible escape;
    newlines become line breaks. Long labels are cut with an ellipsis.
    """
    text = str(text).replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    if len(text) > limit:
        text = text[:limit - 1] + "\u2026"
    lines = []
    for line in text.split("\n"):
        out = []
        for ch in line:
            o = ord(ch)
            if ch in "&<>\"'":
                out.append(_html_escape(ch, quote=True))
            elif ch == "\\":  # Graphviz reads two backslashes in a label as one
                out.append("\\\\")
            elif 32 <= o < 127:
                out.append(ch)
            elif o < 32 or 127 <= o < 160 or 0xD800 <= o <= 0xDFFF or o in (0xFFFE, 0xFFFF):
                out.append(f"\\\\x{o:02x}" if o < 256 else f"\\\\u{o:04x}")
            else:
                out.append(f"&#{o};")
        lines.append("".join(out))
    return "<BR/>".join(lines)


def _font(text: str, size: int | None = None, color: str | None = None, bold: bool = False) -> str:
    attrs = (f' POINT-SIZE="{size}"' if size else "") + (f' COLOR="{color}"' if color else "")
    body = f"<B>{text}</B>" if bold else text
    return f"<FONT{attrs}>{body}</FONT>" if attrs else body


def _text_cell(text: str, color: str | None = None) -> str:
    return f'<TD ALIGN="LEFT">{_font(_safe(text, 120), 10, color)}</TD>'


def _swatch(color: str, width: float, dashed: bool = False) -> str:
    """A short bar as thick as an edge of that width: the legend's sample line."""
    h = max(1, round(width))
    if dashed:   # three dashes, like the edge
        bars = "".join(f'<TD BGCOLOR="{color}" WIDTH="6" HEIGHT="{h}" FIXEDSIZE="TRUE"></TD>'
                       + ('<TD WIDTH="4" HEIGHT="1" FIXEDSIZE="TRUE"></TD>' if i < 2 else "")
                       for i in range(3))
    else:
        bars = f'<TD BGCOLOR="{color}" WIDTH="26" HEIGHT="{h}" FIXEDSIZE="TRUE"></TD>'
    return (f'<TD VALIGN="MIDDLE" ALIGN="RIGHT"><TABLE BORDER="0" CELLPADDING="0" CELLSPACING="0">'
            f'<TR>{bars}</TR></TABLE></TD>')
