"""nn: Module discovery and names, Linear/MLP, losses (values, gradients, bad input)."""
import math
import random

import numpy as np
import pytest
from conftest import F64, t64

from tinygrad_memo import Tensor, Value, grad, gradcheck, nn


# -- Module: finding parameters, naming them ---------------------------------------------

class Block(nn.Module):
    def __init__(self):
        self.first = nn.Linear(2, 3, seed=0)
        self.stack = [nn.Linear(3, 3, seed=1), (nn.Linear(3, 1, seed=2),)]
        self.table = {"scale": Tensor([2.0], requires_grad=True)}
        self.constant = Tensor([1.0])            # no grad: not a parameter
        self._cache = Tensor([5.0], requires_grad=True)  # private: not a parameter
        self.count = 3

    def forward(self, x):
        x = self.first(x).relu()
        x = self.stack[0](x).tanh()
        return self.stack[1][0](x) * self.table["scale"]


def test_named_parameters_walk_attributes_lists_dicts_and_submodules_in_order():
    names = [n for n, _ in Block().named_parameters()]
    assert names == ["first.weight", "first.bias", "stack.0.weight", "stack.0.bias",
                     "stack.1.0.weight", "stack.1.0.bias", "table.scale"]


def test_parameters_are_labelled_by_their_names_and_sub_modules_keep_full_names():
    m = nn.MLP(4, [3, 2], seed=0)
    assert [p.label for p in m.parameters()] == ["layers.0.weight", "layers.0.bias",
                                                "layers.1.weight", "layers.1.bias"]
    m.layers[0].parameters()  # asking a sub-module does not shorten the labels
    assert m.layers[0].weight.label == "layers.0.weight"
    assert nn.Linear(2, 2).weight.label == "weight"


def test_shared_parameter_is_listed_once_under_its_first_name():
    class Tied(nn.Module):
        def __init__(self):
            self.a = nn.Linear(2, 2, seed=0)
            self.b = [self.a.weight]

    assert [n for n, _ in Tied().named_parameters()] == ["a.weight", "a.bias"]


def test_call_runs_forward_and_zero_grad_clears_tensor_and_value_grads():
    m = Block()
    m(np.ones((4, 2), np.float32)).sum().backward()
    assert all(p.grad is not None for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())
    s = nn.scalar.MLP(2, [2, 1], seed=0)
    s([1.0, -1.0]).backward()
    s.zero_grad()
    assert all(p.grad == 0.0 for p in s.parameters())


def test_module_without_forward_says_so():
    with pytest.raises(NotImplementedError, match="Module does not define forward"):
        nn.Module()(1)


# -- Linear ---------------------------------------------------------------------------------

def test_linear_uses_pytorch_default_init_and_is_reproducible():
    a, b = nn.Linear(100, 50, seed=3), nn.Linear(100, 50, seed=3)
    assert a.weight.shape == (100, 50) and a.bias.shape == (50,)
    assert a.weight.dtype == np.float32 and a.weight.requires_grad
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    bound = 1 / math.sqrt(100)
    w = a.weight.data
    assert np.abs(w).max() <= bound and np.abs(a.bias.data).max() <= bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.005  # std of U(-b, b) is b / sqrt(3)
    assert not np.array_equal(nn.Linear(100, 50, seed=4).weight.data, w)


def test_linear_computes_x_at_weight_plus_bias_and_without_bias():
    lin = nn.Linear(3, 2, seed=0)
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    np.testing.assert_allclose(lin(x).data, x @ lin.weight.data + lin.bias.data, rtol=1e-6)
    nobias = nn.Linear(3, 2, bias=False, seed=0)
    assert nobias.bias is None and len(nobias.parameters()) == 1
    np.testing.assert_allclose(nobias(x).data, x @ nobias.weight.data, rtol=1e-6)


def test_linear_gradients_match_finite_differences():
    lin = nn.Linear(3, 2, seed=0, dtype=F64)
    x = t64(np.random.default_rng(0).normal(size=(4, 3)))
    assert gradcheck(lambda x, w, b: (x @ w + b).tanh(), [x, lin.weight, lin.bias])
    assert gradcheck(lambda x: lin(x).tanh(), [x])


@pytest.mark.parametrize("bad", [0, -1, 2.5, True])
def test_linear_rejects_bad_sizes(bad):
    with pytest.raises(ValueError, match="nin must be a positive integer"):
        nn.Linear(bad, 2)


# -- MLP ------------------------------------------------------------------------------------

@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_mlp_gradients_match_finite_differences(activation):
    m = nn.MLP(3, [4, 2], activation=activation, seed=1, dtype=F64)
    x = t64(np.random.default_rng(1).normal(size=(5, 3)))
    params = m.parameters()
    assert gradcheck(lambda x, *ps: m(x), [x, *params])


def test_mlp_last_layer_is_linear_and_activation_applies_between_layers():
    m = nn.MLP(2, [3, 2], activation="tanh", seed=0)
    x = np.array([[0.5, -1.0]], np.float32)
    l0, l1 = m.layers
    hidden = np.tanh(x @ l0.weight.data + l0.bias.data)
    np.testing.assert_allclose(m(x).data, hidden @ l1.weight.data + l1.bias.data, rtol=1e-5)
    assert repr(m) == "MLP(2 -> 3 -> 2, tanh)"


def test_mlp_same_seed_same_network():
    a, b = nn.MLP(4, [8, 3], seed=7), nn.MLP(4, [8, 3], seed=7)
    for p, q in zip(a.parameters(), b.parameters()):
        np.testing.assert_array_equal(p.data, q.data)


def test_mlp_wrong_number_of_features_names_expected_and_received():
    m = nn.MLP(64, [10])
    with pytest.raises(ValueError, match=r"MLP: expected 64 input features, got 3 \(input shape \(5, 3\)\)"):
        m(np.zeros((5, 3), np.float32))
    with pytest.raises(ValueError, match="Linear: expected 64 input features, got 2"):
        m.layers[0](np.zeros((1, 2)))


def test_mlp_rejects_bad_activation_and_sizes():
    with pytest.raises(ValueError, match="activation must be one of relu, tanh, sigmoid, got 'gelu'"):
        nn.MLP(2, [2], activation="gelu")
    with pytest.raises(ValueError, match="non-empty list"):
        nn.MLP(2, [])
    with pytest.raises(ValueError, match=r"sizes\[1\] must be a positive integer, got 0"):
        nn.MLP(2, [3, 0])


# -- losses ---------------------------------------------------------------------------------

def test_mse_loss_value_gradient_and_shape_check():
    rng = np.random.default_rng(0)
    p, y = rng.normal(size=(4, 2)), rng.normal(size=(4, 2))
    assert nn.mse_loss(t64(p), y).item() == pytest.approx(np.mean((p - y) ** 2))
    assert gradcheck(lambda p: nn.mse_loss(p, y), [t64(p)])
    with pytest.raises(ValueError, match=r"pred has shape \(4, 1\) but target has shape \(4,\)"):
        nn.mse_loss(Tensor(np.zeros((4, 1))), np.zeros(4))


def test_cross_entropy_matches_the_formula_and_finite_differences():
    rng = np.random.default_rng(0)
    z, y = rng.normal(size=(5, 4)), np.array([0, 3, 1, 1, 2])
    expected = np.mean(np.log(np.exp(z).sum(axis=1)) - z[np.arange(5), y])
    assert nn.cross_entropy(t64(z), y).item() == pytest.approx(expected, rel=1e-12)
    assert gradcheck(lambda z: nn.cross_entropy(z, y), [t64(z)])
    assert nn.cross_entropy(t64(z), Tensor(y)).item() == pytest.approx(expected)


def test_cross_entropy_is_stable_for_huge_logits():
    loss = nn.cross_entropy(Tensor([[1000.0, 0.0], [0.0, 1000.0]]), [1, 1])
    assert loss.item() == pytest.approx(500.0)


@pytest.mark.parametrize("label, pos", [(4, 2), (-1, 2)])
def test_cross_entropy_names_the_label_out_of_range(label, pos):
    with pytest.raises(ValueError, match=rf"target {label} at position {pos} is outside \[0, 4\)"):
        nn.cross_entropy(Tensor(np.zeros((3, 4))), [0, 1, label])


def test_cross_entropy_rejects_bad_shapes_and_non_integer_targets():
    with pytest.raises(ValueError, match=r"expected 3 targets .* got shape \(2,\)"):
        nn.cross_entropy(Tensor(np.zeros((3, 4))), [0, 1])
    with pytest.raises(ValueError, match=r"logits must have shape \(N, classes\), got \(4,\)"):
        nn.cross_entropy(Tensor(np.zeros(4)), [0])
    with pytest.raises(TypeError, match=r"class indices must have an integer dtype, got float64"):
        nn.cross_entropy(Tensor(np.zeros((2, 4))), [0.5, 1.0])
    with pytest.raises(TypeError, match=r"float targets are class probabilities"):
        nn.cross_entropy(Tensor(np.zeros((2, 4))), [0.0, 3.0])  # PyTorch refuses these too


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("n, classes", [(7, 3), (3, 7), (4, 4)])  # both of the op's layouts
def test_cross_entropy_matches_pytorch_in_each_dtype(dtype, n, classes):
    """One op (log-sum-exp forward, (softmax - onehot) / N backward): PyTorch's loss and
    gradient, in the logits' dtype, for labels of any integer dtype (a class used twice)."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(n * classes)
    z = (rng.normal(size=(n, classes)) * 3).astype(dtype)
    y = rng.integers(0, classes, n)
    y[0] = y[1]
    for labels in (y, y.astype(np.uint8), Tensor(y.astype(np.int32))):
        x = Tensor(z, requires_grad=True)
        loss = nn.cross_entropy(x, labels)
        loss.backward(np.asarray(2.5, dtype))
        zt = torch.tensor(z, requires_grad=True)
        ref = torch.nn.functional.cross_entropy(zt, torch.tensor(y))
        ref.backward(torch.tensor(2.5, dtype=zt.dtype))
        tol = 1e-3 if dtype == np.float16 else 1e-6 if dtype == np.float32 else 1e-12
        assert loss.dtype == dtype and x.grad.dtype == dtype
        assert loss.item() == pytest.approx(ref.item(), rel=tol)
        np.testing.assert_allclose(x.grad, zt.grad.numpy(), rtol=tol, atol=tol)


def test_cross_entropy_of_minus_inf_logits_is_finite_unless_the_label_is_one():
    """A class whose logit is -inf has probability 0: the loss stays finite and its
    gradient is 0 there (PyTorch's numbers); the label's own logit at -inf is an inf loss."""
    torch = pytest.importorskip("torch")
    z = np.array([[-np.inf, 1.0, 2.0], [0.5, -np.inf, -1.0]])
    x = t64(z)
    loss = nn.cross_entropy(x, [2, 0])
    loss.backward()
    zt = torch.tensor(z, requires_grad=True)
    ref = torch.nn.functional.cross_entropy(zt, torch.tensor([2, 0]))
    ref.backward()
    assert np.isfinite(loss.item()) and loss.item() == pytest.approx(ref.item(), rel=1e-12)
    np.testing.assert_allclose(x.grad, zt.grad.numpy(), rtol=1e-12)
    assert x.grad[0, 0] == 0 and x.grad[1, 1] == 0
    assert nn.cross_entropy(t64(z), [0, 0]).item() == np.inf


def test_cross_entropy_refuses_an_empty_batch():
    with pytest.raises(ValueError, match=r"cross_entropy: logits have no rows \(an empty batch\)"):
        nn.cross_entropy(Tensor(np.zeros((0, 3))), np.zeros(0, dtype=np.int64))


def test_cross_entropy_backward_twice_and_its_second_derivative():
    """The kept softmax is read, not consumed: a second backward (retain_graph) adds the
    same gradient again; create_graph gives a gradient whose own gradient is right
    (against finite differences of the first derivative, as PyTorch's gradgradcheck)."""
    rng = np.random.default_rng(1)
    z, y = rng.normal(size=(4, 3)), np.array([0, 2, 2, 1])
    x = t64(z)
    loss = nn.cross_entropy(x, y)
    loss.backward(retain_graph=True)
    once = x.grad.copy()
    loss.backward()
    np.testing.assert_allclose(x.grad, 2 * once, rtol=1e-15)
    v = rng.uniform(0.5, 1.5, (4, 3))
    assert gradcheck(lambda z: (grad(nn.cross_entropy(z, y), [z], create_graph=True)[0] * v).sum(),
                     [t64(z)])


def test_hinge_loss_on_tensors_and_on_lists_of_values():
    s, y = np.array([2.0, 0.3, -0.5, -2.0]), np.array([1, 1, 1, -1])
    expected = np.mean(np.maximum(0, 1 - y * s))
    assert nn.hinge_loss(t64(s), y).item() == pytest.approx(expected)
    assert nn.hinge_loss(t64(s.reshape(4, 1)), y).item() == pytest.approx(expected)
    assert gradcheck(lambda s: nn.hinge_loss(s, y), [t64(s)])
    values = [Value(v) for v in s]
    loss = nn.hinge_loss(values, y)
    assert isinstance(loss, Value) and loss.data == pytest.approx(expected)
    loss.backward()
    assert [v.grad for v in values] == pytest.approx([0.0, -0.25, -0.25, 0.0])


def test_hinge_loss_names_a_target_that_is_not_plus_or_minus_one():
    with pytest.raises(ValueError, match=r"target 0 at position 1 is not -1 or \+1"):
        nn.hinge_loss(Tensor([1.0, 2.0]), [1, 0])
    with pytest.raises(ValueError, match="do not match 3 targets"):
        nn.hinge_loss(Tensor([1.0, 2.0]), [1, 1, -1])


# -- micrograd's scalar nets ------------------------------------------------------------

def test_scalar_mlp_matches_micrograd_semantics():
    random.seed(1337)
    m = nn.scalar.MLP(2, [16, 16, 1])
    assert len(m.parameters()) == 337  # micrograd's demo: "number of parameters 337"
    assert m.parameters() == [p for _, p in m.named_parameters()]  # same order both ways
    assert m.layers[0].neurons[0].b.data == 0.0
    assert all(-1 <= p.data <= 1 for p in m.parameters())
    out = m([Value(1.0), -2.0])
    assert isinstance(out, Value)
    assert isinstance(nn.scalar.MLP(2, [3])([1.0, 2.0]), list)
    assert repr(nn.scalar.Neuron(3, nonlin=False)) == "LinearNeuron(3)"
    assert repr(nn.scalar.Layer(2, 2)) == "Layer of [ReLUNeuron(2), ReLUNeuron(2)]"
    assert m.layers[2].neurons[0].w[5].label == "layers.2.neurons.0.w.5"


def test_scalar_mlp_seed_reproduces_the_global_random_stream():
    random.seed(5)
    a = nn.scalar.MLP(3, [4, 1])
    b = nn.scalar.MLP(3, [4, 1], seed=5)
    assert [p.data for p in a.parameters()] == [p.data for p in b.parameters()]


def test_scalar_mlp_gradients_match_finite_differences():
    m = nn.scalar.MLP(2, [3, 1], seed=0)
    x = [Value(0.4), Value(-0.7)]
    ps = m.parameters()
    assert gradcheck(lambda *vs: m(list(vs[:2])), [*x, *ps])
