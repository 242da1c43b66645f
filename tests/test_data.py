"""Tests for tinygrad_memo.data (offline: sockets are blocked for every test)."""

import hashlib
import math
import socket

import numpy as np
import pytest

from tinygrad_memo import data as D

GENERATORS = [D.make_moons, D.make_circles, D.make_spirals]


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("tests must not use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)


# --- generators: shapes, dtypes, determinism -------------------------------

@pytest.mark.parametrize("make", GENERATORS)
@pytest.mark.parametrize("n", [3, 100, 101])
def test_generator_shapes_and_dtypes(make, n):
    X, y = make(n=n)
    assert X.shape == (n, 2) and X.dtype == np.float32
    assert y.shape == (n,) and y.dtype == np.int64
    assert np.isfinite(X).all()


@pytest.mark.parametrize("make", GENERATORS)
def test_generator_is_deterministic_by_seed(make):
    X1, y1 = make(seed=7)
    X2, y2 = make(seed=7)
    X3, _ = make(seed=8)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(X1, X3)


@pytest.mark.parametrize("make", GENERATORS)
def test_generator_shuffles_classes(make):
    _, y = make(n=100)
    assert not np.array_equal(y, np.sort(y))


def test_moons_label_balance():
    _, y = D.make_moons(n=100)
    assert set(np.unique(y)) == {0, 1}
    assert np.bincount(y).tolist() == [50, 50]
    _, y = D.make_moons(n=101)
    assert np.bincount(y).tolist() == [50, 51]


def test_moons_geometry_matches_scikit_learn():
    X, y = D.make_moons(n=200, noise=0.0)
    upper, lower = X[y == 0], X[y == 1]
    # Class 0: upper unit half circle; class 1: the same, flipped and moved.
    np.testing.assert_allclose(np.hypot(*upper.T), 1.0, atol=1e-6)
    assert (upper[:, 1] >= -1e-6).all()
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1, lower[:, 1] - 0.5),
                               1.0, atol=1e-6)
    assert (lower[:, 1] <= 0.5 + 1e-6).all()
    for point in [(1, 0), (-1, 0)]:
        assert np.isclose(upper, point, atol=1e-6).all(axis=1).any()
    for point in [(0, 0.5), (2, 0.5)]:
        assert np.isclose(lower, point, atol=1e-6).all(axis=1).any()


def test_moons_noise_moves_points():
    X0, _ = D.make_moons(noise=0.0)
    X1, _ = D.make_moons(noise=0.1)
    assert not np.allclose(np.sort(X0, axis=0), np.sort(X1, axis=0))


def test_circles_geometry_and_balance():
    X, y = D.make_circles(n=101, noise=0.0, factor=0.3)
    assert np.bincount(y).tolist() == [50, 51]
    radius = np.hypot(*X.T)
    np.testing.assert_allclose(radius[y == 0], 1.0, atol=1e-6)
    np.testing.assert_allclose(radius[y == 1], 0.3, atol=1e-6)


def test_spirals_classes_and_geometry():
    X, y = D.make_spirals(n=10, classes=3, noise=0.0)
    assert np.bincount(y).tolist() == [4, 3, 3]
    X, y = D.make_spirals(n=300, classes=5, noise=0.0)
    assert np.bincount(y).tolist() == [60] * 5
    radius = np.hypot(*X.T)
    for k in range(5):
        assert radius[y == k].min() == pytest.approx(0.0, abs=1e-6)
        assert radius[y == k].max() == pytest.approx(1.0, abs=1e-6)


# --- generators: argument validation ---------------------------------------

@pytest.mark.parametrize("make", [D.make_moons, D.make_circles])
@pytest.mark.parametrize("n", [1, 0, -5])
def test_two_class_generators_need_two_points(make, n):
    with pytest.raises(ValueError, match=r"n must be >= 2"):
        make(n=n)


@pytest.mark.parametrize("make", GENERATORS)
@pytest.mark.parametrize("n", [2.5, "10", True, None])
def test_generators_reject_non_integer_n(make, n):
    with pytest.raises(ValueError, match=r"n must be an integer"):
        make(n=n)


@pytest.mark.parametrize("make", GENERATORS)
@pytest.mark.parametrize("noise", [-0.1, float("nan")])
def test_generators_reject_bad_noise(make, noise):
    with pytest.raises(ValueError, match=r"noise must be >= 0"):
        make(noise=noise)


@pytest.mark.parametrize("factor", [1.0, 1.5, -0.1])
def test_circles_rejects_bad_factor(factor):
    with pytest.raises(ValueError, match=r"factor must be in \[0, 1\)"):
        D.make_circles(factor=factor)


@pytest.mark.parametrize("classes", [1, 0])
def test_spirals_needs_two_classes(classes):
    with pytest.raises(ValueError, match=r"classes must be >= 2"):
        D.make_spirals(n=10, classes=classes)


def test_spirals_rejects_non_integer_classes():
    with pytest.raises(ValueError, match=r"classes must be an integer"):
        D.make_spirals(classes=3.0)


def test_spirals_needs_n_at_least_classes():
    with pytest.raises(ValueError, match=r"n must be >= classes.*n=2, classes=3"):
        D.make_spirals(n=2, classes=3)


def test_spirals_rejects_n_below_one():
    with pytest.raises(ValueError, match=r"n must be >= 1"):
        D.make_spirals(n=0)


# --- digits ----------------------------------------------------------------

# sha256 of images.tobytes() + labels.tobytes() as written by make_digits.py;
# guards the shipped file against accidental edits.
DIGITS_SHA256 = "87ff0c9e40dc7e2c0e34e7257799c2e3f3aec1a016363bb11cad869ec428a826"


def test_digits_counts_shapes_and_dtypes():
    X, y = D.load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float32
    assert y.shape == (1797,) and y.dtype == np.int64
    assert set(np.unique(y)) == set(range(10))
    assert (np.bincount(y) > 150).all()  # roughly balanced, every class present
    assert X.min() == 0.0 and X.max() == 1.0


def test_digits_unnormalized_are_integers_0_to_16():
    X, y = D.load_digits(normalize=False)
    assert X.dtype == np.float32
    assert X.min() == 0.0 and X.max() == 16.0
    np.testing.assert_array_equal(X, np.round(X))
    np.testing.assert_allclose(D.load_digits()[0] * 16, X)


def test_digits_file_is_small_pickle_free_and_unchanged():
    resource = D._digits_resource()
    raw = resource.read_bytes()
    assert len(raw) < 100_000
    with resource.open("rb") as fh, np.load(fh, allow_pickle=False) as npz:
        assert sorted(npz.files) == ["images", "labels"]
        images, labels = npz["images"], npz["labels"]
    assert images.dtype == np.uint8 and labels.dtype == np.uint8
    digest = hashlib.sha256(images.tobytes() + labels.tobytes()).hexdigest()
    assert digest == DIGITS_SHA256


def test_digits_missing_file_names_the_file(monkeypatch, tmp_path):
    missing = tmp_path / "digits.npz"
    monkeypatch.setattr(D, "_digits_resource", lambda: missing)
    with pytest.raises(FileNotFoundError, match=r"missing: .*digits\.npz"):
        D.load_digits()


def _write_real_digits_then(path, mangle):
    path.write_bytes(mangle(D._digits_resource().read_bytes()))


@pytest.mark.parametrize("mangle", [
    lambda raw: b"this is not an npz file",
    lambda raw: raw[: len(raw) // 2],                # truncated download
    lambda raw: raw[:2000] + b"\0" * 500 + raw[2500:],  # damaged bytes
], ids=["garbage", "truncated", "damaged"])
def test_digits_corrupt_file_names_the_file(monkeypatch, tmp_path, mangle):
    bad = tmp_path / "digits.npz"
    _write_real_digits_then(bad, mangle)
    monkeypatch.setattr(D, "_digits_resource", lambda: bad)
    with pytest.raises(ValueError, match=r"corrupt: .*digits\.npz"):
        D.load_digits()


@pytest.mark.parametrize("arrays", [
    {"images": np.zeros((3, 64), np.uint8)},                             # no labels
    {"images": np.zeros((3, 63), np.uint8), "labels": np.zeros(3, np.uint8)},
    {"images": np.zeros((3, 64), np.uint8), "labels": np.zeros(4, np.uint8)},
    {"images": np.array([[1]], dtype=object), "labels": np.zeros(1)},     # pickle
], ids=["no-labels", "63-features", "length-mismatch", "object-array"])
def test_digits_invalid_content_names_the_file(monkeypatch, tmp_path, arrays):
    bad = tmp_path / "digits.npz"
    np.savez_compressed(bad, **arrays)
    monkeypatch.setattr(D, "_digits_resource", lambda: bad)
    with pytest.raises(ValueError, match=r"corrupt: .*digits\.npz"):
        D.load_digits()


# --- train_test_split ------------------------------------------------------

def _indexed(n):
    """Features that remember their row, so splits can be traced back."""
    X = np.stack([np.arange(n), -np.arange(n)], axis=1).astype(np.float32)
    return X, np.arange(n, dtype=np.int64)


@pytest.mark.parametrize("n, fraction, n_test", [
    (100, 0.2, 20), (10, 0.25, 3), (1797, 0.2, 360), (2, 0.5, 1), (5, 0.01, 1),
])
def test_split_sizes_no_overlap_and_alignment(n, fraction, n_test):
    X, y = _indexed(n)
    X_tr, X_te, y_tr, y_te = D.train_test_split(X, y, test_fraction=fraction)
    assert len(X_te) == len(y_te) == n_test
    assert len(X_tr) == len(y_tr) == n - n_test
    assert set(y_tr.tolist()).isdisjoint(y_te.tolist())
    assert sorted(y_tr.tolist() + y_te.tolist()) == list(range(n))
    np.testing.assert_array_equal(X_tr[:, 0], y_tr)  # rows stay with labels
    np.testing.assert_array_equal(X_te[:, 0], y_te)


def test_split_is_shuffled_and_deterministic_by_seed():
    X, y = _indexed(100)
    a = D.train_test_split(X, y, seed=1)
    b = D.train_test_split(X, y, seed=1)
    c = D.train_test_split(X, y, seed=2)
    for left, right in zip(a, b):
        np.testing.assert_array_equal(left, right)
    assert not np.array_equal(a[3], c[3])
    assert not np.array_equal(a[3], np.arange(80, 100))


def test_split_accepts_lists_and_digits():
    X_tr, X_te, y_tr, y_te = D.train_test_split([[0], [1], [2], [3]], [0, 1, 0, 1],
                                                test_fraction=0.5)
    assert isinstance(X_tr, np.ndarray) and X_tr.shape == (2, 1)
    X_tr, X_te, y_tr, y_te = D.train_test_split(*D.load_digits())
    assert X_tr.shape == (1437, 64) and X_te.shape == (360, 64)


def test_split_rejects_length_mismatch():
    with pytest.raises(ValueError, match=r"same length, got 10 and 9"):
        D.train_test_split(np.zeros((10, 2)), np.zeros(9))


@pytest.mark.parametrize("fraction", [0, 0.0, 1, 1.0, -0.2, 1.5, float("nan")])
def test_split_rejects_fraction_outside_open_interval(fraction):
    X, y = _indexed(10)
    with pytest.raises(ValueError, match=r"test_fraction must be in \(0, 1\)"):
        D.train_test_split(X, y, test_fraction=fraction)


def test_split_rejects_empty_train_set():
    X, y = _indexed(1)
    with pytest.raises(ValueError, match=r"test_fraction.*leaves no training"):
        D.train_test_split(X, y, test_fraction=0.5)


# --- batches ---------------------------------------------------------------

@pytest.mark.parametrize("shuffle", [True, False])
@pytest.mark.parametrize("n, batch_size", [(10, 3), (10, 5), (10, 1), (10, 64), (1, 1)])
def test_batches_cover_every_index_exactly_once(n, batch_size, shuffle):
    X, y = _indexed(n)
    got = list(D.batches(X, y, batch_size, shuffle=shuffle, seed=0))
    assert len(got) == math.ceil(n / batch_size)
    sizes = [len(yb) for _, yb in got]
    assert all(s == batch_size for s in sizes[:-1])
    assert 1 <= sizes[-1] <= batch_size
    seen = np.concatenate([yb for _, yb in got])
    assert sorted(seen.tolist()) == list(range(n))
    for Xb, yb in got:
        np.testing.assert_array_equal(Xb[:, 0], yb)


def test_batches_without_shuffle_keep_order():
    X, y = _indexed(7)
    seen = np.concatenate([yb for _, yb in D.batches(X, y, 3, shuffle=False)])
    np.testing.assert_array_equal(seen, np.arange(7))


def test_batches_shuffle_is_seeded():
    X, y = _indexed(50)

    def order(seed):
        return np.concatenate([yb for _, yb in D.batches(X, y, 8, seed=seed)])

    np.testing.assert_array_equal(order(3), order(3))
    assert not np.array_equal(order(3), order(4))
    assert not np.array_equal(order(3), np.arange(50))


@pytest.mark.parametrize("batch_size", [0, -1])
def test_batches_reject_small_batch_size(batch_size):
    X, y = _indexed(4)
    with pytest.raises(ValueError, match=r"batch_size must be >= 1"):
        D.batches(X, y, batch_size)  # raises at the call, before iterating


@pytest.mark.parametrize("batch_size", [2.0, "2", True])
def test_batches_reject_non_integer_batch_size(batch_size):
    X, y = _indexed(4)
    with pytest.raises(ValueError, match=r"batch_size must be an integer"):
        D.batches(X, y, batch_size)


def test_batches_reject_length_mismatch():
    with pytest.raises(ValueError, match=r"same length, got 4 and 3"):
        D.batches(np.zeros((4, 2)), np.zeros(3), 2)


# --- load(name) ------------------------------------------------------------

def test_datasets_tuple():
    assert D.DATASETS == ("digits", "moons", "circles", "spirals")


@pytest.mark.parametrize("name", D.DATASETS)
def test_load_every_name(name):
    X, y = D.load(name)
    assert X.dtype == np.float32 and y.dtype == np.int64
    assert X.ndim == 2 and len(X) == len(y)
    assert len(X) == (1797 if name == "digits" else 100)


@pytest.mark.parametrize("name, make", [
    ("moons", D.make_moons), ("circles", D.make_circles), ("spirals", D.make_spirals),
])
def test_load_matches_generator_and_forwards_arguments(name, make):
    X1, y1 = D.load(name, n=30, seed=5, noise=0.0)
    X2, y2 = make(n=30, seed=5, noise=0.0)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)


def test_load_digits_subset_is_seeded():
    X, y = D.load("digits", n=50, seed=1)
    assert X.shape == (50, 64) and y.shape == (50,)
    np.testing.assert_array_equal(D.load("digits", n=50, seed=1)[1], y)
    X_raw, _ = D.load("digits", normalize=False)
    assert X_raw.max() == 16.0


def test_load_digits_rejects_bad_n():
    with pytest.raises(ValueError, match=r"n must be <= 1797 for digits"):
        D.load("digits", n=1798)
    with pytest.raises(ValueError, match=r"n must be >= 1"):
        D.load("digits", n=0)


@pytest.mark.parametrize("name", ["mnist", "Moons", "", "digit"])
def test_load_unknown_name_lists_valid_names(name):
    valid = r"valid names are digits, moons, circles, spirals"
    with pytest.raises(ValueError, match=r"unknown dataset .*" + valid):
        D.load(name)
