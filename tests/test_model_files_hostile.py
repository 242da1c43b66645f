"""Hostile model files: every one gets a `ModelFileError` naming the file and what is wrong,
fast, without allocating more than the file holds (`tracemalloc` watches NumPy's buffers)."""
import io
import json
import os
import stat
import struct
import threading
import tracemalloc
import zipfile

import numpy as np
import pytest

from tinygrad_memo import nn
from tinygrad_memo.nn import ModelFileError

LINEAR = "tinygrad_memo.nn.layers.Linear"
MLP = "tinygrad_memo.nn.layers.MLP"
GOOD = {"weight": np.zeros((2, 1), np.float32), "bias": np.zeros(1, np.float32)}


def write(path, header, arrays=GOOD):
    """An .npz with ``arrays`` and ``header`` (any JSON value, or a raw string) as its header."""
    text = header if isinstance(header, str) else json.dumps(header)
    np.savez(path, __tinygrad_memo__=np.array(text), **arrays)
    return path


def header(config=None, cls=LINEAR, fmt=1):
    cfg = {"nin": 2, "nout": 1, "bias": True, "dtype": "float32"} if config is None else config
    return {"format": fmt, "class": cls, "config": cfg}


def load_refused(path, match, budget=4 << 20):
    """Module.load raises ModelFileError matching ``match`` and allocates under ``budget`` bytes."""
    tracemalloc.start()
    try:
        with pytest.raises(ModelFileError, match=match) as info:
            nn.Module.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(info.value).startswith(str(path))
    assert peak < budget, f"loading a refused file allocated {peak} bytes"
    return info.value


def test_a_tiny_file_cannot_ask_for_terabytes_of_parameters(tmp_path):
    path = write(tmp_path / "big.npz", header({"nin": 10 ** 6, "sizes": [10 ** 6, 10]}, cls=MLP))
    load_refused(path, r"asks for 1000011000010 parameters but the file holds 3 numbers; "
                       r"refused before building anything")
    path = write(tmp_path / "huge.npz", header({"nin": 10 ** 300, "nout": 1}))
    load_refused(path, r"asks for ~10\^300 parameters")


def test_an_array_header_cannot_claim_more_bytes_than_the_file_holds(tmp_path):
    path = tmp_path / "claim.npz"
    member = io.BytesIO()
    np.lib.format.write_array_header_1_0(member, {"descr": "<f4", "fortran_order": False,
                                                  "shape": (99999999999,)})
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("weight.npy", member.getvalue() + bytes(16))
    load_refused(path, r"array 'weight' claims shape \(99999999999,\) of float32 but the file "
                       r"holds 16 bytes for it")


def test_a_zip_bomb_member_is_refused_before_decompressing(tmp_path):
    path = tmp_path / "bomb.npz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("weight.npy", b"\0" * 1000)
    data = bytearray(path.read_bytes())
    central = data.index(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 24, 4 * 10 ** 9)  # claims 4 GB uncompressed
    path.write_bytes(bytes(data))
    load_refused(path, r"member 'weight.npy' claims 4000000000 bytes from \d+ compressed "
                       r"bytes \(a zip bomb\)")


BAD_HEADERS = [
    ("[1, 2]", "expected an object with format, class and config"),
    ('{"format": 1}', "expected an object with format, class and config"),
    (header(cls=["a"]), r"class is a list, expected a string"),
    (header(cls={"x": 1}), r"class is a dict, expected a string"),
    (header(fmt="1"), r"model file format 'str' is not supported"),
    (header(fmt=True), r"model file format 'bool' is not supported"),
    (header(fmt=1.0), r"model file format 'float' is not supported"),
    (header(config=[2, 1]), r"config is a list, expected an object"),
    (header(config={"nin": "2", "nout": 1}), r"cannot rebuild Linear from its config .*nin must "
                                             r"be a positive integer, got '2'"),
    (header(config={"nin": 2.5, "nout": 1}), r"cannot rebuild Linear .*got 2\.5"),
    (header(config={"nin": None, "nout": 1}), r"cannot rebuild Linear .*got None"),
    (header(config={"nin": -(10 ** 4000), "nout": 1}), r"cannot rebuild Linear from its config"),
    (header(config={"nin": 2, "nout": 1, "dtype": {"a": []}}), r"cannot rebuild Linear"),
    (header(config={"nin": 2, "nout": 1, "dtype": "object"}), r"cannot rebuild Linear"),
    (header(config={"nin": 2, "sizes": {"a": 1}}, cls=MLP), r"sizes must be a list"),
    (header(config={"nin": 2, "sizes": [1], "activation": ["relu"]}, cls=MLP), r"cannot rebuild MLP"),
    ('{"format": 1, "class": "x", "config": ' + "[" * 100000 + "]" * 100000 + "}",
     r"header is not valid JSON \(RecursionError\)"),  # deeply nested
    ('{"format": 1e999999, "class": 1, "config": 1}', r"model file format 'float' is not supported"),
    ('{"format": 1, "class": "%s", "config": {"nin": %s, "nout": 1}}' % (LINEAR, "9" * 5000),
     r"header is not valid JSON \(ValueError\)"),
    ('{"format": 1, "class": "%s", "config": {"nin": NaN, "nout": 1}}' % LINEAR,
     r"cannot rebuild Linear"),
    ("not json at all", r"header is not valid JSON"),
]


@pytest.mark.parametrize("bad, message", BAD_HEADERS, ids=[str(i) for i in range(len(BAD_HEADERS))])
def test_headers_of_the_wrong_json_types_are_model_file_errors(tmp_path, bad, message):
    load_refused(write(tmp_path / "h.npz", bad), message)


def test_a_huge_header_is_refused_without_parsing(tmp_path):
    path = write(tmp_path / "h.npz", "x" * ((1 << 20) + 1))
    load_refused(path, r"header __tinygrad_memo__ is 1048577 characters long \(at most 1048576\)",
                 budget=16 << 20)


def test_folders_fifos_and_devices_are_refused_without_blocking(tmp_path):
    load_refused(tmp_path, r"not a model file \(it is a folder\)")
    fifo = tmp_path / "pipe.npz"
    os.mkfifo(fifo)
    result = []
    worker = threading.Thread(target=lambda: result.append(_error(fifo)), daemon=True)
    worker.start()
    worker.join(10)
    assert not worker.is_alive(), "Module.load blocked on a FIFO"
    assert "pipe.npz: not a model file (not a regular file)" in result[0]
    assert "not a regular file" in _error("/dev/zero")


def _error(path):
    try:
        nn.Module.load(path)
    except ModelFileError as exc:
        return str(exc)
    return "loaded"


def test_every_truncation_of_a_model_file_is_refused(tmp_path):
    good = nn.MLP(3, [4, 2], seed=0).save(tmp_path / "m.npz").read_bytes()
    for cut in sorted({0, 1, 5, 30, 64, 100, 200, 500} | set(range(0, len(good), 97))):
        path = tmp_path / "cut.npz"
        path.write_bytes(good[:cut])
        load_refused(path, r"cut\.npz: not a model file")


def test_random_bytes_and_corrupted_files_are_refused(tmp_path):
    rng = np.random.default_rng(0)
    good = bytearray(nn.Linear(2, 3, seed=0).save(tmp_path / "m.npz").read_bytes())
    path = tmp_path / "r.npz"
    for trial in range(40):
        if trial < 20:
            data = b"PK" + rng.bytes(int(rng.integers(0, 3000)))
        else:  # flip bytes of a real file
            data = bytearray(good)
            for i in rng.integers(0, len(data), 3):
                data[i] ^= 0xFF
        path.write_bytes(bytes(data))
        try:
            nn.Module.load(path)  # a flip in a weight's bytes may still be a valid file
        except ModelFileError as exc:
            assert str(exc).startswith(str(path))


def test_pickled_object_arrays_are_refused_without_unpickling(tmp_path):
    path = tmp_path / "o.npz"
    np.savez(path, __tinygrad_memo__=np.array(json.dumps(header())), weight=np.array([os.system],
             dtype=object), bias=np.zeros(1, np.float32))
    load_refused(path, r"it contains pickled data or object arrays, which are never loaded")


def test_structured_and_complex_dtypes_are_refused(tmp_path):
    for arr, shown in [(np.zeros(2, dtype=[("a", "f4")]), r"\[\('a', '<f4'\)\]"),
                       (np.zeros(2, np.complex64), "complex64")]:
        path = write(tmp_path / "d.npz", header(), dict(GOOD, weight=arr))
        load_refused(path, rf"array 'weight' has dtype {shown}, expected numbers")


@pytest.mark.parametrize("arrays, message", [
    ({"weight": GOOD["weight"], "b": GOOD["bias"]}, r"missing bias; unexpected b"),
    (dict(GOOD, extra=np.zeros(1, np.float32)), r"unexpected extra"),
    (dict(GOOD, weight=np.zeros((1, 2), np.float32)), r"weight has shape \(1, 2\), expected \(2, 1\)"),
    (dict(GOOD, weight=np.zeros((2, 1), np.float64)), r"weight has dtype float64, expected float32"),
    (dict(GOOD, weight=np.zeros((2, 1), bool)), r"weight has dtype bool, expected float32"),
    (dict(GOOD, bias=np.array([np.nan], np.float32)), r"bias holds NaN or infinite values"),
    (dict(GOOD, bias=np.array([np.inf], np.float32)), r"bias holds NaN or infinite values"),
])
def test_arrays_that_do_not_fit_the_model_are_named(tmp_path, arrays, message):
    load_refused(write(tmp_path / "a.npz", header(), arrays), message)


def test_a_scalar_model_file_with_a_hostile_config_is_refused(tmp_path):
    cls = "tinygrad_memo.nn.scalar.MLP"
    path = write(tmp_path / "s.npz", header({"nin": 10 ** 9, "nouts": [10 ** 9]}, cls=cls))
    load_refused(path, r"asks for 1000000001000000000 parameters")
    path = write(tmp_path / "t.npz", header({"nin": "x", "nouts": [1]}, cls=cls))
    load_refused(path, r"cannot rebuild MLP from its config")


def test_load_refuses_a_path_that_is_not_a_path():
    with pytest.raises(TypeError, match=r"load: path must be a str or os.PathLike, got NoneType"):
        nn.Module.load(None)
    with pytest.raises(TypeError, match=r"load: path must be a str or os.PathLike, got int"):
        nn.load_arrays(3)


def test_saving_over_a_private_file_keeps_it_private_and_never_touches_the_umask(tmp_path,
                                                                                 monkeypatch):
    def no_umask(mask):
        raise AssertionError("save changed the process umask (a race for other threads)")
    monkeypatch.setattr(os, "umask", no_umask)
    path = tmp_path / "private.npz"
    path.write_bytes(b"old")
    os.chmod(path, 0o600)
    nn.Linear(2, 1).save(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    os.chmod(path, 0o640)
    nn.Linear(2, 1).save(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    assert isinstance(nn.Module.load(path), nn.Linear)


def test_a_new_file_gets_the_mode_the_umask_gives(tmp_path):
    mask = os.umask(0o027)
    try:
        nn.Linear(2, 1).save(tmp_path / "new.npz")
    finally:
        os.umask(mask)
    assert stat.S_IMODE(os.stat(tmp_path / "new.npz").st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["new.npz"]  # no temporary left
