"""Model files: ``.npz`` archives of plain arrays, never pickle.

Layout of a file written by `Module.save`:

- one array per parameter, under its name (``layers.0.weight``, ...);
- ``__tinygrad_memo__``: a 0-d unicode array holding JSON
  ``{"format": 1, "class": "tinygrad_memo.nn.layers.MLP", "config": {...}}``.

Why JSON in a string array: the architecture must be rebuilt on load, and the only safe
way to do that is data, not code. Loading reads with ``allow_pickle=False``, looks the class
up among the `Module` subclasses already imported (a file can never make us import or run
anything), calls it with ``config`` and then `load_state_dict` with the arrays.
"""
from __future__ import annotations

import json
import os
import tempfile
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np

# Every Module subclass, by "module.QualName": `Module.load` rebuilds only these classes, so
# reading a model file never imports code named by the file. (module.py imports this file,
# never the other way round: models are typed loosely here.)
MODEL_CLASSES: dict[str, Any] = {}  # name -> Module subclass


def register_class(cls: type) -> None:
    """Make ``cls`` loadable by `load_module` (every Module subclass does this on creation)."""
    MODEL_CLASSES[f"{cls.__module__}.{cls.__qualname__}"] = cls

HEADER = "__tinygrad_memo__"
FORMAT = 1


class ModelFileError(ValueError):
    """A file that is not a model file this package wrote (or can read)."""


def save_module(module: Any, path: Any) -> Path:
    """Write ``module`` to ``path`` atomically: a temporary file in the same folder, then rename."""
    path = Path(os.fspath(path))
    cls = type(module)
    header = {"format": FORMAT, "class": f"{cls.__module__}.{cls.__qualname__}",
              "config": module.config()}
    try:
        text = json.dumps(header)
    except TypeError as exc:
        raise TypeError(f"save: {cls.__name__}.config() must return JSON types ({exc})") from None
    arrays = module.state_dict()
    arrays[HEADER] = np.array(text)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **arrays)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it private; give it a normal mode
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def load_arrays(path: Any) -> dict[str, np.ndarray]:
    """Every array in the ``.npz`` at ``path``, read without pickle and checked.

    Raises FileNotFoundError for a missing file and `ModelFileError` naming the file for
    anything that is not an ``.npz`` of numeric arrays (a pickle, an object array, a plain
    ``.npy``, a truncated or garbage file). The header string, if any, is included.
    """
    path = Path(os.fspath(path))
    if not path.exists():
        raise FileNotFoundError(f"model file not found: {path}")
    if path.is_dir():
        raise ModelFileError(f"{path}: not a model file (it is a folder)")
    with open(path, "rb") as fh:
        magic = fh.read(6)
    if magic == b"\x93NUMPY":
        raise ModelFileError(f"{path}: not a model file (a single .npy array, expected an "
                             ".npz archive written by Module.save)")
    if not magic.startswith(b"PK"):
        kind = "a pickle" if magic[:1] == b"\x80" else "not an .npz archive"
        raise ModelFileError(f"{path}: not a model file ({kind}; expected an .npz archive "
                             "written by Module.save)")
    try:
        with np.load(path, allow_pickle=False) as npz:
            out = {name: npz[name] for name in npz.files}
    except ValueError as exc:
        reason = str(exc)
        if "pickle" in reason.lower() or "object arrays" in reason.lower():
            reason = "it contains pickled data or object arrays, which are never loaded"
        raise ModelFileError(f"{path}: not a model file ({reason})") from None
    except (OSError, EOFError, KeyError, zipfile.BadZipFile, zlib.error) as exc:
        raise ModelFileError(f"{path}: not a model file (unreadable .npz: {exc})") from None
    for name, arr in out.items():
        if not isinstance(arr, np.ndarray):
            raise ModelFileError(f"{path}: member {name!r} is not a .npy array")
        if name == HEADER:
            if arr.dtype.kind != "U" or arr.shape != ():
                raise ModelFileError(f"{path}: header {HEADER} is not a string")
        elif arr.dtype.kind not in "fiub":
            raise ModelFileError(f"{path}: array {name!r} has dtype {arr.dtype}, expected numbers")
    return out


def load_module(cls: type, path: Any) -> Any:
    """Rebuild the model stored at ``path`` (see the module docstring for the format)."""
    arrays = load_arrays(path)
    if HEADER not in arrays:
        raise ModelFileError(f"{path}: not a model file (no {HEADER} header; write model files "
                             "with Module.save, or load bare arrays with "
                             "model.load_state_dict(nn.load_arrays(path)))")
    try:
        header = json.loads(str(arrays.pop(HEADER)))
        fmt, name, config = header["format"], header["class"], header["config"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ModelFileError(f"{path}: the {HEADER} header is not valid ({exc})") from None
    if fmt != FORMAT:
        raise ModelFileError(f"{path}: model file format {fmt!r} is not supported "
                             f"(this version reads format {FORMAT})")
    klass = MODEL_CLASSES.get(name)
    if klass is None:
        raise ModelFileError(f"{path}: the model class {name} is unknown here; import the "
                             "module that defines it before loading")
    if not issubclass(klass, cls):
        raise ModelFileError(f"{path}: holds a {klass.__name__}, not a {cls.__name__}")
    if not isinstance(config, dict):
        raise ModelFileError(f"{path}: {klass.__name__} was saved without a config, so it "
                             f"cannot be rebuilt; build it yourself and call "
                             "model.load_state_dict(nn.load_arrays(path))")
    try:
        model: Any = klass.from_config(config)
    except (TypeError, ValueError) as exc:
        raise ModelFileError(f"{path}: cannot rebuild {klass.__name__} from its config "
                             f"{config} ({exc})") from None
    try:
        model.load_state_dict(arrays)
    except ValueError as exc:
        raise ModelFileError(f"{path}: {exc}") from None
    return model
