"""Check a picture the way a person sees it: render the SVG with a real renderer, with a chosen
set of fonts installed, and find every text that leaves its box or runs into another text.

Two renderers, each measuring the text with the font it actually draws with:
  * headless Chromium: the page runs ``getBBox()`` on every ``<text>`` and the result is read
    back with ``--dump-dom``. getBBox's height is the font's whole line box (leading included,
    taller than the line spacing of a Graphviz cell), so vertically the ink is taken as
    0.78 em above and 0.24 em below the baseline, what DejaVu Sans and Liberation Sans draw;
  * ``rsvg-convert -f svg``: librsvg writes each text as one filled outline, so the outline's
    control points bound the ink (each text gets its own colour to find it again).
Which fonts exist is set per run with a private fontconfig file (``FONTCONFIG_FILE``).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from html import unescape
from pathlib import Path

SVG = "{http://www.w3.org/2000/svg}"
FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/truetype/liberation",
             "/usr/share/fonts/truetype/msttcorefonts")
#: font sets to test: name -> file-name prefixes (DejaVu alone is a minimal Linux install)
FONT_SETS = {"DejaVu Sans only": ("DejaVuSans",),
             "Liberation Sans only": ("LiberationSans",),
             "Arial only": ("Arial",)}
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--hide-scrollbars"]
Box = tuple[float, float, float, float]


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def rsvg() -> str | None:
    return shutil.which("rsvg-convert")


def font_files(prefixes: tuple[str, ...]) -> list[Path]:
    """The installed .ttf files whose names start with one of ``prefixes`` (regular and bold)."""
    found = []
    for d in FONT_DIRS:
        for f in sorted(Path(d).glob("*.ttf")) if os.path.isdir(d) else []:
            stem = f.stem.replace(" ", "").lower()   # Arial.ttf, Arial_Bold.ttf, arialbd.ttf
            if any(stem.startswith(p.lower()) and stem[len(p):] in ("", "-regular", "-bold", "bd", "_bold")
                   for p in prefixes):
                found.append(f)
    return found


@contextmanager
def only_fonts(files: list[Path]) -> Iterator[dict[str, str]]:
    """An environment in which fontconfig sees exactly ``files`` (and a throwaway home)."""
    with tempfile.TemporaryDirectory() as tmp:
        fonts = Path(tmp, "fonts")
        fonts.mkdir()
        for f in files:
            (fonts / f.name).symlink_to(f)
        conf = Path(tmp, "fonts.conf")
        conf.write_text(f'<?xml version="1.0"?><fontconfig><dir>{fonts}</dir>'
                        f'<cachedir>{tmp}/cache</cachedir></fontconfig>')
        env = dict(os.environ, FONTCONFIG_FILE=str(conf), HOME=tmp, XDG_CONFIG_HOME=tmp,
                   XDG_CACHE_HOME=tmp)
        yield env


def _plain(svg: str) -> str:
    """The SVG element alone (no XML declaration or DOCTYPE), sized 1 px per user unit."""
    svg = svg[svg.index("<svg"):]
    return re.sub(r'(<svg[^>]*?)width="([\d.]+)pt" height="([\d.]+)pt"', r'\1width="\2" height="\3"',
                  svg, count=1)


def chromium_boxes(svgs: list[str], env: dict[str, str]) -> list[list[Box]]:
    """The box of every <text> of each picture, in document order, as laid out by headless
    Chromium (one browser run for all the pictures)."""
    script = ("<script>const b=[...document.querySelectorAll('body>svg')].map(s=>"
              "[...s.querySelectorAll('text')].map(t=>{const r=t.getBBox();return [r.x,r.x+r.width]}));"
              "document.body.setAttribute('data-boxes',JSON.stringify(b));</script>")
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp, "page.html")
        page.write_text("<!DOCTYPE html><html><body>" + "".join(map(_plain, svgs)) + script
                        + "</body></html>", encoding="utf-8")
        out = subprocess.run([chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={tmp}/profile",
                              "--dump-dom", page.as_uri()], env=env, capture_output=True,
                             text=True, timeout=120, check=True).stdout
    match = re.search(r'data-boxes="([^"]*)"', out)
    assert match, f"Chromium did not run the measuring script: {out[:300]!r}"
    result = []
    for svg, spans in zip(svgs, json.loads(unescape(match.group(1)))):
        boxes = []
        for (x0, x1), t in zip(spans, ET.fromstring(_plain(svg)).iter(SVG + "text")):
            y, size = float(t.get("y")), float(t.get("font-size", "14"))
            boxes.append((x0, y - 0.78 * size, x1, y + 0.24 * size))
        result.append(boxes)
    return result


def rsvg_boxes(svg: str, env: dict[str, str]) -> list[Box]:
    """The ink box of every <text>, in document order, as drawn by librsvg (rsvg-convert)."""
    root = ET.fromstring(_plain(svg))
    texts = list(root.iter(SVG + "text"))
    for i, t in enumerate(texts):   # a colour per text, to find its outline again
        t.set("fill", f"#{(i + 1) >> 8:02x}{(i + 1) & 255:02x}00")
    for parent in root.iter():      # nothing but the texts is drawn
        for child in list(parent):
            if child.tag not in (SVG + "g", SVG + "text", SVG + "a"):
                parent.remove(child)
    out = subprocess.run([rsvg(), "-f", "svg"], input=ET.tostring(root), env=env,
                         capture_output=True, timeout=120, check=True).stdout.decode()
    tx, ty = _translate(svg)
    boxes: list[Box | None] = [None] * len(texts)
    for fill, d in re.findall(r'fill:rgb\(([^)]*)\);[^"]*" d="([^"]*)"', out):
        r, g, _ = (round(float(c.rstrip("%")) * 255 / 100) for c in fill.split(","))
        nums = [float(v) for v in re.findall(r"-?[\d.]+(?:e-?\d+)?", re.sub(r"M [^A-Z]*$", "", d))]
        xs, ys = nums[0::2], nums[1::2]
        i = (r << 8 | g) - 1
        box = (min(xs) - tx, min(ys) - ty, max(xs) - tx, max(ys) - ty)
        old = boxes[i]
        boxes[i] = box if old is None else (min(old[0], box[0]), min(old[1], box[1]),
                                            max(old[2], box[2]), max(old[3], box[3]))
    # a text of only spaces draws nothing: give it an empty box at its anchor
    return [b if b is not None else (float(t.get("x")), float(t.get("y")),
                                     float(t.get("x")), float(t.get("y")))
            for b, t in zip(boxes, texts)]


def _translate(svg: str) -> tuple[float, float]:
    m = re.search(r'class="graph" transform="scale\(1 1\) rotate\(0\) translate\(([-\d.]+) ([-\d.]+)\)"',
                  svg)
    assert m, "not a Graphviz SVG at scale 1"
    return float(m.group(1)), float(m.group(2))


def _points(el: ET.Element) -> list[tuple[float, float]]:
    tag = el.tag[len(SVG):]
    if tag in ("polygon", "polyline"):
        nums = [float(v) for v in re.split(r"[ ,]+", el.get("points", "").strip())]
    elif tag == "path":
        nums = [float(v) for v in re.findall(r"-?[\d.]+", el.get("d", ""))]
    elif tag == "ellipse":
        cx, cy, rx, ry = (float(el.get(k)) for k in ("cx", "cy", "rx", "ry"))
        nums = [cx - rx, cy - ry, cx + rx, cy + ry]
    else:
        return []
    return list(zip(nums[0::2], nums[1::2]))


def _bbox(points: list[tuple[float, float]]) -> Box:
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return min(xs), min(ys), max(xs), max(ys)


def _edge_strokes(graph: ET.Element) -> list[tuple[list[tuple[float, float]], float]]:
    """Each edge's centre line, sampled along its Bezier curves, and half its pen width
    (but not the dotted grey edges into constants, which carry no gradient)."""
    strokes = []
    for group in graph.iter(SVG + "g"):
        if group.get("class") != "edge":
            continue
        for path in group.iter(SVG + "path"):
            if path.get("stroke-dasharray") == "1,5":   # dotted pale grey: no gradient asked
                continue
            nums = [float(v) for v in re.findall(r"-?[\d.]+", path.get("d", ""))]
            pts = list(zip(nums[0::2], nums[1::2]))
            samples = [pts[0]]
            for k in range(1, len(pts) - 2, 3):
                p0, p1, p2, p3 = pts[k - 1], pts[k], pts[k + 1], pts[k + 2]
                for n in range(1, 21):
                    t = n / 20
                    samples.append(tuple((1 - t) ** 3 * a + 3 * (1 - t) ** 2 * t * b
                                         + 3 * (1 - t) * t * t * c + t ** 3 * d
                                         for a, b, c, d in zip(p0, p1, p2, p3)))
            strokes.append((samples, float(path.get("stroke-width", "1")) / 2))
    return strokes


def problems(svg: str, boxes: list[Box], slack: float = 0.5) -> list[str]:
    """Every text that leaves its node's shape (or its coloured legend cell), runs into
    another text, lies on an edge, or leaves the picture; empty when the picture reads right."""
    root = ET.fromstring(_plain(svg))
    graph = root.find(SVG + "g")
    owners: list[tuple[str, Box | None]] = []   # per text: (where it is, the box it must stay in)
    for group in graph.iter(SVG + "g"):
        cls = group.get("class")
        if cls not in ("node", "edge"):
            continue
        title = group.findtext(SVG + "title") or "?"
        shape = [p for el in group.iter() if el.tag != SVG + "text" for p in _points(el)]
        for _ in group.iter(SVG + "text"):
            owners.append((f"{cls} {title}", _bbox(shape) if cls == "node" and shape else None))
    cells = [_bbox(_points(el)) for el in graph if el.tag == SVG + "polygon"
             and el.get("fill") not in (None, "none", "white")]
    texts_in_graph = [t for t in graph if t.tag == SVG + "text"]
    all_texts = list(root.iter(SVG + "text"))
    where: list[tuple[str, Box | None]] = []
    owner_iter = iter(owners)
    for t in all_texts:
        if t in texts_in_graph:
            x, y = float(t.get("x")), float(t.get("y"))
            cell = next((c for c in cells if c[0] <= x <= c[2] and c[1] <= y <= c[3]), None)
            where.append(("legend", cell))
        else:
            where.append(next(owner_iter))
    width, height = (float(v) for v in root.get("viewBox").split()[2:])
    tx, ty = _translate(svg)
    found = []
    for t, (name, limit), b in zip(all_texts, where, boxes):
        text = "".join(t.itertext())
        if not text.strip():
            continue
        if (b[0] < -tx - slack or b[2] > width - tx + slack
                or b[1] < -ty - slack or b[3] > height - ty + slack):
            found.append(f"{text!r} ({name}) leaves the picture")
        if limit and (b[0] < limit[0] - slack or b[2] > limit[2] + slack):
            found.append(f"{text!r} ({name}) leaves its box: text x {b[0]:.1f}..{b[2]:.1f}, "
                         f"box x {limit[0]:.1f}..{limit[2]:.1f}")
    drawn = [i for i, t in enumerate(all_texts) if "".join(t.itertext()).strip()]
    strokes = _edge_strokes(graph)
    for i in (i for i in drawn if where[i][0].startswith("edge")):   # the numbers on edges
        x0, y0, x1, y1 = boxes[i]
        for samples, half in strokes:
            if any(x0 - half < x < x1 + half and y0 - half < y < y1 + half for x, y in samples):
                found.append(f"{''.join(all_texts[i].itertext())!r} ({where[i][0]}) lies on an "
                             f"edge drawn {2 * half:g} wide")
                break
    for n, i in enumerate(drawn):
        for j in drawn[n + 1:]:
            a, b = boxes[i], boxes[j]
            if min(a[2], b[2]) - max(a[0], b[0]) > slack and min(a[3], b[3]) - max(a[1], b[1]) > slack:
                found.append(f"{''.join(all_texts[i].itertext())!r} ({where[i][0]}) runs into "
                             f"{''.join(all_texts[j].itertext())!r} ({where[j][0]})")
    return found
