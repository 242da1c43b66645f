"""state_dict / load_state_dict and .npz model files: round trips and every refusal."""
import json
import os
import zipfile

import numpy as np
import pytest

from tinygrad_memo import Tensor, nn
from tinygrad_memo.nn import ModelFileError


def snapshot(model):
    return {k: v.copy() for k, v in model.state_dict().items()}


def assert_same(a, b):
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])


# -- state_dict ------------------------------------------------------------------------------

def test_state_dict_is_a_copy_by_name_and_loads_back():
    m = nn.MLP(3, [4, 2], seed=0)
    state = m.state_dict()
    assert list(state) == ["layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias"]
    state["layers.0.bias"][:] = 7.0
    assert not np.any(m.layers[0].bias.data == 7.0)  # a copy, not the parameter itself
    m.load_state_dict(state)
    np.testing.assert_array_equal(m.layers[0].bias.data, np.full(4, 7.0, np.float32))
    assert m.layers[0].bias.dtype == np.float32


def test_load_state_dict_names_missing_extra_and_wrong_shapes_and_changes_nothing():
    m = nn.MLP(3, [4, 2], seed=0)
    before = snapshot(m)
    state = nn.MLP(3, [4, 2], seed=1).state_dict()
    del state["layers.1.bias"]
    state["layers.2.weight"] = np.zeros((2, 2))
    state["layers.0.weight"] = np.zeros((4, 3))
    with pytest.raises(ValueError) as info:
        m.load_state_dict(state)
    msg = str(info.value)
    assert "model unchanged" in msg
    assert "missing layers.1.bias" in msg
    assert "unexpected layers.2.weight" in msg
    assert "layers.0.weight has shape (4, 3), expected (3, 4)" in msg
    assert_same(snapshot(m), before)


def test_load_state_dict_rejects_non_numbers_and_non_dicts():
    m = nn.Linear(2, 1, seed=0)
    with pytest.raises(ValueError, match="weight has dtype <U1, expected numbers"):
        m.load_state_dict({"weight": np.array([["a"], ["b"]]), "bias": np.zeros(1)})
    with pytest.raises(TypeError, match="expected a dict"):
        m.load_state_dict([("weight", np.zeros((2, 1)))])


def test_scalar_state_dict_uses_0d_arrays():
    m = nn.scalar.MLP(2, [2, 1], seed=0)
    state = m.state_dict()
    assert state["layers.0.neurons.0.w.0"].shape == ()
    state["layers.1.neurons.0.b"] = np.array(3.5)
    m.load_state_dict(state)
    assert m.layers[1].neurons[0].b.data == 3.5


# -- files -----------------------------------------------------------------------------------

@pytest.mark.parametrize("make", [
    lambda: nn.MLP(5, [7, 3], activation="tanh", seed=0),
    lambda: nn.MLP(2, [3], seed=1, dtype=np.float64),
    lambda: nn.Linear(4, 2, bias=False, seed=0),
    lambda: nn.scalar.MLP(3, [4, 2], seed=0),
])
def test_save_then_load_rebuilds_the_same_model(tmp_path, make):
    model = make()
    path = model.save(tmp_path / "m.npz")
    assert path == tmp_path / "m.npz"
    again = nn.Module.load(path)
    assert type(again) is type(model) and again.config() == model.config()
    assert_same(again.state_dict(), model.state_dict())
    assert type(model).load(str(path)).config() == model.config()
    assert os.listdir(tmp_path) == ["m.npz"]  # no temporary file left behind


def test_loaded_mlp_predicts_like_the_original(tmp_path):
    m = nn.MLP(4, [8, 3], seed=2)
    m.save(tmp_path / "m.npz")
    x = np.random.default_rng(0).normal(size=(6, 4)).astype(np.float32)
    np.testing.assert_array_equal(nn.MLP.load(tmp_path / "m.npz")(x).data, m(x).data)


def test_save_replaces_an_existing_file_whole(tmp_path):
    path = tmp_path / "m.npz"
    nn.MLP(2, [3], seed=0).save(path)
    nn.MLP(2, [5, 2], seed=0).save(path)
    assert nn.Module.load(path).config()["sizes"] == [5, 2]


def test_a_failed_save_leaves_the_old_file_and_no_temporary(tmp_path):
    class Bad(nn.Module):
        def __init__(self):
            self.w = Tensor([1.0], requires_grad=True)

        def config(self):
            return {"not json": object()}

    path = tmp_path / "m.npz"
    nn.Linear(2, 1, seed=0).save(path)
    with pytest.raises(TypeError, match="config"):
        Bad().save(path)
    assert os.listdir(tmp_path) == ["m.npz"] and nn.Module.load(path).nin == 2


def test_load_checks_the_class_asked_for(tmp_path):
    nn.Linear(2, 1).save(tmp_path / "m.npz")
    with pytest.raises(ModelFileError, match=r"m\.npz: holds a Linear, not a MLP"):
        nn.MLP.load(tmp_path / "m.npz")


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="model file not found: .*nothing.npz"):
        nn.Module.load(tmp_path / "nothing.npz")


def write_header(arrays, cls="tinygrad_memo.nn.layers.Linear", config=None, fmt=1):
    cfg = {"nin": 2, "nout": 1, "bias": True, "dtype": "float32"} if config is None else config
    arrays["__tinygrad_memo__"] = np.array(json.dumps({"format": fmt, "class": cls, "config": cfg}))
    return arrays


GOOD = {"weight": np.zeros((2, 1), np.float32), "bias": np.zeros(1, np.float32)}


@pytest.mark.parametrize("content, message", [
    (b"hello, I am not a model", "not an .npz archive"),
    (b"\x80\x04\x95\x10\x00\x00\x00\x00\x00\x00\x00}\x94.", "a pickle"),
    (b"", "not an .npz archive"),
])
def test_garbage_and_pickles_are_refused_naming_the_file(tmp_path, content, message):
    path = tmp_path / "bad.npz"
    path.write_bytes(content)
    with pytest.raises(ModelFileError, match=rf"bad\.npz: not a model file \({message}"):
        nn.Module.load(path)


def test_object_arrays_are_never_unpickled(tmp_path):
    path = tmp_path / "obj.npz"
    np.savez(path, weight=np.array([{"evil": 1}], dtype=object))  # numpy pickles object arrays
    with pytest.raises(ModelFileError, match=r"obj\.npz: not a model file \(it contains pickled "
                                             r"data or object arrays"):
        nn.Module.load(path)


def test_a_plain_npy_and_a_truncated_npz_are_refused(tmp_path):
    np.save(tmp_path / "a.npy", np.zeros(3))
    with pytest.raises(ModelFileError, match=r"a\.npy: not a model file \(a single \.npy array"):
        nn.Module.load(tmp_path / "a.npy")
    nn.MLP(2, [3]).save(tmp_path / "m.npz")
    data = (tmp_path / "m.npz").read_bytes()
    (tmp_path / "cut.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match=r"cut\.npz: not a model file"):
        nn.Module.load(tmp_path / "cut.npz")


def test_a_zip_with_other_files_is_refused(tmp_path):
    with zipfile.ZipFile(tmp_path / "z.npz", "w") as z:
        z.writestr("readme.txt", "hi")
    with pytest.raises(ModelFileError, match=r"z\.npz: member 'readme.txt' is not a \.npy array"):
        nn.Module.load(tmp_path / "z.npz")


def test_an_npz_without_header_says_how_to_load_bare_arrays(tmp_path):
    np.savez(tmp_path / "bare.npz", **GOOD)
    with pytest.raises(ModelFileError, match=r"bare\.npz: not a model file \(no __tinygrad_memo__"):
        nn.Module.load(tmp_path / "bare.npz")
    m = nn.Linear(2, 1, seed=0)
    m.load_state_dict(nn.load_arrays(tmp_path / "bare.npz"))
    assert not m.weight.data.any()


@pytest.mark.parametrize("header, message", [
    (dict(cls="os.system"), "the model class os.system is unknown here"),
    (dict(fmt=99), "model file format 99 is not supported"),
    (dict(config={"nin": -2, "nout": 1}), "cannot rebuild Linear from its config"),
    (dict(config={"bogus": 1}), "cannot rebuild Linear from its config"),
])
def test_bad_headers_are_refused(tmp_path, header, message):
    np.savez(tmp_path / "h.npz", **write_header(dict(GOOD), **header))
    with pytest.raises(ModelFileError, match=rf"h\.npz: {message}"):
        nn.Module.load(tmp_path / "h.npz")


def test_header_must_be_json(tmp_path):
    np.savez(tmp_path / "h.npz", __tinygrad_memo__=np.array("{not json"), **GOOD)
    with pytest.raises(ModelFileError, match=r"h\.npz: the __tinygrad_memo__ header is not valid"):
        nn.Module.load(tmp_path / "h.npz")


def test_missing_extra_and_misshapen_arrays_in_a_file_are_named(tmp_path):
    arrays = write_header({"weight": np.zeros((3, 1), np.float32), "extra": np.zeros(2)})
    np.savez(tmp_path / "s.npz", **arrays)
    with pytest.raises(ModelFileError) as info:
        nn.Module.load(tmp_path / "s.npz")
    msg = str(info.value)
    assert msg.startswith(str(tmp_path / "s.npz"))
    assert "missing bias" in msg and "unexpected extra" in msg
    assert "weight has shape (3, 1), expected (2, 1)" in msg


def test_string_arrays_other_than_the_header_are_refused(tmp_path):
    np.savez(tmp_path / "s.npz", **write_header(dict(GOOD, note=np.array(["x"]))))
    with pytest.raises(ModelFileError, match=r"array 'note' has dtype <U1, expected numbers"):
        nn.Module.load(tmp_path / "s.npz")
