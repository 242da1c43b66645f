"""Regenerate ``digits.npz`` from scikit-learn's bundled copy of the UCI digits.

Run by hand only, with a throw-away environment, so scikit-learn never becomes
a dependency of tinygrad_memo::

    python -m venv /tmp/skl && /tmp/skl/bin/pip install scikit-learn
    /tmp/skl/bin/python tinygrad_memo/datasets/make_digits.py

The arrays are stored as uint8 (pixels are integers 0..16, labels 0..9) in a
compressed .npz, which keeps the file small and loadable without pickle.
"""

from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits

OUT = Path(__file__).resolve().parent / "digits.npz"


def main() -> None:
    digits = load_digits()
    data, target = digits.data, digits.target
    # Refuse to write anything if the float data is not what the docs promise.
    assert data.shape == (1797, 64), data.shape
    assert target.shape == (1797,), target.shape
    assert np.array_equal(data, np.round(data)), "pixels must be integers"
    assert data.min() == 0 and data.max() == 16, (data.min(), data.max())
    assert set(np.unique(target)) == set(range(10)), np.unique(target)

    images = data.astype(np.uint8)
    labels = target.astype(np.uint8)
    np.savez_compressed(OUT, images=images, labels=labels)

    # Read back the way the package does, to catch a bad write early.
    with np.load(OUT, allow_pickle=False) as f:
        assert np.array_equal(f["images"], images)
        assert np.array_equal(f["labels"], labels)
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
