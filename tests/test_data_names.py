"""The bundled names (makemore's names.txt): contents, licence next to it, the windows."""
import gzip
import hashlib
from importlib import resources

import numpy as np
import pytest

from tinygrad_memo import data

SHA256 = "0a30b5557f192f32ab962680889aac5f6fda0f4cecf40a6d0b5694f58ea8cc4d"


def test_load_names_returns_the_32033_names_unchanged():
    names = data.load_names()
    assert len(names) == 32033 and names[:3] == ["emma", "olivia", "ava"]
    assert set("".join(names)) == set("abcdefghijklmnopqrstuvwxyz")
    raw = gzip.decompress((resources.files("tinygrad_memo") / "datasets" / "names.txt.gz")
                          .read_bytes())
    assert hashlib.sha256(raw).hexdigest() == SHA256
    assert names == raw.decode().split("\n")


def test_the_licence_and_attribution_ship_next_to_the_file():
    folder = resources.files("tinygrad_memo") / "datasets"
    licence = (folder / "LICENSE-names").read_text()
    assert "MIT License" in licence and "Copyright (c) 2022 Andrej Karpathy" in licence
    assert "karpathy/makemore" in (folder / "README.md").read_text()
    assert "Copyright (c) 2022 Andrej Karpathy" in data.__doc__


def test_pyproject_puts_the_names_and_licence_in_the_wheel():
    import pathlib
    text = (pathlib.Path(__file__).resolve().parent.parent / "pyproject.toml").read_text()
    assert '"datasets/*.gz"' in text and '"datasets/LICENSE-names"' in text


def test_name_windows_pads_with_dots_like_makemore():
    X, y = data.name_windows(["emma", "al"], context=3)
    chars = ["".join(data.NAMES_ALPHABET[i] for i in row) for row in X]
    assert chars == ["...", "..e", ".em", "emm", "mma", "...", "..a", ".al"]
    assert "".join(data.NAMES_ALPHABET[i] for i in y) == "emma.al."
    assert X.dtype == y.dtype == np.int64 and X.shape == (8, 3)
    assert data.name_windows([], context=2)[0].shape == (0, 2)


def test_name_windows_names_bad_input():
    with pytest.raises(ValueError, match=r"name 1 \('Bob'\) has the character 'B'"):
        data.name_windows(["ann", "Bob"])
    with pytest.raises(ValueError, match=r"name 0 \('a.b'\) has the character '.'"):
        data.name_windows(["a.b"])
    with pytest.raises(TypeError, match="expected a list of names, got one string"):
        data.name_windows("emma")
    with pytest.raises(ValueError, match="context must be >= 1"):
        data.name_windows(["emma"], context=0)


def test_a_missing_or_corrupt_names_file_is_named(monkeypatch, tmp_path):
    monkeypatch.setattr(data, "_names_resource", lambda: tmp_path / "gone.txt.gz")
    with pytest.raises(FileNotFoundError, match="names dataset file is missing: .*gone.txt.gz"):
        data.load_names()
    bad = tmp_path / "bad.txt.gz"
    bad.write_bytes(b"not gzip at all")
    monkeypatch.setattr(data, "_names_resource", lambda: bad)
    with pytest.raises(ValueError, match="names dataset file is corrupt: .*bad.txt.gz"):
        data.load_names()
