"""Optimizers, step by step against numbers computed by hand (PyTorch's rules)."""
import numpy as np
import pytest
from conftest import steps_against_torch

from tinygrad_memo import Tensor, Value, nn, optim


def tensor_param(x=1.0):
    return Tensor(np.array([x], dtype=np.float64), requires_grad=True)


def run(opt, p, grads):
    """Apply each gradient in turn; return the parameter after every step."""
    out = []
    for g in grads:
        if isinstance(p, Value):
            p.grad = g
        else:
            p.grad = np.array([g])
        opt.step()
        out.append(float(p.data if isinstance(p, Value) else p.data[0]))
    return out


@pytest.fixture(params=["value", "tensor"])
def param(request):
    return Value(1.0) if request.param == "value" else tensor_param(1.0)


def test_sgd_plain(param):
    # p -= lr * g: 1 - 0.1*0.5 = 0.95; 0.95 - 0.1*(-1) = 1.05
    assert run(optim.SGD([param], lr=0.1), param, [0.5, -1.0]) == pytest.approx([0.95, 1.05], abs=1e-15)


def test_sgd_momentum(param):
    # buf = 0.5 -> p = 0.95; buf = 0.9*0.5 - 1 = -0.55 -> p = 1.005;
    # buf = 0.9*(-0.55) + 2 = 1.505 -> p = 1.005 - 0.1505 = 0.8545
    opt = optim.SGD([param], lr=0.1, momentum=0.9)
    assert run(opt, param, [0.5, -1.0, 2.0]) == pytest.approx([0.95, 1.005, 0.8545], abs=1e-15)


def test_sgd_weight_decay(param):
    # g' = 0.5 + 0.1*1 = 0.6 -> p = 0.94; g' = 0.5 + 0.1*0.94 = 0.594 -> p = 0.8806
    opt = optim.SGD([param], lr=0.1, weight_decay=0.1)
    assert run(opt, param, [0.5, 0.5]) == pytest.approx([0.94, 0.8806], abs=1e-15)


def test_adam(param):
    # t=1: m = 0.05, v = 0.00025; m/(1-0.9) = 0.5, sqrt(v/(1-0.999)) = 0.5
    #      p = 1 - 0.1 * 0.5 / (0.5 + 1e-8) = 0.900000002
    # t=2: m = 0.045 - 0.1 = -0.055, v = 0.00024975 + 0.001 = 0.00124975
    #      p = 0.900000002 + 0.1 * (0.055/0.19) / (sqrt(0.00124975/0.001999) + 1e-8)
    opt = optim.Adam([param], lr=0.1)
    p2 = 0.900000002 + 0.1 * (0.055 / 0.19) / (np.sqrt(0.00124975 / 0.001999) + 1e-8)
    assert run(opt, param, [0.5, -1.0]) == pytest.approx([0.900000002, p2], abs=1e-12)
    assert p2 == pytest.approx(0.9366103542405654, abs=1e-12)


def test_adam_weight_decay_and_custom_betas(param):
    # g' = 2 + 0.5*1 = 2.5; m = (1-0.5)*2.5 = 1.25, corrected 1.25/0.5 = 2.5;
    # v = (1-0.9)*6.25 = 0.625, corrected 0.625/0.1 = 6.25, sqrt 2.5: p = 1 - 0.01*2.5/(2.5+1e-3)
    opt = optim.Adam([param], lr=0.01, betas=(0.5, 0.9), eps=1e-3, weight_decay=0.5)
    assert run(opt, param, [2.0]) == pytest.approx([1 - 0.01 * 2.5 / 2.501], abs=1e-15)


def test_step_never_writes_into_grad_arrays_and_keeps_float32():
    shared = np.array([1.0, 2.0], dtype=np.float32)
    a = Tensor([0.0, 0.0], requires_grad=True)
    b = Tensor([0.0, 0.0], requires_grad=True)
    a.grad = b.grad = shared
    for opt in (optim.SGD([a, b], lr=0.1, momentum=0.9, weight_decay=0.1),
                optim.Adam([a, b], lr=0.1, weight_decay=0.1)):
        opt.step()
        opt.step()
    np.testing.assert_array_equal(shared, [1.0, 2.0])
    assert a.data.dtype == np.float32


def test_tensor_without_grad_is_skipped_and_zero_grad_resets():
    t, v = Tensor([1.0], requires_grad=True), Value(1.0)
    opt = optim.SGD([t, v], lr=0.1)
    v.grad = 1.0
    opt.step()
    assert t.data[0] == 1.0 and v.data == pytest.approx(0.9)
    t.grad = np.array([1.0])
    opt.zero_grad()
    assert t.grad is None and v.grad == 0.0


def test_learning_rate_can_be_changed_between_steps():
    p = Value(1.0)
    opt = optim.SGD([p], lr=1.0)
    p.grad = 1.0
    opt.step()
    opt.lr = 0.5
    opt.step()
    assert p.data == pytest.approx(-0.5)


def test_parameters_of_a_module_train():
    m = nn.MLP(2, [8, 2], seed=0)
    x = np.array([[0.0, 1.0], [1.0, 0.0]], np.float32)
    y = np.array([0, 1])
    opt = optim.Adam(m.parameters(), lr=0.05)
    first = None
    for _ in range(30):
        opt.zero_grad()
        loss = nn.cross_entropy(m(x), y)
        loss.backward()
        opt.step()
        first = loss.item() if first is None else first
    assert loss.item() < first / 10


@pytest.mark.parametrize("make, message", [
    (lambda: optim.SGD([], lr=0.1), "SGD: got an empty parameter list"),
    (lambda: optim.SGD([Tensor([1.0])], lr=0.1), "SGD: parameter 0 is a Tensor that does not require grad"),
    (lambda: optim.SGD([Value(1.0), 3.0], lr=0.1), "SGD: parameter 1 is float, expected a Value or Tensor"),
    (lambda: optim.SGD([Value(1.0)] * 2, lr=0.1), "SGD: parameter 1 appears more than once"),
    (lambda: optim.SGD([Value(1.0)], lr=-1), r"SGD: lr must be >= 0.0, got -1"),
    (lambda: optim.SGD([Value(1.0)], lr=0.1, momentum=-0.5), "SGD: momentum must be >= 0.0"),
    (lambda: optim.Adam([Value(1.0)], betas=(0.9, 1.0)),
     r"Adam: betas\[1\] must be in \[0.0, 1.0\), got 1.0"),
    (lambda: optim.Adam([Value(1.0)], lr="fast"), "Adam: lr must be a number, got 'fast'"),
    (lambda: optim.Adam([Value(1.0)], betas=0.9), "Adam: betas must be a pair of numbers"),
])
def test_bad_arguments_are_named(make, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make()


def test_matches_pytorch_when_installed():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    p0, grads = rng.normal(size=(3, 4)), [rng.normal(size=(3, 4)) for _ in range(4)]
    for name, kw in [("SGD", dict(lr=0.05, momentum=0.5, weight_decay=0.1)),
                     ("Adam", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1))]:
        *_, (ours, theirs) = steps_against_torch(torch, name, kw, p0, grads)
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-14)
