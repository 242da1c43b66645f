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
import math
import os
import secrets
import stat
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np

# Every Module subclass, by "module.QualName": `Module.load` rebuilds only these classes, so
# reading a model file never imports code named by the file. (module.py imports this file,
# never the other way round: models are typed loosely here.)
MODEL_CLASSES: dict[Any, Any] = {}  # name -> Module subclass (any key may be looked up)


def register_class(cls: type) -> None:
    """Make ``cls`` loadable by `load_module` (every Module subclass does this on creation)."""
    MODEL_CLASSES[f"{cls.__module__}.{cls.__qualname__}"] = cls


HEADER = "__tinygrad_memo__"
FORMAT = 1
MAX_HEADER_CHARS = 1 << 20  # a config is a few hundred characters; more is not a model file
# Deflate expands at most ~1032x; a member that claims more than this is a zip bomb.
MAX_DEFLATE_RATIO = 1100


class ModelFileError(ValueError):
    """A file that is not a model file this package wrote (or can read)."""


def save_module(module: Any, path: Any) -> Path:
    """Write ``module`` to ``path`` atomically: a temporary file in the same folder, then rename.

    The new file gets the mode of the file it replaces (a private 0600 model stays private),
    or, for a new file, the mode any new file gets (0666 less the umask, applied by the
    kernel when the temporary is created: the process umask is never changed).
    """
    path = _as_path(path, "save")
    cls = type(module)
    header = {"format": FORMAT, "class": f"{cls.__module__}.{cls.__qualname__}",
              "config": module.config()}
    try:
        text = json.dumps(header, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"save: {cls.__name__}.config() must return JSON types ({exc})") from None
    arrays = module.state_dict()
    arrays[HEADER] = np.array(text)
    fd, tmp = _create_temporary(path)
    try:
        with os.fdopen(fd, "wb") as fh:
            try:
                os.chmod(tmp, stat.S_IMODE(os.stat(path).st_mode))
            except FileNotFoundError:
                pass  # a new file: keep the mode the kernel gave the temporary
            np.savez(fh, **arrays)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path


def _as_path(path: Any, who: str) -> Path:
    try:
        return Path(os.fspath(path))
    except TypeError:
        raise TypeError(f"{who}: path must be a str or os.PathLike, got "
                        f"{type(path).__name__}") from None


def _create_temporary(path: Path) -> tuple[int, str]:
    """A new file next to ``path``, opened for writing, with the mode 0666 & ~umask."""
    folder = path.parent
    for _ in range(100):
        tmp = os.path.join(folder, f".{path.name}.{secrets.token_hex(6)}.tmp")
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"save: could not create a temporary file in {folder}")


def load_arrays(path: Any) -> dict[str, np.ndarray]:
    """Every array in the ``.npz`` at ``path``, read without pickle and checked.

    Raises FileNotFoundError for a missing file and `ModelFileError` naming the file for
    anything that is not an ``.npz`` of numeric arrays (a pickle, an object array, a plain
    ``.npy``, a truncated or garbage file, a folder, a FIFO or device). The header string,
    if any, is included. Each array's header is checked against the bytes the file really
    holds for it *before* anything is allocated, so a tiny file cannot ask for terabytes.
    """
    path = _as_path(path, "load")
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise FileNotFoundError(f"model file not found: {path}") from None
    if stat.S_ISDIR(mode):
        raise ModelFileError(f"{path}: not a model file (it is a folder)")
    if not stat.S_ISREG(mode):  # a FIFO would block open() forever, a device never ends
        raise ModelFileError(f"{path}: not a model file (not a regular file)")
    with open(path, "rb") as fh:
        magic = fh.read(6)
        if magic == b"\x93NUMPY":
            raise ModelFileError(f"{path}: not a model file (a single .npy array, expected an "
                                 ".npz archive written by Module.save)")
        if not magic.startswith(b"PK"):
            kind = "a pickle" if magic[:1] == b"\x80" else "not an .npz archive"
            raise ModelFileError(f"{path}: not a model file ({kind}; expected an .npz archive "
                                 "written by Module.save)")
        fh.seek(0)
        try:
            with zipfile.ZipFile(fh) as archive:
                return {info.filename[:-4]: _read_member(archive, info, path)
                        for info in archive.infolist()}
        except ModelFileError:
            raise
        except (OSError, EOFError, ValueError, RuntimeError, NotImplementedError, OverflowError,
                zipfile.BadZipFile, zlib.error) as exc:
            raise ModelFileError(f"{path}: not a model file (unreadable .npz: {exc})") from None


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path) -> np.ndarray:
    """One ``.npy`` member, its header checked against its real size before it is read."""
    name = info.filename[:-4]
    if not info.filename.endswith(".npy"):
        raise ModelFileError(f"{path}: member {info.filename!r} is not a .npy array")
    if info.file_size > MAX_DEFLATE_RATIO * info.compress_size + 4096:
        raise ModelFileError(f"{path}: member {info.filename!r} claims {info.file_size} bytes "
                             f"from {info.compress_size} compressed bytes (a zip bomb)")
    with archive.open(info) as member:
        version = np.lib.format.read_magic(member)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(member)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(member)
        else:
            raise ModelFileError(f"{path}: array {name!r} has .npy version {version}, "
                                 "expected 1.0 or 2.0")
        if dtype.hasobject:
            raise ModelFileError(f"{path}: not a model file (it contains pickled data or object "
                                 "arrays, which are never loaded)")
        if dtype.kind not in "fiubU" or dtype.itemsize == 0 or dtype.fields is not None:
            raise ModelFileError(f"{path}: array {name!r} has dtype {dtype}, expected numbers")
        count = math.prod(shape)
        held = info.file_size - member.tell()
        if count * dtype.itemsize != held:
            raise ModelFileError(f"{path}: array {name!r} claims shape {_shape_str(shape)} of "
                                 f"{dtype} but the file holds {held} bytes for it")
        data = bytearray(member.read(held))
    if len(data) != held:
        raise ModelFileError(f"{path}: array {name!r} is truncated")
    arr = np.frombuffer(data, dtype=dtype, count=count)
    arr = arr.reshape(shape, order="F" if fortran else "C")
    if name == HEADER:
        if dtype.kind != "U" or shape != ():
            raise ModelFileError(f"{path}: header {HEADER} is not a string")
        if dtype.itemsize // 4 > MAX_HEADER_CHARS:
            raise ModelFileError(f"{path}: header {HEADER} is {dtype.itemsize // 4} characters "
                                 f"long (at most {MAX_HEADER_CHARS})")
    elif dtype.kind == "U":
        raise ModelFileError(f"{path}: array {name!r} has dtype {dtype}, expected numbers")
    return arr


def _shape_str(shape: tuple[int, ...]) -> str:
    """A shape for a message; a hostile one may hold ints too long for str()."""
    return "(" + ", ".join(_count_str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"


def _count_str(n: int) -> str:
    if abs(n) < 10 ** 30:
        return str(n)
    return f"{'-' if n < 0 else ''}~10^{int(abs(n).bit_length() * 0.30103)}"


def _header(path: Path, text: str) -> tuple[str, dict[str, Any] | None]:
    """The class name and config stored in the header, each of the right JSON type."""
    try:
        header = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ModelFileError(f"{path}: the {HEADER} header is not valid JSON "
                             f"({type(exc).__name__})") from None
    if not isinstance(header, dict) or not {"format", "class", "config"} <= header.keys():
        raise ModelFileError(f"{path}: the {HEADER} header is not valid (expected an object "
                             "with format, class and config)")
    fmt, name, config = header["format"], header["class"], header["config"]
    if fmt.__class__ is not int or fmt != FORMAT:
        shown = fmt if fmt.__class__ is int and abs(fmt) < 10 ** 30 else type(fmt).__name__
        raise ModelFileError(f"{path}: model file format {shown!r} is not supported "
                             f"(this version reads format {FORMAT})")
    if not isinstance(name, str):
        raise ModelFileError(f"{path}: the {HEADER} header is not valid (class is a "
                             f"{type(name).__name__}, expected a string)")
    if config is not None and not isinstance(config, dict):
        raise ModelFileError(f"{path}: the {HEADER} header is not valid (config is a "
                             f"{type(config).__name__}, expected an object)")
    return name, config


def load_module(cls: type, path: Any) -> Any:
    """Rebuild the model stored at ``path`` (see the module docstring for the format).

    Everything the file says is checked before it is used: the header's JSON types, the
    class, and (through ``config_size``) that the config asks for no more numbers than the
    file holds, so building the model allocates nothing the file does not pay for.
    """
    arrays = load_arrays(path)
    if HEADER not in arrays:
        raise ModelFileError(f"{path}: not a model file (no {HEADER} header; write model files "
                             "with Module.save, or load bare arrays with "
                             "model.load_state_dict(nn.load_arrays(path)))")
    name, config = _header(path, str(arrays.pop(HEADER)))
    klass = MODEL_CLASSES.get(name)
    if klass is None:
        raise ModelFileError(f"{path}: the model class {name[:200]} is unknown here; import "
                             "the module that defines it before loading")
    if not issubclass(klass, cls):
        raise ModelFileError(f"{path}: holds a {klass.__name__}, not a {cls.__name__}")
    if config is None:
        raise ModelFileError(f"{path}: {klass.__name__} was saved without a config, so it "
                             f"cannot be rebuilt; build it yourself and call "
                             "model.load_state_dict(nn.load_arrays(path))")
    shown = _config_str(config)
    try:
        wanted = klass.config_size(config)
    except Exception as exc:  # a hostile config: any type in any field
        raise ModelFileError(f"{path}: cannot rebuild {klass.__name__} from its config "
                             f"{shown} ({_reason(exc)})") from None
    held = sum(a.size for a in arrays.values())
    if wanted is not None and wanted > held:
        raise ModelFileError(f"{path}: the config {shown} asks for {_count_str(wanted)} "
                             f"parameters but the file holds {held} numbers; refused before "
                             "building anything")
    try:
        model = klass.from_config(config)
    except Exception as exc:  # a hostile config: any type in any field
        raise ModelFileError(f"{path}: cannot rebuild {klass.__name__} from its config "
                             f"{shown} ({_reason(exc)})") from None
    problems = []
    for pname, p in model.named_parameters():
        arr = arrays.get(pname)
        if arr is None or arr.shape != tuple(p.shape):
            continue  # named by load_state_dict below
        dtype = np.dtype(np.float64) if isinstance(p.data, float) else p.dtype
        if arr.dtype != dtype:
            problems.append(f"{pname} has dtype {arr.dtype}, expected {dtype}")
        elif arr.dtype.kind == "f" and not np.isfinite(arr).all():
            problems.append(f"{pname} holds NaN or infinite values")
    try:
        if problems:
            raise ValueError("; ".join(problems))
        model.load_state_dict(arrays)
    except ValueError as exc:
        raise ModelFileError(f"{path}: {exc}") from None
    return model


def _config_str(config: dict[str, Any]) -> str:
    """The config for a message, cut short (a hostile one may be a megabyte of JSON)."""
    try:
        text = json.dumps(config)
    except (ValueError, RecursionError):
        text = "<unprintable>"
    return text if len(text) <= 200 else text[:200] + "..."


def _reason(exc: Exception) -> str:
    try:
        text = str(exc)
    except ValueError:  # e.g. an int too long to print
        text = ""
    return f"{type(exc).__name__}: {text[:200]}" if text else type(exc).__name__
