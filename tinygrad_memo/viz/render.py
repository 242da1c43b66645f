"""Render Graphviz DOT source to SVG/PNG/PDF, with or without a system Graphviz.

Why: a plain ``pip install`` must be enough to draw computation graphs, but
many machines (CI images, slim containers, laptops without Homebrew/apt
Graphviz) have no ``dot`` on PATH.  So:

1. If a system ``dot`` is on PATH we use it: it is the reference
   implementation and the only one here that writes PDF.
2. Otherwise we run ``graphviz-pure`` (PyPI, EPL-2.0), a self-contained Rust
   port of Graphviz 16.1 shipped as one static binary in platform wheels for
   Linux (x86_64/aarch64, glibc and musl), macOS and Windows.  It takes
   ``dot``'s flags, needs no system libraries, fonts or network, and its SVG
   is byte-identical to Graphviz 16.1's for the graphs we draw.  It writes
   SVG, PNG and JPEG but not PDF.

Both run as a subprocess with the source on stdin: a crash or a pathological
layout can never take the Python process down, and there is no state shared
between calls.
"""
from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
from pathlib import Path

__all__ = ["FORMATS", "ENGINES", "FormatUnavailableError", "backend", "render"]

#: Output formats ``render`` accepts.  Not every backend writes every one.
FORMATS: tuple[str, ...] = ("svg", "png", "pdf", "jpeg", "json", "plain", "dot")

#: Graphviz layout engines (``-K``); both backends have all of them.
ENGINES: tuple[str, ...] = (
    "dot", "neato", "fdp", "sfdp", "circo", "twopi", "osage", "patchwork",
)

#: What graphviz-pure 0.2 can write (no cairo, hence no PDF).
_FALLBACK_FORMATS = frozenset(FORMATS) - {"pdf"}

_FALLBACK_DIST = "graphviz-pure"

SYSTEM = "system"
FALLBACK = "graphviz-pure"
NONE = "none"


class FormatUnavailableError(RuntimeError):
    """A known format that the renderer in use cannot write (e.g. PDF without system Graphviz)."""


def _system_dot() -> str | None:
    """Path of a system ``dot``; looked up on each call so PATH changes count."""
    return shutil.which("dot")


def _fallback_exe() -> str | None:
    """Path of the ``graphviz-pure`` binary installed alongside this interpreter.

    Why not just ``shutil.which``: a venv's scripts dir is not on PATH when its
    python is run by full path (IDEs, cron, CI), so we ask the installed
    distribution where pip put its binary, and use PATH only as a last resort.
    """
    try:
        dist = importlib.metadata.distribution(_FALLBACK_DIST)
    except importlib.metadata.PackageNotFoundError:
        dist = None
    if dist is not None:
        for f in dist.files or ():
            if f.name in ("graphviz-pure", "graphviz-pure.exe"):
                path = Path(str(dist.locate_file(f))).resolve()
                if path.is_file() and os.access(path, os.X_OK):
                    return str(path)
    return shutil.which("graphviz-pure")


def backend() -> str:
    """Which renderer ``render`` would use now: ``"system"``, ``"graphviz-pure"`` or ``"none"``."""
    if _system_dot():
        return SYSTEM
    if _fallback_exe():
        return FALLBACK
    return NONE


def _run(exe: str, source: str, format: str, engine: str, name: str) -> bytes:
    """Run a dot-compatible program with the source on stdin; raise with its stderr on failure."""
    try:
        proc = subprocess.run(
            [exe, f"-T{format}", f"-K{engine}"],
            input=source.encode("utf-8"),
            capture_output=True,
            check=False,
        )
    except OSError as exc:
        raise RuntimeError(f"could not run {name} ({exe}): {exc}") from exc
    if proc.returncode != 0:
        err = proc.stderr.decode("utf-8", errors="replace").strip()
        raise RuntimeError(
            f"{name} failed (exit {proc.returncode}) rendering {format!r} with "
            f"engine {engine!r}: {err or '(no message)'}"
        )
    if not proc.stdout:
        err = proc.stderr.decode("utf-8", errors="replace").strip()
        raise RuntimeError(f"{name} produced no output: {err or '(no message)'}")
    return proc.stdout


def render(source: str, format: str = "svg", engine: str = "dot") -> bytes:
    """Render DOT ``source`` to ``format`` bytes using layout ``engine``.

    Uses the system ``dot`` when it is on PATH, else the bundled
    ``graphviz-pure`` binary.  Never touches the network.

    Raises:
        ValueError: ``format`` not in ``FORMATS`` or ``engine`` not in ``ENGINES``.
        FormatUnavailableError: the fallback cannot write ``format`` (PDF).
        RuntimeError: no renderer found, or the renderer rejected the source
            (the message carries its stderr).
    """
    if format not in FORMATS:
        raise ValueError(
            f"unsupported format {format!r}; supported formats: {', '.join(FORMATS)}"
        )
    if engine not in ENGINES:
        raise ValueError(
            f"unsupported engine {engine!r}; supported engines: {', '.join(ENGINES)}"
        )
    dot = _system_dot()
    if dot:
        return _run(dot, source, format, engine, "system Graphviz dot")
    exe = _fallback_exe()
    if exe is None:
        raise RuntimeError(
            "no Graphviz renderer found: install system Graphviz (so `dot` is on "
            f"PATH) or the Python package {_FALLBACK_DIST!r} (pip install {_FALLBACK_DIST})"
        )
    if format not in _FALLBACK_FORMATS:
        raise FormatUnavailableError(
            f"format {format!r} cannot be produced without system Graphviz: the "
            f"{_FALLBACK_DIST} fallback writes only {', '.join(sorted(_FALLBACK_FORMATS))}. "
            "Install system Graphviz (so `dot` is on PATH) to enable it."
        )
    return _run(exe, source, format, engine, _FALLBACK_DIST)
