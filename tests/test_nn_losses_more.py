"""nll_loss, binary_cross_entropy(_with_logits) and l1_loss: values and gradients against
PyTorch, the stable formulas at extreme inputs, and the errors for bad targets."""
import numpy as np
import pytest

from tinygrad_memo import Tensor, gradcheck, nn

F64 = np.float64
RNG = np.random.default_rng(1)


def t64(a):
    return Tensor(np.asarray(a, dtype=F64), requires_grad=True)


def against_torch(ours, theirs, xa, target):
    """Our loss and d loss/d input next to PyTorch's, for the same numbers."""
    torch = pytest.importorskip("torch")
    x = t64(xa)
    loss = ours(x, target)
    loss.backward()
    tx = torch.tensor(np.asarray(xa, dtype=F64), requires_grad=True)
    tl = theirs(torch.nn.functional, tx, torch.tensor(target))
    tl.backward()
    return (loss.item(), tl.item()), (x.grad, tx.grad.numpy())


def test_nll_loss_matches_pytorch_and_equals_cross_entropy_of_log_softmax():
    logits = RNG.normal(size=(6, 4))
    target = np.array([0, 3, 3, 1, 2, 0])
    lp = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    (ours, theirs), (g, tg) = against_torch(nn.nll_loss, lambda F, x, t: F.nll_loss(x, t),
                                            lp, target)
    assert ours == pytest.approx(theirs, rel=1e-12)
    np.testing.assert_allclose(g, tg, rtol=1e-12)
    x = t64(logits)
    assert nn.nll_loss(x.log_softmax(axis=1), target).item() == pytest.approx(
        nn.cross_entropy(x, target).item(), rel=1e-12)


def test_nll_loss_names_bad_targets():
    lp = Tensor(np.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"nll_loss: target 4 at position 1 is outside \[0, 4\) "
                                         r"\(log_probs have 4 classes\)"):
        nn.nll_loss(lp, [0, 4, 1])
    with pytest.raises(ValueError, match=r"nll_loss: expected 3 targets \(one per row of "
                                         r"log_probs\), got shape \(2,\)"):
        nn.nll_loss(lp, [0, 1])
    with pytest.raises(TypeError, match="nll_loss: class indices must have an integer dtype, got float64"):
        nn.nll_loss(lp, [0.5, 1, 2])
    with pytest.raises(ValueError, match=r"nll_loss: log_probs must have shape \(N, classes\)"):
        nn.nll_loss(Tensor(np.zeros(3)), [0, 1, 2])


@pytest.mark.parametrize("probs", [
    np.array([0.1, 0.5, 0.9, 0.999, 1e-4, 0.3]),
    np.array([[0.2, 0.7], [0.5, 0.01]]),
])
def test_binary_cross_entropy_matches_pytorch(probs):
    target = RNG.uniform(size=probs.shape)  # soft targets are allowed, as in PyTorch
    (ours, theirs), (g, tg) = against_torch(
        nn.binary_cross_entropy, lambda F, x, t: F.binary_cross_entropy(x, t), probs, target)
    assert ours == pytest.approx(theirs, rel=1e-12)
    np.testing.assert_allclose(g, tg, rtol=1e-10)


def test_binary_cross_entropy_clamps_the_log_at_minus_100_like_pytorch():
    torch = pytest.importorskip("torch")
    probs, target = np.array([0.0, 1.0, 0.0, 1.0]), np.array([1.0, 0.0, 0.0, 1.0])
    ours = nn.binary_cross_entropy(t64(probs), target).item()
    theirs = torch.nn.functional.binary_cross_entropy(torch.tensor(probs),
                                                      torch.tensor(target)).item()
    assert ours == theirs == 50.0  # two terms of 100 (clamped), two of 0, over 4
    x = t64(probs)
    nn.binary_cross_entropy(x, target).backward()
    assert np.all(np.isfinite(x.grad))


def test_binary_cross_entropy_refuses_values_outside_0_1_and_shape_mismatch():
    with pytest.raises(ValueError, match=r"probs must be in \[0, 1\] .* from -0.5 to 0.5"):
        nn.binary_cross_entropy(Tensor([-0.5, 0.5]), [0.0, 1.0])
    with pytest.raises(ValueError, match=r"probs has shape \(2, 1\) but target has shape \(2,\)"):
        nn.binary_cross_entropy(Tensor([[0.5], [0.5]]), [0.0, 1.0])


@pytest.mark.parametrize("logits", [
    RNG.normal(size=(5, 3)) * 4,
    np.array([0.0, -0.0, 0.0, 1e-8]),
    np.array([100.0, -100.0, 800.0, -800.0, 40.0, -40.0]),
])
def test_bce_with_logits_matches_pytorch_and_is_stable(logits):
    target = RNG.integers(0, 2, size=logits.shape).astype(F64)
    (ours, theirs), (g, tg) = against_torch(
        nn.binary_cross_entropy_with_logits,
        lambda F, x, t: F.binary_cross_entropy_with_logits(x, t), logits, target)
    assert np.isfinite(ours)
    assert ours == pytest.approx(theirs, rel=1e-12, abs=1e-300)
    np.testing.assert_allclose(g, tg, rtol=1e-12, atol=1e-300)


def test_bce_with_logits_gradient_at_zero_is_half_minus_target():
    x = t64([0.0, 0.0])
    nn.binary_cross_entropy_with_logits(x, [0.0, 1.0]).backward()
    np.testing.assert_allclose(x.grad, [0.25, -0.25])  # (sigmoid(0) - t) / N
    gradcheck(lambda x: nn.binary_cross_entropy_with_logits(x, [1.0, 0.0, 1.0]),
              [t64([0.3, -2.0, 0.0])])


def test_l1_loss_matches_pytorch_and_checks_shapes():
    pred, target = RNG.normal(size=(4, 3)), RNG.normal(size=(4, 3))
    pred[0, 0] = target[0, 0]  # a zero difference: the gradient there is 0, as in PyTorch
    (ours, theirs), (g, tg) = against_torch(nn.l1_loss, lambda F, x, t: F.l1_loss(x, t),
                                            pred, target)
    assert ours == pytest.approx(theirs, rel=1e-12)
    np.testing.assert_allclose(g, tg, rtol=1e-12)
    assert g[0, 0] == 0
    with pytest.raises(ValueError, match=r"l1_loss: input has shape \(2, 1\) but target has "
                                         r"shape \(2,\)"):
        nn.l1_loss(Tensor([[1.0], [2.0]]), [1.0, 2.0])
    with pytest.raises(TypeError, match="l1_loss: input must be a Tensor, got list"):
        nn.l1_loss([1.0], [1.0])
