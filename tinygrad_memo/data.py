"""Small datasets for trying out tinygrad_memo.

Why: examples and tests need data that is tiny, deterministic and available
offline. The 2-D generators are seeded with ``np.random.default_rng(seed)``,
and the two real datasets ship inside the package, compressed: the 8x8 digits
as a pickle-free ``.npz``, the names as gzipped text.

Every classification loader returns ``(X, y)`` with ``X`` float32 of shape
``(n, features)`` and ``y`` int64 class labels. `load_names` returns a list of
names; `name_windows` turns them into ``(X, y)`` for a character model.

The names (``datasets/names.txt.gz``, 32,033 first names) are the data set of
Andrej Karpathy's makemore (github.com/karpathy/makemore, MIT licence,
Copyright (c) 2022 Andrej Karpathy), the standard next step after micrograd in
his "Neural Networks: Zero to Hero" course. The licence text is in
``datasets/LICENSE-names``, the provenance in ``datasets/README.md``.
"""

from __future__ import annotations

import gzip
import numbers
import zipfile
import zlib
from importlib import resources
from typing import Any, Callable, Iterator

import numpy as np

__all__ = [
    "DATASETS",
    "batches",
    "load",
    "load_digits",
    "load_names",
    "name_windows",
    "NAMES_ALPHABET",
    "make_circles",
    "make_moons",
    "make_spirals",
    "train_test_split",
]

DATASETS = ("digits", "moons", "circles", "spirals")

_DIGITS_FILE = "digits.npz"
_NAMES_FILE = "names.txt.gz"

#: makemore's characters: "." (index 0) marks the start and the end of a name, then a-z.
NAMES_ALPHABET = ".abcdefghijklmnopqrstuvwxyz"


# --- argument checks -------------------------------------------------------

def _check_int(name: str, value: Any, minimum: int) -> int:
    """Reject bools, floats and too-small values early, naming the argument."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def _check_noise(noise: float) -> float:
    """Noise is a standard deviation, so it cannot be negative (or NaN)."""
    if isinstance(noise, bool) or not isinstance(noise, numbers.Real):
        raise ValueError(f"noise must be a number, got {noise!r}")
    if not noise >= 0:
        raise ValueError(f"noise must be >= 0, got {noise!r}")
    return float(noise)


def _shuffled(rng: np.random.Generator, X: np.ndarray, y: np.ndarray,
              noise_scale: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Shuffle rows (so classes are not in blocks), add noise, fix dtypes."""
    order = rng.permutation(len(y))
    X, y = X[order], y[order]
    if noise_scale:
        X = X + rng.normal(scale=noise_scale, size=X.shape)
    return X.astype(np.float32), y.astype(np.int64)


# --- 2-D toy generators ----------------------------------------------------

def make_moons(n: int = 100, noise: float = 0.1,
               seed: int | None = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles, labels 0/1 (scikit-learn's geometry).

    The classic non-linearly-separable toy problem: a linear model fails,
    a small MLP succeeds. Class 0 gets ``n // 2`` points, class 1 the rest.
    """
    n = _check_int("n", n, 2)
    noise = _check_noise(noise)
    n_out = n // 2
    n_in = n - n_out
    t_out = np.linspace(0, np.pi, n_out)
    t_in = np.linspace(0, np.pi, n_in)
    X = np.concatenate([
        np.stack([np.cos(t_out), np.sin(t_out)], axis=1),
        np.stack([1 - np.cos(t_in), 1 - np.sin(t_in) - 0.5], axis=1),
    ])
    y = np.concatenate([np.zeros(n_out), np.ones(n_in)])
    return _shuffled(np.random.default_rng(seed), X, y, noise)


def make_circles(n: int = 100, noise: float = 0.05, factor: float = 0.5,
                 seed: int | None = 0) -> tuple[np.ndarray, np.ndarray]:
    """A small circle (label 1) inside a unit circle (label 0).

    Separable only by a non-linear (radial) boundary. ``factor`` is the inner
    radius, in [0, 1) as in scikit-learn.
    """
    n = _check_int("n", n, 2)
    noise = _check_noise(noise)
    if not 0 <= factor < 1:
        raise ValueError(f"factor must be in [0, 1), got {factor!r}")
    n_out = n // 2
    n_in = n - n_out
    # endpoint=False so the first and last points of a circle do not coincide.
    t_out = np.linspace(0, 2 * np.pi, n_out, endpoint=False)
    t_in = np.linspace(0, 2 * np.pi, n_in, endpoint=False)
    X = np.concatenate([
        np.stack([np.cos(t_out), np.sin(t_out)], axis=1),
        factor * np.stack([np.cos(t_in), np.sin(t_in)], axis=1),
    ])
    y = np.concatenate([np.zeros(n_out), np.ones(n_in)])
    return _shuffled(np.random.default_rng(seed), X, y, noise)


def make_spirals(n: int = 100, classes: int = 3, noise: float = 0.2,
                 seed: int | None = 0) -> tuple[np.ndarray, np.ndarray]:
    """``classes`` interleaved spiral arms (the CS231n multi-class example).

    Arm ``k`` has radius 0..1 and angle ``4k..4(k+1)`` plus Gaussian angle
    noise. The ``n`` points are split as evenly as possible between the arms.
    """
    n = _check_int("n", n, 1)
    classes = _check_int("classes", classes, 2)
    noise = _check_noise(noise)
    if n < classes:
        raise ValueError(
            f"n must be >= classes so every class has a point, "
            f"got n={n}, classes={classes}")
    rng = np.random.default_rng(seed)
    sizes = [n // classes + (k < n % classes) for k in range(classes)]
    parts = []
    for k, size in enumerate(sizes):
        r = np.linspace(0.0, 1.0, size)
        t = np.linspace(4.0 * k, 4.0 * (k + 1), size)
        t = t + rng.normal(scale=noise, size=size)
        parts.append(np.stack([r * np.sin(t), r * np.cos(t)], axis=1))
    y = np.repeat(np.arange(classes), sizes)
    return _shuffled(rng, np.concatenate(parts), y)


# --- the embedded 8x8 digits -----------------------------------------------

def _resource(filename: str) -> Any:
    """Locate a bundled file through importlib.resources so an installed wheel
    (or zip import) works, not just a source checkout."""
    package = __package__ or "tinygrad_memo"
    return resources.files(package) / "datasets" / filename


def _digits_resource() -> Any:
    return _resource(_DIGITS_FILE)


def _names_resource() -> Any:
    return _resource(_NAMES_FILE)


def load_digits(normalize: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """The UCI 8x8 handwritten digits: 1,797 images, 10 classes.

    A real (if small) dataset that trains in seconds. Pixels are 0..16;
    with ``normalize`` they are divided by 16 so X lies in [0, 1].
    Source and license: ``tinygrad_memo/datasets/README.md``.
    """
    resource = _digits_resource()
    try:
        with resource.open("rb") as fh, np.load(fh, allow_pickle=False) as npz:
            images = npz["images"]
            labels = npz["labels"]
    except FileNotFoundError:
        raise FileNotFoundError(
            f"digits dataset file is missing: {resource} (it should ship with "
            f"the package; regenerate it with datasets/make_digits.py)") from None
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile,
            zlib.error) as exc:
        raise ValueError(
            f"digits dataset file is corrupt: {resource} ({exc})") from exc
    if (images.ndim != 2 or images.shape[1] != 64 or labels.ndim != 1
            or len(labels) != len(images)):
        raise ValueError(
            f"digits dataset file is corrupt: {resource} (unexpected shapes "
            f"images={images.shape}, labels={labels.shape})")
    X = images.astype(np.float32)
    if normalize:
        X /= 16.0
    return X, labels.astype(np.int64)


# --- the embedded names ------------------------------------------------------

def load_names() -> list[str]:
    """makemore's 32,033 first names (lower case a-z), in the file's order.

    Attribution and licence: this module's docstring and
    ``tinygrad_memo/datasets/LICENSE-names``.
    """
    resource = _names_resource()
    try:
        with resource.open("rb") as fh:
            text = gzip.decompress(fh.read()).decode("ascii")
    except FileNotFoundError:
        raise FileNotFoundError(
            f"names dataset file is missing: {resource} (it should ship with "
            f"the package)") from None
    except (OSError, EOFError, UnicodeDecodeError, zlib.error) as exc:
        raise ValueError(f"names dataset file is corrupt: {resource} ({exc})") from exc
    return text.split()


def name_windows(words: list[str], context: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Every (``context`` characters -> next character) pair in ``words``, as indices
    into `NAMES_ALPHABET`: ``X`` int64 of shape ``(n, context)``, ``y`` int64 ``(n,)``.

    Each name starts after ``context`` dots and ends with one dot, so "emma" gives
    ``...->e, ..e->m, .em->m, emm->a, mma->.`` (makemore's MLP data set).
    """
    context = _check_int("context", context, 1)
    if isinstance(words, str):
        raise TypeError("name_windows: expected a list of names, got one string")
    index = {c: i for i, c in enumerate(NAMES_ALPHABET)}
    X: list[list[int]] = []
    y: list[int] = []
    for w, word in enumerate(words):
        bad = [c for c in str(word) if c not in index or c == "."]
        if bad or not isinstance(word, str):
            raise ValueError(f"name_windows: name {w} ({word!r}) has the character "
                             f"{bad[0] if bad else word!r}; names are lower case a-z")
        window = [0] * context
        for c in word + ".":
            X.append(window)
            y.append(index[c])
            window = window[1:] + [index[c]]
    return (np.array(X, dtype=np.int64).reshape(len(y), context),
            np.array(y, dtype=np.int64))


# --- splitting and batching ------------------------------------------------

def _arrays(X: Any, y: Any, who: str) -> tuple[np.ndarray, np.ndarray]:
    """X and y as arrays with at least one axis, or a ValueError naming ``who``."""
    try:
        X, y = np.asarray(X), np.asarray(y)
    except (TypeError, ValueError) as exc:  # ragged lists
        raise ValueError(f"{who}: X and y must be arrays ({exc})") from None
    for name, arr in (("X", X), ("y", y)):
        if arr.ndim == 0 or arr.dtype.kind not in "fiub":
            raise ValueError(f"{who}: {name} must be an array of numbers with one row per "
                             f"sample, got {arr.dtype} of shape {arr.shape}")
    return X, y


def _check_same_length(X: np.ndarray, y: np.ndarray) -> int:
    if len(X) != len(y):
        raise ValueError(
            f"X and y must have the same length, got {len(X)} and {len(y)}")
    return len(X)


def train_test_split(
    X: np.ndarray, y: np.ndarray, test_fraction: float = 0.2,
    seed: int | None = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Shuffle once (seeded) and hold out ``ceil(n * test_fraction)`` samples.

    Why: a fixed, reproducible held-out set to measure generalisation.
    Returns ``X_train, X_test, y_train, y_test`` (scikit-learn's order).
    """
    X, y = _arrays(X, y, "train_test_split")
    n = _check_same_length(X, y)
    if not 0 < test_fraction < 1:
        raise ValueError(
            f"test_fraction must be in (0, 1), got {test_fraction!r}")
    n_test = int(np.ceil(n * test_fraction))
    if n_test >= n:
        raise ValueError(
            f"test_fraction={test_fraction} of n={n} samples leaves no "
            f"training samples")
    order = np.random.default_rng(seed).permutation(n)
    test, train = order[:n_test], order[n_test:]
    return X[train], X[test], y[train], y[test]


def batches(
    X: np.ndarray, y: np.ndarray, batch_size: int, shuffle: bool = True,
    seed: int | None = None,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``(Xb, yb)`` mini-batches that cover every sample exactly once.

    The last batch may be smaller. Arguments are checked now, not at the
    first ``next()``, so mistakes surface where the call is written.
    """
    X, y = _arrays(X, y, "batches")
    n = _check_same_length(X, y)
    batch_size = _check_int("batch_size", batch_size, 1)
    order = np.random.default_rng(seed).permutation(n) if shuffle else None

    def generate() -> Iterator[tuple[np.ndarray, np.ndarray]]:
        for start in range(0, n, batch_size):
            part: slice | np.ndarray
            if order is None:
                part = slice(start, start + batch_size)
            else:
                part = order[start:start + batch_size]
            yield X[part], y[part]

    return generate()


# --- one entry point by name -----------------------------------------------

def load(name: str, n: int | None = None, seed: int | None = 0,
         **kwargs: Any) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(X, y)`` for any name in ``DATASETS``.

    Why: scripts and examples can pick a dataset from a command-line string.
    ``n=None`` means the default size (100 for the generators, all 1,797
    digits); for "digits" an integer ``n`` takes a seeded random subset.
    Extra keyword arguments go to the underlying function (e.g. ``noise``).
    """
    generators: dict[str, Callable[..., tuple[np.ndarray, np.ndarray]]] = {
        "moons": make_moons, "circles": make_circles, "spirals": make_spirals}
    if not isinstance(name, str):
        raise ValueError(f"unknown dataset {name!r}; valid names are {', '.join(DATASETS)}")
    if name in generators:
        if n is not None:
            kwargs["n"] = n
        return generators[name](seed=seed, **kwargs)
    if name != "digits":
        raise ValueError(
            f"unknown dataset {name!r}; valid names are {', '.join(DATASETS)}")
    X, y = load_digits(**kwargs)
    if n is not None:
        n = _check_int("n", n, 1)
        if n > len(y):
            raise ValueError(f"n must be <= {len(y)} for digits, got {n}")
        keep = np.random.default_rng(seed).permutation(len(y))[:n]
        X, y = X[keep], y[keep]
    return X, y
