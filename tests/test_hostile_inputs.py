"""Hostile inputs to every public entry point: wrong types, shapes, None, strings, object
arrays, ragged lists, huge sizes. Each must end in a TypeError/ValueError/IndexError whose
message names the function (or argument) that refused it: never a raw NumPy or Python
error from deep inside, never a silent NaN. (Model files: test_model_files_hostile.py.)"""
import math

import numpy as np
import pytest

from tinygrad_memo import Tensor, Value, data, gradcheck, grad, memo, nn, numerical_grad, optim

HOSTILE = {
    "None": None, "str": "abc", "strings": ["a"], "objects": np.array([object()]),
    "ragged": [[1.0], [1.0, 2.0]], "dict": {"a": 1}, "complex": 1j, "float": 2.5,
    "nan": math.nan, "negative": -3, "huge": 10 ** 30, "bool": True,
}
REFUSALS = (TypeError, ValueError, IndexError)


def x():
    return Tensor(np.ones((2, 3)), requires_grad=True)


def x64():
    return Tensor(np.ones(2), dtype=np.float64, requires_grad=True)


# (entry point, call with the hostile value h, what the message must name, which values)
LIBRARY = [
    ("Value", lambda h: Value(h), r"Value", "None str strings objects ragged dict complex"),
    ("Tensor", lambda h: Tensor(h), r"Tensor", "None str strings objects ragged dict complex"),
    ("Tensor requires_grad", lambda h: Tensor([1.0], requires_grad=h), r"requires_grad", "None str strings objects ragged dict complex float"),
    ("backward grad", lambda h: (x() * 2).backward(h), r"backward", "str strings objects ragged dict complex"),
    ("mse_loss pred", lambda h: nn.mse_loss(h, [1.0]), r"mse_loss", "None str strings objects ragged dict float"),
    ("mse_loss target", lambda h: nn.mse_loss(Tensor([1.0]), h), r"mse_loss", "None str strings objects ragged dict complex"),
    ("cross_entropy logits", lambda h: nn.cross_entropy(h, [0]), r"cross_entropy", "None str strings objects ragged dict float"),
    ("cross_entropy targets", lambda h: nn.cross_entropy(Tensor(np.zeros((1, 2))), h), r"cross_entropy",
     "None str strings objects ragged dict complex float nan negative huge bool"),
    ("hinge_loss scores", lambda h: nn.hinge_loss(h, [1]), r"hinge_loss", "None str strings objects dict float"),
    ("hinge_loss targets", lambda h: nn.hinge_loss(Tensor([1.0]), h), r"hinge_loss",
     "None str strings objects ragged dict complex float nan negative huge"),
    ("SGD params", lambda h: optim.SGD(h, lr=0.1), r"SGD", "None str strings objects ragged dict complex float nan negative huge bool"),
    ("SGD lr", lambda h: optim.SGD([x()], lr=h), r"SGD: lr", "None str strings objects ragged dict complex nan negative bool"),
    ("Adam betas", lambda h: optim.Adam([x()], betas=h), r"Adam: betas", "None str strings objects ragged dict complex float nan negative huge bool"),
    ("Linear nin", lambda h: nn.Linear(h, 2), r"nin", "None str strings objects ragged dict complex float nan negative bool"),
    ("Linear dtype", lambda h: nn.Linear(2, 2, dtype=h), r"Linear: dtype", "str strings objects ragged dict complex float nan negative huge bool"),
    ("Linear input", lambda h: nn.Linear(3, 2)(h), r"Linear", "None str strings objects ragged dict complex float nan"),
    ("MLP sizes", lambda h: nn.MLP(2, h), r"MLP: sizes|sizes\[0\]", "None str strings objects ragged dict complex float nan negative huge bool"),
    ("MLP activation", lambda h: nn.MLP(2, [2], activation=h), r"MLP: activation", "None str strings ragged complex float nan negative huge bool"),
    ("MLP input", lambda h: nn.MLP(3, [2])(h), r"MLP", "None str strings objects ragged dict complex float nan"),
    ("load_state_dict", lambda h: nn.Linear(2, 2).load_state_dict(h), r"load_state_dict",
     "None str strings objects ragged complex float nan negative huge bool"),
    ("load_state_dict array", lambda h: nn.Linear(1, 1, bias=False).load_state_dict({"weight": h}),
     r"load_state_dict", "None str strings objects ragged dict complex float nan negative huge bool"),
    ("Module.load", lambda h: nn.Module.load(h), r"load", "None strings objects ragged dict complex float nan negative huge bool"),
    ("save", lambda h: nn.Linear(1, 1).save(h), r"save", "None strings objects ragged dict complex float nan negative huge bool"),
    ("gradcheck fn", lambda h: gradcheck(h, [x64()]), r"gradcheck: fn", "None str strings objects ragged dict complex float nan negative huge bool"),
    ("gradcheck inputs", lambda h: gradcheck(lambda t: t.sum(), h), r"gradcheck",
     "None str strings objects ragged dict complex float nan negative huge bool"),
    ("gradcheck eps", lambda h: gradcheck(lambda t: t.sum(), [x64()], eps=h), r"gradcheck: eps",
     "None str strings objects ragged dict complex nan negative bool"),
    ("numerical_grad inputs", lambda h: numerical_grad(lambda t: t.sum(), h), r"gradcheck",
     "None str strings objects ragged dict complex float nan negative huge bool"),
    ("path_grad output", lambda h: memo.path_grad(h, [Value(1.0)]), r"path_grad", "None str strings objects ragged dict complex float nan negative huge bool"),
    ("path_grad max_paths", lambda h: memo.path_grad(Value(1.0) * 2, [Value(1.0)], max_paths=h),
     r"path_grad", "None str strings objects ragged dict complex float nan negative bool"),
    ("fib_memo", lambda h: memo.fib_memo(h), r"fib_memo|n must", "None str strings objects ragged dict complex float nan negative huge bool"),
    ("make_moons n", lambda h: data.make_moons(h), r"make_moons|n must|n ", "None str strings objects ragged dict complex float nan negative bool"),
    ("make_moons noise", lambda h: data.make_moons(10, noise=h), r"noise", "None str strings objects ragged dict complex nan negative bool"),
    ("batches X", lambda h: list(data.batches(h, np.zeros(4), 2)), r"batches: X", "None str strings objects ragged dict complex float nan negative huge bool"),
    ("train_test_split y", lambda h: data.train_test_split(np.zeros((4, 1)), h), r"train_test_split: (X and )?y",
     "None str strings objects ragged dict complex float nan negative huge bool"),
    ("data.load", lambda h: data.load(h), r"unknown dataset", "None str strings objects ragged dict complex float nan negative huge bool"),
]

# tinygrad_memo/core: the node types' own arguments
CORE = [
    ("sum axis", lambda h: x().sum(h), r"sum: axis", "complex float nan bool"),
    ("broadcast_to shape", lambda h: x().broadcast_to(h), r"broadcast_to", "None str strings objects ragged dict complex float nan negative huge bool"),
    ("index", lambda h: x()[h], r"index", "str strings objects ragged dict complex"),
    ("grad inputs", lambda h: grad(x().sum(), h), r"grad: inputs", "None complex float nan negative huge bool"),
    ("reshape shape", lambda h: x().reshape(h), r"reshape", "negative"),
]


def cases(table, marks=()):
    return [pytest.param(fn, who, HOSTILE[h], id=f"{name}-{h}", marks=marks)
            for name, fn, who, keys in table for h in keys.split()]


def refused(fn, who, value):
    with np.errstate(all="ignore"):
        with pytest.raises(REFUSALS) as info:
            fn(value)
    assert type(info.value).__module__ in ("builtins", "tinygrad_memo.nn.serialize",
                                           "tinygrad_memo.memo"), repr(info.value)
    assert info.match(who), f"{info.value!r} does not name {who}"


@pytest.mark.parametrize("fn, who, value", cases(LIBRARY))
def test_library_entry_points_refuse_hostile_input_clearly(fn, who, value):
    refused(fn, who, value)


@pytest.mark.parametrize("fn, who, value", cases(CORE))
def test_core_entry_points_refuse_hostile_input_clearly(fn, who, value):
    refused(fn, who, value)


def test_huge_sizes_are_refused_before_allocating():
    with pytest.raises(MemoryError):  # NumPy refuses at once, naming the size
        nn.Linear(10 ** 7, 10 ** 7)
    with pytest.raises(ValueError, match=r"nin must be a positive integer, got 0"):
        nn.Linear(0, 1)
